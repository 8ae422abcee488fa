import { LONG_RUNNING_KINDS, describeContainer, isRecord, perMainContainer, podSpecOf } from "../core/k8s";
import { probeTiming } from "../core/probes";
import { resourceRule } from "../core/rule";

interface Settings {
  maxSeconds: number;
}

/**
 * F3: a dead container is restarted quickly. Detection time is initialDelaySeconds + periodSeconds ×
 * failureThreshold; with a startupProbe the liveness probe only starts after boot, so its delay is not counted.
 */
export const livenessDetectionTime = resourceRule<Settings>({
  id: "liveness-detection-time",
  findings: ["F3"],
  description:
    "A livenessProbe detects a failure within maxSeconds (initialDelaySeconds + periodSeconds × failureThreshold; K8s defaults 0/10/3).",
  fix: "startupProbe for boot; liveness `initialDelaySeconds: 0`, `periodSeconds × failureThreshold ≤ 60`",
  defaultLevel: "mandatory",
  kinds: LONG_RUNNING_KINDS,
  config: {
    schema: {
      maxSeconds: {
        type: "number",
        minimum: 1,
        description: "Longest acceptable failure-detection time in seconds (default 60).",
      },
    },
    defaults: { maxSeconds: 60 },
  },
  check(obj, settings) {
    return perMainContainer(podSpecOf(obj), (container) => {
      if (!isRecord(container.livenessProbe)) {
        return [];
      }
      const t = probeTiming(container.livenessProbe);
      const hasStartup = isRecord(container.startupProbe);
      const delay = hasStartup ? 0 : t.initialDelay;
      const detection = delay + t.period * t.failureThreshold;
      if (detection <= settings.maxSeconds) {
        return [];
      }
      const formula = hasStartup
        ? `${t.period} × ${t.failureThreshold}, after the startupProbe`
        : `${t.initialDelay} + ${t.period} × ${t.failureThreshold}`;
      const advice =
        hasStartup || t.initialDelay === 0
          ? "lower periodSeconds and failureThreshold (e.g. 10 × 3)"
          : "move the boot wait into a startupProbe, then set livenessProbe initialDelaySeconds: 0 and periodSeconds × failureThreshold ≤ " +
            settings.maxSeconds +
            " (e.g. 10 × 3)";
      return [
        `livenessProbe of ${describeContainer(container, false)} detects a failure only after ${detection} s (${formula}) > ${settings.maxSeconds} s: ${advice}`,
      ];
    });
  },
});
