import { Probe, asNumber } from "./k8s";

/** Kubernetes probe defaults when a field is absent. */
export const PROBE_DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, failureThreshold: 3 } as const;

export interface ProbeTiming {
  initialDelay: number;
  period: number;
  failureThreshold: number;
}

export function probeTiming(probe: Probe): ProbeTiming {
  return {
    initialDelay: asNumber(probe.initialDelaySeconds) ?? PROBE_DEFAULTS.initialDelaySeconds,
    period: asNumber(probe.periodSeconds) ?? PROBE_DEFAULTS.periodSeconds,
    failureThreshold: asNumber(probe.failureThreshold) ?? PROBE_DEFAULTS.failureThreshold,
  };
}

/** Seconds a probe allows before it gives up: initialDelaySeconds + periodSeconds × failureThreshold. */
export function probeBudget(t: ProbeTiming): number {
  return t.initialDelay + t.period * t.failureThreshold;
}

export function isProbe(value: unknown): value is Probe {
  return typeof value === "object" && value !== null;
}
