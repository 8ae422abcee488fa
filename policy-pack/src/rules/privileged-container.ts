import { POD_WORKLOAD_KINDS, describeContainer, perContainer, podSpecOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** F22: privileged containers (typically sysctl init containers) own the node. */
export const privilegedContainer = resourceRule({
  id: "privileged-container",
  findings: ["F22"],
  description: "No container or init container runs privileged.",
  fix: "remove `privileged`; tune sysctls on the nodes",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    return perContainer(podSpecOf(obj), (container, init) =>
      container.securityContext?.privileged !== true
        ? []
        : [
            `${describeContainer(container, init)} runs privileged: remove securityContext.privileged` +
              (init
                ? " (set kernel parameters such as vm.max_map_count on the nodes or with a node tuning DaemonSet instead)"
                : ""),
          ],
    );
  },
});
