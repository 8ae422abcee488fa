import {
  Container,
  POD_WORKLOAD_KINDS,
  asString,
  describeContainer,
  perContainer,
  podSpecOf,
} from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

const ALLOWED = new Set(["RuntimeDefault", "Localhost"]);

/** F22 (restricted profile): syscalls are filtered by the runtime's default seccomp profile. */
export const seccompProfile = resourceRule({
  id: "seccomp-profile",
  findings: ["F22"],
  description:
    "Pods (or every container) set seccompProfile.type RuntimeDefault or Localhost; never Unconfined.",
  fix: "`seccompProfile.type: RuntimeDefault` on the pod",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    const pod = podSpecOf(obj);
    const podType = asString(pod?.securityContext?.seccompProfile?.type);
    const containers: Array<{ container: Container; init: boolean; type: string | undefined }> = [];
    // Collect each container's effective type; a container whose type is unknown at preview becomes a note.
    const notes = perContainer(pod, (container, init) => {
      containers.push({
        container,
        init,
        type: asString(container.securityContext?.seccompProfile?.type) ?? podType,
      });
      return [] as string[];
    });
    const messages: string[] = [];
    const unset = containers.filter((c) => c.type === undefined);
    if (unset.length > 0 && unset.length === containers.length && notes.length === 0) {
      messages.push("set spec.securityContext.seccompProfile.type: RuntimeDefault on the pod");
    } else {
      for (const { container, init } of unset) {
        messages.push(
          `set securityContext.seccompProfile.type: RuntimeDefault on ${describeContainer(container, init)} (or on the pod)`,
        );
      }
    }
    for (const { container, init, type } of containers) {
      if (type !== undefined && !ALLOWED.has(type)) {
        messages.push(
          `${describeContainer(container, init)} uses seccomp profile '${type}': use RuntimeDefault`,
        );
      }
    }
    return [...messages, ...notes];
  },
});
