import { ValidationError } from "./errors";

/** How a probe checks the container; exactly one of http, tcp or exec. */
export interface ProbeCheck {
  http?: { path: string; port: number | string; scheme?: "HTTP" | "HTTPS" };
  tcp?: { port: number | string };
  exec?: { command: string[] };
}

/** A probe with explicit timing (Kubernetes defaults apply when a field is omitted). */
export interface ProbeSpec extends ProbeCheck {
  /** @default 0 */
  initialDelaySeconds?: number;
  /** @default 10 */
  periodSeconds?: number;
  /** @default 3 */
  timeoutSeconds?: number;
  /** @default 3 */
  failureThreshold?: number;
}

/** All three probes are required: a missing probe is an audit finding (F2). */
export interface Probes {
  /** Holds liveness and readiness back until the app has booted; its budget must cover `bootSeconds`. */
  startup: ProbeSpec;
  readiness: ProbeSpec;
  liveness: ProbeSpec;
}

/** Seconds the probe needs to declare failure: initialDelay + period × failureThreshold. */
export function detectionSeconds(p: ProbeSpec): number {
  return (p.initialDelaySeconds ?? 0) + (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3);
}

/** Default ceiling for liveness failure detection (F3). */
export const defaultMaxLivenessDetectionSeconds = 60;

/** Validates probe presence, shape and timing. */
export function validateProbes(
  field: string,
  probes: Probes | undefined,
  opts: { bootSeconds?: number; maxLivenessDetectionSeconds?: number } = {},
): ValidationError[] {
  if (!probes?.startup || !probes.readiness || !probes.liveness) {
    return [new ValidationError(field, "startup, readiness and liveness probes are all required")];
  }
  const problems: ValidationError[] = [];
  for (const kind of ["startup", "readiness", "liveness"] as const) {
    const p = probes[kind];
    const checks = [p.http, p.tcp, p.exec].filter((c) => c !== undefined).length;
    if (checks !== 1) {
      problems.push(new ValidationError(`${field}.${kind}`, "needs exactly one of http, tcp or exec"));
    }
    for (const key of [
      "initialDelaySeconds",
      "periodSeconds",
      "timeoutSeconds",
      "failureThreshold",
    ] as const) {
      const v = p[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
        problems.push(
          new ValidationError(`${field}.${kind}.${key}`, `must be a non-negative integer, got ${v}`),
        );
      }
    }
  }
  const max = opts.maxLivenessDetectionSeconds ?? defaultMaxLivenessDetectionSeconds;
  const liveness = detectionSeconds(probes.liveness);
  if (liveness > max) {
    problems.push(
      new ValidationError(
        `${field}.liveness`,
        `detects failure after ${liveness}s (initialDelay + period × failureThreshold); must be ≤ ${max}s — let the startup probe cover boot time instead of initialDelaySeconds`,
      ),
    );
  }
  const boot = opts.bootSeconds ?? 0;
  const budget = detectionSeconds(probes.startup);
  if (budget < boot) {
    problems.push(
      new ValidationError(
        `${field}.startup`,
        `allows ${budget}s to start but the app needs ${boot}s (bootSeconds); raise failureThreshold or periodSeconds`,
      ),
    );
  }
  return problems;
}

/** Renders a probe as the Kubernetes object. */
export function toK8sProbe(p: ProbeSpec): Record<string, unknown> {
  const timing = {
    initialDelaySeconds: p.initialDelaySeconds ?? 0,
    periodSeconds: p.periodSeconds ?? 10,
    timeoutSeconds: p.timeoutSeconds ?? 3,
    failureThreshold: p.failureThreshold ?? 3,
  };
  if (p.http)
    return { httpGet: { path: p.http.path, port: p.http.port, scheme: p.http.scheme ?? "HTTP" }, ...timing };
  if (p.tcp) return { tcpSocket: { port: p.tcp.port }, ...timing };
  return { exec: { command: p.exec?.command ?? [] }, ...timing };
}

/** A startup probe that allows `seconds` of boot time, checking every `period` seconds. */
export function startupBudget(check: ProbeCheck, seconds: number, period = 10): ProbeSpec {
  return {
    ...check,
    periodSeconds: period,
    failureThreshold: Math.ceil(seconds / period),
    timeoutSeconds: 5,
  };
}

/** The usual trio: startup covering `bootSeconds`, fast readiness, liveness detecting failure in 30 s. */
export function standardProbes(
  check: ProbeCheck,
  bootSeconds: number,
  readinessCheck: ProbeCheck = check,
): Probes {
  return {
    startup: startupBudget(check, Math.max(bootSeconds, 30), bootSeconds > 300 ? 10 : 5),
    readiness: { ...readinessCheck, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
    liveness: { ...check, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
  };
}
