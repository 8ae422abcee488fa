import { POD_WORKLOAD_KINDS, podSpecOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";
import { guarded } from "../core/unknown";

/** F22/F23: host network, PID and IPC namespaces break pod isolation; coturn-like needs are exemptions with a reason. */
export const hostNamespaces = resourceRule({
  id: "host-namespaces",
  findings: ["F22", "F23"],
  description: "Pods do not share the host's network, PID or IPC namespace (hostNetwork/hostPID/hostIPC).",
  fix: "drop `hostNetwork`/`hostPID`/`hostIPC`, or exempt with a reason",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    const pod = podSpecOf(obj);
    const outcomes = (["hostNetwork", "hostPID", "hostIPC"] as const).flatMap((field) =>
      guarded(() => (pod?.[field] === true ? [field] : [])),
    );
    const used = outcomes.filter((o): o is "hostNetwork" | "hostPID" | "hostIPC" => typeof o === "string");
    const unknown = outcomes.filter((o) => typeof o !== "string");
    return used.length === 0
      ? unknown
      : [
          `remove ${used.map((f) => `${f}: true`).join(", ")} from the pod spec ` +
            `(expose ports through a Service instead, or add annotation exempt.keel.dev/host-namespaces with the reason)`,
          ...unknown,
        ];
  },
});
