import { labelsOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

export const ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

/** F22: the API server itself rejects pods that break the restricted Pod Security Standard. */
export const namespacePodSecurity = resourceRule({
  id: "namespace-pod-security",
  findings: ["F22"],
  description:
    "Namespaces label pod-security.kubernetes.io/enforce: restricted (baseline/privileged only with an exemption and its reason).",
  fix: "label `pod-security.kubernetes.io/enforce: restricted` (or exempt with a reason)",
  defaultLevel: "mandatory",
  kinds: new Set(["Namespace"]),
  config: NO_CONFIG,
  check(obj) {
    const level = labelsOf(obj)[ENFORCE_LABEL];
    if (level === "restricted") {
      return [];
    }
    return level === undefined
      ? [`add label ${ENFORCE_LABEL}: restricted`]
      : [
          `label ${ENFORCE_LABEL} is '${level}': set it to restricted, or add annotation exempt.keel.dev/namespace-pod-security with the reason`,
        ];
  },
});
