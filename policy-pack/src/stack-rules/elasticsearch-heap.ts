import { Container, K8sObject, PodSpec, describeContainer, podSpecOf } from "../core/k8s";
import { envValue, mountedConfigFiles } from "../core/app-settings";
import { perContainerWithImage } from "../core/databases";
import { formatBytes, parseJvmSize } from "../core/quantity";
import { about, checkEach } from "../core/unknown";
import { memoryLimit } from "../core/workloads";
import { Violation, stackRule } from "../core/rule";
import type { StackIndex } from "../core/stack-index";

interface Settings {
  maxHeapPercent: number;
}

const ES_IMAGE = /^(elasticsearch|opensearch|elasticsearch-oss)$/;

/** Where the heap is set, in increasing precedence, and the -Xms/-Xmx it sets. */
interface HeapSetting {
  source: string;
  xms?: string;
  xmx?: string;
}

/** F15: the JVM heap leaves half of the container for Lucene's file cache and off-heap memory; Xms = Xmx avoids resizing pauses. */
export const elasticsearchHeap = stackRule<Settings>({
  id: "elasticsearch-heap",
  findings: ["F15"],
  description:
    "Elasticsearch/OpenSearch: heap (-Xmx from ES_JAVA_OPTS/OPENSEARCH_JAVA_OPTS, Bitnami's ELASTICSEARCH_HEAP_SIZE or a mounted jvm.options.d *.options file) ≤ 50% of the memory limit, and -Xms equal to -Xmx.",
  fix: "`-Xms` = `-Xmx` ≤ 50 % of the memory limit",
  defaultLevel: "mandatory",
  config: {
    schema: {
      maxHeapPercent: {
        type: "number",
        minimum: 1,
        maximum: 100,
        description: "Largest heap as % of the memory limit (default 50).",
      },
    },
    defaults: { maxHeapPercent: 50 },
  },
  check(stack, settings) {
    const violations: Violation[] = [];
    checkEach(stack.longRunningWorkloads(), violations, (workload) => {
      const pod = podSpecOf(workload)!;
      violations.push(
        ...about(
          perContainerWithImage(workload, ES_IMAGE, (container) => {
            const limit = memoryLimit(container);
            const heap = heapSetting(stack, workload, pod, container);
            if (!heap || limit === undefined) {
              return [];
            }
            const problems: string[] = [];
            const bytes = heap.xmx ? parseJvmSize(heap.xmx) : undefined;
            const name = describeContainer(container, false);
            const maxHeap = (limit * settings.maxHeapPercent) / 100;
            if (bytes !== undefined && bytes > maxHeap) {
              problems.push(
                `JVM heap -Xmx${heap.xmx} of ${name} exceeds ${settings.maxHeapPercent}% of its ${formatBytes(limit)} memory limit: set -Xms and -Xmx to at most ${formatBytes(maxHeap)} or raise the limit to ${formatBytes((bytes * 100) / settings.maxHeapPercent)}`,
              );
            }
            if (heap.xms !== heap.xmx) {
              problems.push(
                `${heap.source} of ${name} sets -Xms${heap.xms ?? " (unset)"} and -Xmx${heap.xmx ?? " (unset)"}: set both to the same size`,
              );
            }
            return problems;
          }),
          workload,
        ),
      );
    });
    return violations;
  },
});

/**
 * The heap the container starts with: jvm.options.d files mounted from a ConfigMap, overridden by Bitnami's
 * ELASTICSEARCH_HEAP_SIZE (both -Xms and -Xmx), overridden by ES_JAVA_OPTS / OPENSEARCH_JAVA_OPTS.
 * Undefined when nothing sets it (Elasticsearch then sizes the heap from the container's limit itself).
 */
function heapSetting(
  stack: StackIndex,
  workload: K8sObject,
  pod: PodSpec,
  container: Container,
): HeapSetting | undefined {
  let heap: HeapSetting | undefined;
  for (const file of mountedConfigFiles(stack, workload, pod, container, /\.options$/)) {
    const xms = /^\s*-Xms(\S+)/m.exec(file.text)?.[1];
    const xmx = /^\s*-Xmx(\S+)/m.exec(file.text)?.[1];
    if (xms || xmx) {
      heap = { source: `${file.key} (ConfigMap ${file.configMap})`, xms, xmx };
    }
  }
  const size = envValue(container, "ELASTICSEARCH_HEAP_SIZE");
  if (size) {
    heap = { source: "ELASTICSEARCH_HEAP_SIZE", xms: size, xmx: size };
  }
  for (const variable of ["ES_JAVA_OPTS", "OPENSEARCH_JAVA_OPTS"]) {
    const opts = envValue(container, variable);
    const xms = opts ? /-Xms(\S+)/.exec(opts)?.[1] : undefined;
    const xmx = opts ? /-Xmx(\S+)/.exec(opts)?.[1] : undefined;
    if (xms || xmx) {
      heap = { source: variable, xms: xms ?? heap?.xms, xmx: xmx ?? heap?.xmx };
      break;
    }
  }
  return heap;
}
