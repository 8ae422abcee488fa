import { LONG_RUNNING_KINDS, describeContainer, isRecord, perMainContainer, podSpecOf } from "../core/k8s";
import { Violation, resourceRule } from "../core/rule";
import { selectedByService } from "../core/services";
import { unknownPart } from "../core/unknown";

interface Settings {
  requireLiveness: boolean;
}

/**
 * F2: long-running containers say when they are stuck, and when they are ready if a Service sends them traffic.
 * Readiness only takes pods out of Service endpoints, so a pod no Service selects (a queue worker) needs none.
 */
export const containerProbes = resourceRule<Settings>({
  id: "container-probes",
  findings: ["F2"],
  description:
    "Every container of a long-running workload has a livenessProbe, and a readinessProbe when a Service of its namespace selects its pods.",
  fix: "add `livenessProbe`, and `readinessProbe` when a Service selects the pods",
  defaultLevel: "mandatory",
  kinds: LONG_RUNNING_KINDS,
  config: {
    schema: {
      requireLiveness: { type: "boolean", description: "Also require a livenessProbe (default true)." },
    },
    defaults: { requireLiveness: true },
  },
  check(obj, settings, ctx) {
    // Without the stack (a caller with one object), assume a Service selects the pods.
    const selected = ctx.stack ? selectedByService(ctx.stack, obj) : true;
    return perMainContainer(podSpecOf(obj), (container) => {
      const missing: string[] = [];
      const notes: Violation[] = [];
      if (!isRecord(container.readinessProbe)) {
        if (selected === true) {
          missing.push("readinessProbe");
        } else if (selected !== false) {
          notes.push(unknownPart(selected));
        }
      }
      if (settings.requireLiveness && !isRecord(container.livenessProbe)) {
        missing.push("livenessProbe");
      }
      const message =
        missing.length > 0
          ? [
              `add ${missing.join(" and ")} to ${describeContainer(container, false)} (plus a startupProbe when it takes long to start)`,
            ]
          : [];
      return [...message, ...notes];
    });
  },
});
