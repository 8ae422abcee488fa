import { POD_WORKLOAD_KINDS, asNumber, describeContainer, perContainer, podSpecOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** F22: containers, init containers included, run as a non-root user. */
export const runAsNonRoot = resourceRule({
  id: "run-as-non-root",
  findings: ["F7", "F22"],
  description: "Every container runs as non-root: runAsNonRoot: true (pod or container) and no runAsUser: 0.",
  fix: "`runAsNonRoot: true`, non-zero `runAsUser`",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    const pod = podSpecOf(obj);
    const podNonRoot = pod?.securityContext?.runAsNonRoot === true;
    const podUser = asNumber(pod?.securityContext?.runAsUser);
    return perContainer(pod, (container, init) => {
      const sc = container.securityContext;
      const user = asNumber(sc?.runAsUser) ?? podUser;
      const nonRoot = sc?.runAsNonRoot ?? podNonRoot;
      const name = describeContainer(container, init);
      if (user === 0) {
        return [`${name} runs as root (runAsUser: 0): run it as a non-zero UID and set runAsNonRoot: true`];
      }
      return nonRoot === true
        ? []
        : [`set securityContext.runAsNonRoot: true (pod or container) for ${name}`];
    });
  },
});
