import { asString, isClusterScoped, kindOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** Hygiene: every namespaced object lives in a dedicated namespace, so quotas and policies apply to it. */
export const defaultNamespace = resourceRule({
    id: "default-namespace",
    findings: ["F12", "F13"],
    description: "Namespaced objects set metadata.namespace to a dedicated namespace, not 'default' (cluster-scoped kinds, CRDs declared `scope: Cluster` included, are skipped).",
    fix: "set `metadata.namespace`",
    defaultLevel: "advisory",
    config: NO_CONFIG,
    check(obj, _settings, ctx) {
        const kind = kindOf(obj);
        if (kind === "" || kind === "List") {
            return [];
        }
        const clusterScoped = ctx.isClusterScoped ? ctx.isClusterScoped(obj) : isClusterScoped(kind, asString(obj.apiVersion));
        if (clusterScoped) {
            return [];
        }
        const namespace = asString(obj.metadata?.namespace);
        if (namespace === undefined || namespace === "") {
            return ["set metadata.namespace to the platform's namespace (unset means 'default')"];
        }
        return namespace === "default" ? ["move the object out of namespace 'default' into the platform's namespace"] : [];
    },
});
