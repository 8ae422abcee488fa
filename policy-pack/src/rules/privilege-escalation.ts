import { POD_WORKLOAD_KINDS, describeContainer, perContainer, podSpecOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** F22 (restricted profile): setuid binaries must not gain privileges. */
export const privilegeEscalation = resourceRule({
  id: "privilege-escalation",
  findings: ["F22"],
  description: "Every container sets securityContext.allowPrivilegeEscalation: false.",
  fix: "`allowPrivilegeEscalation: false`",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    return perContainer(podSpecOf(obj), (container, init) =>
      container.securityContext?.allowPrivilegeEscalation === false
        ? []
        : [`set securityContext.allowPrivilegeEscalation: false on ${describeContainer(container, init)}`],
    );
  },
});
