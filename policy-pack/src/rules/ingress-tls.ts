import { asArray, asString, specOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";
import { perElement } from "../core/unknown";

/** Traffic from outside is encrypted: every host of an Ingress is covered by a TLS entry. */
export const ingressTls = resourceRule({
  id: "ingress-tls",
  findings: [],
  description: "Every Ingress host is listed under spec.tls (with a secretName).",
  fix: "list every host under `spec.tls[].hosts` with a `secretName`",
  defaultLevel: "mandatory",
  kinds: new Set(["Ingress"]),
  config: NO_CONFIG,
  check(obj) {
    const spec = specOf(obj);
    const covered = new Set<string>();
    const hosts: string[] = [];
    let tlsEntries = 0;
    // Hosts unknown at preview become notes; the hosts that are known are still checked.
    const tlsNotes = perElement<{ hosts?: unknown } | undefined>(
      () => spec.tls,
      (t) => {
        tlsEntries++;
        asArray<string>(t?.hosts).forEach((h) => covered.add(h));
        return [] as string[];
      },
    );
    const hostNotes = perElement<{ host?: unknown } | undefined>(
      () => spec.rules,
      (r) => {
        const host = asString(r?.host);
        if (host) {
          hosts.push(host);
        }
        return [] as string[];
      },
    );
    if (tlsEntries === 0 && tlsNotes.length === 0) {
      return [
        `add spec.tls with a secretName covering ${hosts.length > 0 ? hosts.join(", ") : "the Ingress hosts"}`,
        ...hostNotes,
      ];
    }
    const uncovered =
      tlsNotes.length > 0
        ? []
        : hosts.filter(
            (h) => !covered.has(h) && ![...covered].some((c) => c.startsWith("*.") && h.endsWith(c.slice(1))),
          );
    return [
      ...(uncovered.length > 0 ? [`add host(s) ${uncovered.join(", ")} to spec.tls[].hosts`] : []),
      ...tlsNotes,
      ...hostNotes,
    ];
  },
});
