import { POD_WORKLOAD_KINDS, describeContainer, perContainer, podSpecOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** Hardening: an immutable root filesystem; writable paths come from volumes. */
export const readOnlyRootFilesystem = resourceRule({
  id: "read-only-root-filesystem",
  findings: [],
  description:
    "Every container sets securityContext.readOnlyRootFilesystem: true (writable paths are volumes).",
  fix: "`readOnlyRootFilesystem: true` + emptyDir for writable paths",
  defaultLevel: "advisory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    return perContainer(podSpecOf(obj), (container, init) =>
      container.securityContext?.readOnlyRootFilesystem === true
        ? []
        : [
            `set securityContext.readOnlyRootFilesystem: true on ${describeContainer(container, init)} and mount an emptyDir where it writes`,
          ],
    );
  },
});
