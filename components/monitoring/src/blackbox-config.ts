import { ValidationError, stableYaml } from "@keel/core";

/** Where the CA the probes trust is mounted (the stack's private CA in self-signed mode). */
export const probeCaDir = "/etc/blackbox/ca";

/** `https://host[:port][/path]` → `host:port`, the address the TLS probe connects to. */
export function tlsProbeTarget(endpoint: string): string {
  const m = /^https:\/\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::(\d{1,5}))?(\/\S*)?$/i.exec(endpoint);
  if (!m) throw new ValidationError("certificateEndpoints", `"${endpoint}" is not an https:// URL`);
  return `${m[1].toLowerCase()}:${m[3] ?? "443"}`;
}

export function validateCertificateEndpoints(endpoints: readonly string[] | undefined): ValidationError[] {
  const problems: ValidationError[] = [];
  for (const [i, e] of (endpoints ?? []).entries()) {
    try {
      const port = Number(tlsProbeTarget(e).split(":").pop());
      if (port < 1 || port > 65535) {
        problems.push(new ValidationError(`certificateEndpoints[${i}]`, `port ${port} is out of range`));
      }
    } catch {
      problems.push(new ValidationError(`certificateEndpoints[${i}]`, `"${e}" must be an https:// URL`));
    }
  }
  return problems;
}

/**
 * blackbox.yml: one module, a TCP connection with a TLS handshake that verifies the chain (against the
 * given CA when there is one) and reports `probe_ssl_earliest_cert_expiry`. The server name is the target's
 * host, so SNI picks the right certificate behind a shared ingress.
 */
export function renderBlackboxConfig(withCa: boolean): string {
  return stableYaml({
    modules: {
      tls_expiry: {
        prober: "tcp",
        timeout: "10s",
        tcp: {
          tls: true,
          preferred_ip_protocol: "ip4",
          ...(withCa ? { tls_config: { ca_file: `${probeCaDir}/ca.crt` } } : {}),
        },
      },
    },
  });
}
