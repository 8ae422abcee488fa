import { describeContainer } from "../core/k8s";
import { envValue } from "../core/app-settings";
import { perContainerWithImage } from "../core/databases";
import { formatBytes, parseJvmSize } from "../core/quantity";
import { about, checkEach } from "../core/unknown";
import { memoryLimit } from "../core/workloads";
import { Violation, stackRule } from "../core/rule";

interface Settings {
    maxHeapPercent: number;
}

const ES_IMAGE = /^(elasticsearch|opensearch|elasticsearch-oss)$/;

/** F15: the JVM heap leaves half of the container for Lucene's file cache and off-heap memory; Xms = Xmx avoids resizing pauses. */
export const elasticsearchHeap = stackRule<Settings>({
    id: "elasticsearch-heap",
    findings: ["F15"],
    description: "Elasticsearch/OpenSearch: heap (-Xmx in ES_JAVA_OPTS/OPENSEARCH_JAVA_OPTS) ≤ 50% of the memory limit, and -Xms equal to -Xmx.",
    defaultLevel: "mandatory",
    config: {
        schema: { maxHeapPercent: { type: "number", minimum: 1, maximum: 100, description: "Largest heap as % of the memory limit (default 50)." } },
        defaults: { maxHeapPercent: 50 },
    },
    check(stack, settings) {
        const violations: Violation[] = [];
        checkEach(stack.longRunningWorkloads(), violations, workload => {
            violations.push(...about(perContainerWithImage(workload, ES_IMAGE, container => {
                const opts = envValue(container, "ES_JAVA_OPTS") ?? envValue(container, "OPENSEARCH_JAVA_OPTS");
                const limit = memoryLimit(container);
                if (!opts || limit === undefined) {
                    return [];
                }
                const problems: string[] = [];
                const xms = /-Xms(\S+)/.exec(opts)?.[1];
                const xmx = /-Xmx(\S+)/.exec(opts)?.[1];
                const heap = xmx ? parseJvmSize(xmx) : undefined;
                const name = describeContainer(container, false);
                const maxHeap = limit * settings.maxHeapPercent / 100;
                if (heap !== undefined && heap > maxHeap) {
                    problems.push(`JVM heap -Xmx${xmx} of ${name} exceeds ${settings.maxHeapPercent}% of its ${formatBytes(limit)} memory limit: set -Xms and -Xmx to at most ${formatBytes(maxHeap)} or raise the limit to ${formatBytes(heap * 100 / settings.maxHeapPercent)}`);
                }
                if (xms !== xmx) {
                    problems.push(`ES_JAVA_OPTS of ${name} sets -Xms${xms ?? " (unset)"} and -Xmx${xmx ?? " (unset)"}: set both to the same size`);
                }
                return problems;
            }), workload));
        });
        return violations;
    },
});
