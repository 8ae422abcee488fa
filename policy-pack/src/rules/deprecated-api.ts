import { asString, kindOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** apiVersion -> replacement, per kind where it differs ("*" = any kind). Versions removed by Kubernetes 1.16-1.29. */
const REMOVED: Record<string, Record<string, string>> = {
  "extensions/v1beta1": {
    Ingress: "networking.k8s.io/v1",
    NetworkPolicy: "networking.k8s.io/v1",
    PodSecurityPolicy: "(removed: use Pod Security admission)",
    "*": "apps/v1",
  },
  "apps/v1beta1": { "*": "apps/v1" },
  "apps/v1beta2": { "*": "apps/v1" },
  "policy/v1beta1": {
    PodDisruptionBudget: "policy/v1",
    PodSecurityPolicy: "(removed: use Pod Security admission)",
    "*": "policy/v1",
  },
  "batch/v1beta1": { "*": "batch/v1" },
  "batch/v2alpha1": { "*": "batch/v1" },
  "autoscaling/v2beta1": { "*": "autoscaling/v2" },
  "autoscaling/v2beta2": { "*": "autoscaling/v2" },
  "networking.k8s.io/v1beta1": { "*": "networking.k8s.io/v1" },
  "rbac.authorization.k8s.io/v1beta1": { "*": "rbac.authorization.k8s.io/v1" },
  "rbac.authorization.k8s.io/v1alpha1": { "*": "rbac.authorization.k8s.io/v1" },
  "storage.k8s.io/v1beta1": { CSIStorageCapacity: "storage.k8s.io/v1", "*": "storage.k8s.io/v1" },
  "scheduling.k8s.io/v1beta1": { "*": "scheduling.k8s.io/v1" },
  "scheduling.k8s.io/v1alpha1": { "*": "scheduling.k8s.io/v1" },
  "admissionregistration.k8s.io/v1beta1": { "*": "admissionregistration.k8s.io/v1" },
  "apiextensions.k8s.io/v1beta1": { "*": "apiextensions.k8s.io/v1" },
  "apiregistration.k8s.io/v1beta1": { "*": "apiregistration.k8s.io/v1" },
  "certificates.k8s.io/v1beta1": { "*": "certificates.k8s.io/v1" },
  "coordination.k8s.io/v1beta1": { "*": "coordination.k8s.io/v1" },
  "discovery.k8s.io/v1beta1": { "*": "discovery.k8s.io/v1" },
  "events.k8s.io/v1beta1": { "*": "events.k8s.io/v1" },
  "node.k8s.io/v1beta1": { "*": "node.k8s.io/v1" },
  "flowcontrol.apiserver.k8s.io/v1beta1": { "*": "flowcontrol.apiserver.k8s.io/v1" },
  "flowcontrol.apiserver.k8s.io/v1beta2": { "*": "flowcontrol.apiserver.k8s.io/v1" },
  "flowcontrol.apiserver.k8s.io/v1beta3": { "*": "flowcontrol.apiserver.k8s.io/v1" },
  "cert-manager.io/v1alpha2": { "*": "cert-manager.io/v1" },
  "cert-manager.io/v1alpha3": { "*": "cert-manager.io/v1" },
  "cert-manager.io/v1beta1": { "*": "cert-manager.io/v1" },
};

/** Objects in API versions the API server no longer serves fail to apply. */
export const deprecatedApi = resourceRule({
  id: "deprecated-api",
  findings: [],
  description:
    "Objects use served API versions (no extensions/v1beta1, policy/v1beta1 PDB, batch/v1beta1 CronJob, autoscaling/v2beta*, ...).",
  fix: "use the served apiVersion named in the message",
  defaultLevel: "mandatory",
  config: NO_CONFIG,
  check(obj) {
    const apiVersion = asString(obj.apiVersion) ?? "";
    const replacements = REMOVED[apiVersion];
    if (!replacements) {
      return [];
    }
    const kind = kindOf(obj);
    const replacement = replacements[kind] ?? replacements["*"]!;
    return replacement.startsWith("(")
      ? [`${kind} in ${apiVersion} is no longer served ${replacement}`]
      : [`${kind} uses removed API ${apiVersion}: change apiVersion to ${replacement}`];
  },
});
