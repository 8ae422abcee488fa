import { asString, isClusterScoped, kindOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** Hygiene: every namespaced object lives in a dedicated namespace, so quotas and policies apply to it. */
export const defaultNamespace = resourceRule({
    id: "default-namespace",
    findings: ["F12", "F13"],
    description: "Namespaced objects set metadata.namespace to a dedicated namespace, not 'default'.",
    defaultLevel: "advisory",
    config: NO_CONFIG,
    check(obj) {
        const kind = kindOf(obj);
        if (kind === "" || isClusterScoped(kind) || kind === "List") {
            return [];
        }
        const namespace = asString(obj.metadata?.namespace);
        if (namespace === undefined || namespace === "") {
            return ["set metadata.namespace to the platform's namespace (unset means 'default')"];
        }
        return namespace === "default" ? ["move the object out of namespace 'default' into the platform's namespace"] : [];
    },
});
