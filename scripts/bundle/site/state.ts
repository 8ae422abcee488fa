// Reading a `pulumi stack export` document (version 3). Runs at the site too: Node builtins only.

export interface PluginRef {
  name: string;
  version: string;
}

export interface StateSummary {
  project?: string;
  stack?: string;
  /** Resources other than the stack itself and its providers. */
  resources: number;
  time?: string;
  cliVersion?: string;
  /** The passphrase secrets provider's salt (the stack config's `encryptionsalt`). */
  salt?: string;
  /** The `caCertificate` stack output when it is plain text (self-signed TLS). */
  caCertificate?: string;
  /** Resource providers the state was written with (the engine needs these exact versions). */
  providers: PluginRef[];
  pendingOperations: number;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Summarizes a stack export; throws when the document is not one. */
export function summarizeState(doc: Json): StateSummary {
  if (!doc || typeof doc !== "object" || doc.version !== 3 || typeof doc.deployment !== "object") {
    throw new Error("not a `pulumi stack export` document (version 3)");
  }
  const d = doc.deployment as Json;
  const resources: Json[] = Array.isArray(d.resources) ? d.resources : [];
  const summary: StateSummary = {
    resources: 0,
    time: d.manifest?.time,
    cliVersion: d.manifest?.version,
    providers: [],
    pendingOperations: Array.isArray(d.pending_operations) ? d.pending_operations.length : 0,
  };
  if (d.secrets_providers?.type === "passphrase" && typeof d.secrets_providers.state?.salt === "string") {
    summary.salt = d.secrets_providers.state.salt;
  }
  const seen = new Set<string>();
  for (const r of resources) {
    const type = String(r.type ?? "");
    if (type === "pulumi:pulumi:Stack") {
      const m = /^urn:pulumi:([^:]+)::([^:]+)::/.exec(String(r.urn ?? ""));
      if (m) {
        summary.stack = m[1];
        summary.project = m[2];
      }
      const ca = r.outputs?.caCertificate;
      if (typeof ca === "string" && ca.includes("BEGIN CERTIFICATE")) summary.caCertificate = ca;
    } else if (type.startsWith("pulumi:providers:")) {
      const name = type.slice("pulumi:providers:".length);
      const version = r.inputs?.version ?? r.inputs?.__internal?.version ?? r.outputs?.version;
      if (typeof version === "string" && !seen.has(`${name}@${version}`)) {
        seen.add(`${name}@${version}`);
        summary.providers.push({ name, version });
      }
    } else {
      summary.resources++;
    }
  }
  return summary;
}

/**
 * Problems that make a state export unusable for `project`/`stack` (empty when it fits). Interrupted operations
 * are not one: the deploy script reconciles them with `pulumi refresh --clear-pending-creates`.
 */
export function stateProblems(s: StateSummary, project: string, stack: string): string[] {
  const problems: string[] = [];
  if (s.project !== undefined && s.project !== project) {
    problems.push(`the state belongs to project "${s.project}", not "${project}"`);
  }
  if (s.stack !== undefined && s.stack !== stack) {
    problems.push(`the state belongs to stack "${s.stack}", not "${stack}"`);
  }
  return problems;
}

/**
 * Whether state `a` was written after `b` ("newer"), at the same time ("same") or before ("older"), by the
 * checkpoint times (RFC 3339 with nanoseconds; compared to the nanosecond). Unknown times compare as "same".
 */
export function compareStates(a: StateSummary, b: StateSummary): "newer" | "same" | "older" {
  const ns = (t?: string): bigint | undefined => {
    const m = t && /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(t);
    if (!m) return undefined;
    const ms = Date.parse(`${m[1]}${m[3]}`);
    if (Number.isNaN(ms)) return undefined;
    return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
  };
  const x = ns(a.time);
  const y = ns(b.time);
  if (x === undefined || y === undefined || x === y) return "same";
  return x > y ? "newer" : "older";
}
