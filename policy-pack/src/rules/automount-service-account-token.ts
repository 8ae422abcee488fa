import { POD_WORKLOAD_KINDS, podSpecOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** Hardening: pods that do not call the Kubernetes API carry no API token. */
export const automountServiceAccountToken = resourceRule({
  id: "automount-service-account-token",
  findings: [],
  description:
    "Pod specs set automountServiceAccountToken: false (set true only where the pod calls the API).",
  fix: "`automountServiceAccountToken: false` in the pod spec",
  defaultLevel: "advisory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    const pod = podSpecOf(obj);
    if (!pod || pod.automountServiceAccountToken !== undefined) {
      return [];
    }
    return [
      "set spec.automountServiceAccountToken: false in the pod spec (true only if the pod calls the Kubernetes API)",
    ];
  },
});
