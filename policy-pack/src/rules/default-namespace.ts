import { apiGroupOf, asArray, asString, isClusterScoped, isCustomGroup, kindOf } from "../core/k8s";
import { resourceRule } from "../core/rule";

interface Settings {
  clusterScopedKinds: string[];
}

/** Hygiene: every namespaced object lives in a dedicated namespace, so quotas and policies apply to it. */
export const defaultNamespace = resourceRule<Settings>({
  id: "default-namespace",
  findings: ["F12", "F13"],
  description:
    "Namespaced objects set metadata.namespace to a dedicated namespace, not 'default' (cluster-scoped kinds, CRDs declared `scope: Cluster` " +
    "and kinds listed in clusterScopedKinds included, are skipped). A custom kind without a namespace whose scope the pack cannot tell is only advisory.",
  fix: "set `metadata.namespace`",
  defaultLevel: "advisory",
  config: {
    schema: {
      clusterScopedKinds: {
        type: "array",
        items: { type: "string" },
        description:
          "Custom kinds that are cluster-scoped, as Kind.group (e.g. Dataplane.stunner.l7mp.io) or Kind, when their CRD is not among the audited objects.",
      },
    },
    defaults: { clusterScopedKinds: [] },
  },
  check(obj, settings, ctx) {
    const kind = kindOf(obj);
    if (kind === "" || kind === "List") {
      return [];
    }
    const apiVersion = asString(obj.apiVersion);
    const clusterScoped = ctx.isClusterScoped ? ctx.isClusterScoped(obj) : isClusterScoped(kind, apiVersion);
    const group = apiGroupOf(apiVersion);
    if (clusterScoped || listedClusterScoped(settings.clusterScopedKinds, kind, group)) {
      return [];
    }
    const namespace = asString(obj.metadata?.namespace);
    if (namespace === undefined || namespace === "") {
      if (isCustomGroup(group)) {
        // No CRD says whether this kind is namespaced: a cluster-scoped kind rightly has no namespace.
        return [
          {
            advisoryOnly: true,
            message:
              `set metadata.namespace to the platform's namespace (unset means 'default'), unless ${kind} (${group}) is cluster-scoped: ` +
              `then add its CustomResourceDefinition to the audited manifests, or list '${kind}.${group}' in default-namespace's clusterScopedKinds setting`,
          },
        ];
      }
      return ["set metadata.namespace to the platform's namespace (unset means 'default')"];
    }
    return namespace === "default"
      ? ["move the object out of namespace 'default' into the platform's namespace"]
      : [];
  },
});

function listedClusterScoped(listed: unknown, kind: string, group: string): boolean {
  return asArray<unknown>(listed).some((entry) => entry === kind || entry === `${kind}.${group}`);
}
