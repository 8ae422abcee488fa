import { asArray, asString, specOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** Traffic from outside is encrypted: every host of an Ingress is covered by a TLS entry. */
export const ingressTls = resourceRule({
    id: "ingress-tls",
    findings: [],
    description: "Every Ingress host is listed under spec.tls (with a secretName).",
    defaultLevel: "mandatory",
    kinds: new Set(["Ingress"]),
    config: NO_CONFIG,
    check(obj) {
        const spec = specOf(obj);
        const tls = asArray<{ hosts?: string[]; secretName?: string }>(spec.tls);
        const covered = new Set(tls.flatMap(t => asArray<string>(t?.hosts)));
        const hosts = asArray<{ host?: string }>(spec.rules).map(r => asString(r?.host)).filter((h): h is string => !!h);
        if (tls.length === 0) {
            return [`add spec.tls with a secretName covering ${hosts.length > 0 ? hosts.join(", ") : "the Ingress hosts"}`];
        }
        const uncovered = hosts.filter(h => !covered.has(h) && ![...covered].some(c => c.startsWith("*.") && h.endsWith(c.slice(1))));
        return uncovered.length > 0 ? [`add host(s) ${uncovered.join(", ")} to spec.tls[].hosts`] : [];
    },
});
