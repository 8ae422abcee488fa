import { POD_WORKLOAD_KINDS, isRecord, podSpecOf, Volume } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";
import { perElement } from "../core/unknown";

/** F22: hostPath volumes expose the node's filesystem. */
export const hostPath = resourceRule({
  id: "host-path",
  findings: ["F22"],
  description: "Pods mount no hostPath volumes.",
  fix: "PVC, configMap or emptyDir instead",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    return perElement<Volume | undefined>(
      () => podSpecOf(obj)?.volumes,
      (v) =>
        isRecord(v) && isRecord(v.hostPath)
          ? [
              `replace hostPath volume '${v.name ?? "?"}' (${v.hostPath?.path ?? "?"}) with a PersistentVolumeClaim, configMap or emptyDir`,
            ]
          : [],
    );
  },
});
