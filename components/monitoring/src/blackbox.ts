import { Workload, standardProbes } from "@keel/core";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { probeCaDir, renderBlackboxConfig } from "./blackbox-config";
import { metricsAnnotations } from "./contract";
import { BuildScope, BuiltPart, monitoringApps, monitoringPorts, partOf, peerOf } from "./parts";

/** What the certificate probes reach: `host:port` targets, and the CA they verify against (else the system roots). */
export interface CertificateProbes {
  targets: string[];
  caCertificate?: pulumi.Input<string>;
}

function probeCa(scope: BuildScope, caCertificate: pulumi.Input<string>): k8s.core.v1.ConfigMap {
  return new k8s.core.v1.ConfigMap(
    `${scope.name}-probe-ca`,
    {
      metadata: {
        name: "blackbox-exporter-ca",
        namespace: scope.namespace,
        labels: { "app.kubernetes.io/managed-by": "keel" },
      },
      data: { "ca.crt": caCertificate },
    },
    scope.inNs,
  );
}

/**
 * The blackbox exporter: one module, a verified TLS handshake (certificate expiry). It may reach the probed
 * ports in the ingress controller's namespace and on any address; Prometheus (built) drives the probes.
 */
export function buildBlackboxExporter(
  scope: BuildScope,
  prometheus: BuiltPart,
  probes: CertificateProbes,
): BuiltPart {
  const { name, plan, namespace } = scope;
  const port = monitoringPorts.blackboxExporter;
  const ca = probes.caCertificate ? probeCa(scope, probes.caCertificate) : undefined;
  const probePorts = [...new Set(probes.targets.map((t) => Number(t.split(":").pop())))].sort(
    (a, b) => a - b,
  );
  const workload = new Workload(
    `${name}-blackbox-exporter`,
    {
      namespace,
      appName: monitoringApps.blackboxExporter,
      partOf,
      image: plan.site.images.image("blackboxExporter"),
      args: ["--config.file=/etc/blackbox/config/blackbox.yml", `--web.listen-address=:${port}`],
      resources: plan.sizes.blackboxExporter,
      probes: standardProbes({ http: { path: "/-/healthy", port } }, 10),
      ports: [{ name: "http", port }],
      runAsUser: 65534,
      configFiles: [
        {
          name: "config",
          mountPath: "/etc/blackbox/config",
          files: { "blackbox.yml": renderBlackboxConfig(ca !== undefined) },
        },
        ...(ca ? [{ name: "ca", mountPath: probeCaDir, configMapName: ca.metadata.name }] : []),
      ],
      podAnnotations: metricsAnnotations(port),
      allowFrom: [peerOf(prometheus)],
      egressTo:
        probePorts.length > 0
          ? [
              { namespace: plan.site.ingress.controllerNamespace, ports: probePorts },
              { cidr: "0.0.0.0/0", ports: probePorts },
            ]
          : [],
    },
    scope.inNs,
  );
  return { workload, port };
}
