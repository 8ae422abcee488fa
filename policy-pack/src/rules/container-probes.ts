import { LONG_RUNNING_KINDS, describeContainer, isRecord, perMainContainer, podSpecOf } from "../core/k8s";
import { resourceRule } from "../core/rule";

interface Settings {
    requireLiveness: boolean;
}

/** F2: long-running containers say when they are ready and when they are stuck. */
export const containerProbes = resourceRule<Settings>({
    id: "container-probes",
    findings: ["F2"],
    description: "Every container of a long-running workload has a readinessProbe and a livenessProbe.",
    fix: "add `readinessProbe` and `livenessProbe`",
    defaultLevel: "mandatory",
    kinds: LONG_RUNNING_KINDS,
    config: {
        schema: { requireLiveness: { type: "boolean", description: "Also require a livenessProbe (default true)." } },
        defaults: { requireLiveness: true },
    },
    check(obj, settings) {
        return perMainContainer(podSpecOf(obj), container => {
            const missing: string[] = [];
            if (!isRecord(container.readinessProbe)) {
                missing.push("readinessProbe");
            }
            if (settings.requireLiveness && !isRecord(container.livenessProbe)) {
                missing.push("livenessProbe");
            }
            return missing.length > 0
                ? [`add ${missing.join(" and ")} to ${describeContainer(container, false)} (plus a startupProbe when it takes long to start)`]
                : [];
        });
    },
});
