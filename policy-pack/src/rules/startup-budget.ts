import { LONG_RUNNING_KINDS, annotationsOf, describeContainer, isRecord, mainContainers, podSpecOf } from "../core/k8s";
import { probeBudget, probeTiming } from "../core/probes";
import { NO_CONFIG, resourceRule } from "../core/rule";

export const BOOT_SECONDS_ANNOTATION = "keel.dev/boot-seconds";

/** F2: a workload that declares how long it boots has a startupProbe that waits at least that long. */
export const startupBudget = resourceRule({
    id: "startup-budget",
    findings: ["F2"],
    description: "Workloads annotated keel.dev/boot-seconds have a startupProbe whose budget (initialDelaySeconds + periodSeconds × failureThreshold) covers it.",
    defaultLevel: "mandatory",
    kinds: LONG_RUNNING_KINDS,
    config: NO_CONFIG,
    check(obj) {
        const raw = annotationsOf(obj)[BOOT_SECONDS_ANNOTATION];
        if (raw === undefined) {
            return [];
        }
        if (!/^\s*\d+\s*$/.test(String(raw))) {
            return [`set annotation ${BOOT_SECONDS_ANNOTATION} to a whole number of seconds (it is '${String(raw)}')`];
        }
        const bootSeconds = Number(raw);
        const containers = mainContainers(podSpecOf(obj));
        const guarded = containers.filter(c => isRecord(c.livenessProbe) || isRecord(c.startupProbe));
        const messages: string[] = [];
        for (const container of guarded.length > 0 ? guarded : containers.slice(0, 1)) {
            const name = describeContainer(container, false);
            if (!isRecord(container.startupProbe)) {
                const failureThreshold = Math.ceil(bootSeconds / 10);
                messages.push(`add a startupProbe to ${name} that allows ${bootSeconds} s (${BOOT_SECONDS_ANNOTATION}), e.g. periodSeconds: 10, failureThreshold: ${failureThreshold}`);
                continue;
            }
            const timing = probeTiming(container.startupProbe);
            const budget = probeBudget(timing);
            if (budget < bootSeconds) {
                const needed = Math.ceil((bootSeconds - timing.initialDelay) / Math.max(timing.period, 1));
                messages.push(`startupProbe of ${name} allows ${budget} s (${timing.initialDelay} + ${timing.period} × ${timing.failureThreshold}) but ${BOOT_SECONDS_ANNOTATION} is ${bootSeconds}: raise failureThreshold to at least ${needed}`);
            }
        }
        return messages;
    },
});
