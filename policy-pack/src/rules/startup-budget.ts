import {
  Container,
  LONG_RUNNING_KINDS,
  annotationsOf,
  describeContainer,
  isRecord,
  mainContainers,
  perMainContainer,
  podSpecOf,
} from "../core/k8s";
import { probeBudget, probeTiming } from "../core/probes";
import { NO_CONFIG, resourceRule } from "../core/rule";
import { readOr } from "../core/unknown";
import { annotations } from "../contract/conventions";

export const BOOT_SECONDS_ANNOTATION = annotations.bootSeconds;

/** F2: a workload that declares how long it boots has a startupProbe that waits at least that long. */
export const startupBudget = resourceRule({
  id: "startup-budget",
  findings: ["F2"],
  description:
    "Workloads annotated keel.dev/boot-seconds have a startupProbe whose budget (initialDelaySeconds + periodSeconds × failureThreshold) covers it.",
  fix: "startupProbe with `initialDelaySeconds + periodSeconds × failureThreshold ≥ boot-seconds`",
  defaultLevel: "mandatory",
  kinds: LONG_RUNNING_KINDS,
  config: NO_CONFIG,
  check(obj) {
    const raw = annotationsOf(obj)[BOOT_SECONDS_ANNOTATION];
    if (raw === undefined) {
      return [];
    }
    if (!/^\s*\d+\s*$/.test(String(raw))) {
      return [
        `set annotation ${BOOT_SECONDS_ANNOTATION} to a whole number of seconds (it is '${String(raw)}')`,
      ];
    }
    const bootSeconds = Number(raw);
    const pod = podSpecOf(obj);
    // The containers with a liveness or startup probe are the ones whose boot must be covered; without any, the first one.
    const probed = (c: Container) => isRecord(c.livenessProbe) || isRecord(c.startupProbe);
    const anyProbed = readOr(() => mainContainers(pod).some(probed), true);
    let index = 0;
    return perMainContainer(pod, (container) => {
      const first = index++ === 0;
      return (anyProbed ? probed(container) : first) ? budgetProblems(container, bootSeconds) : [];
    });
  },
});

function budgetProblems(container: Container, bootSeconds: number): string[] {
  const name = describeContainer(container, false);
  if (!isRecord(container.startupProbe)) {
    const failureThreshold = Math.ceil(bootSeconds / 10);
    return [
      `add a startupProbe to ${name} that allows ${bootSeconds} s (${BOOT_SECONDS_ANNOTATION}), e.g. periodSeconds: 10, failureThreshold: ${failureThreshold}`,
    ];
  }
  const timing = probeTiming(container.startupProbe);
  const budget = probeBudget(timing);
  if (budget >= bootSeconds) {
    return [];
  }
  const needed = Math.ceil((bootSeconds - timing.initialDelay) / Math.max(timing.period, 1));
  return [
    `startupProbe of ${name} allows ${budget} s (${timing.initialDelay} + ${timing.period} × ${timing.failureThreshold}) but ${BOOT_SECONDS_ANNOTATION} is ${bootSeconds}: raise failureThreshold to at least ${needed}`,
  ];
}
