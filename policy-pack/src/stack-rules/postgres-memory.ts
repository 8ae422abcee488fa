import { K8sObject, PodSpec, Container, describeContainer, podSpecOf } from "../core/k8s";
import { confFileSettings, mountedConfigFiles, postgresArgSettings } from "../core/app-settings";
import { perContainerWithImage } from "../core/databases";
import { formatBytes, parsePostgresMemory } from "../core/quantity";
import { Outcome, about, checkEach } from "../core/unknown";
import { memoryLimit } from "../core/workloads";
import { Violation, stackRule } from "../core/rule";
import type { StackIndex } from "../core/stack-index";

interface Settings {
  sharedBuffersMaxPercent: number;
  effectiveCacheMaxPercent: number;
}

const POSTGRES_IMAGE =
  /^(postgres|postgresql|postgis|timescaledb|postgresql-repmgr|pgvector|cloudnative-pg|spilo.*)$/;
const PAGE = 8 * 1024;
const KB = 1024;

/**
 * F14: PostgreSQL memory settings fit the container's memory limit. Settings come from `-c name=value`
 * arguments, else from a mounted ConfigMap *.conf file; PostgreSQL defaults fill the gaps. A problem made of
 * defaults alone is advisory: nobody chose those figures, the fix is to set them for the limit.
 */
export const postgresMemory = stackRule<Settings>({
  id: "postgres-memory",
  findings: ["F14"],
  description:
    "PostgreSQL: shared_buffers ≤ 25% of the memory limit, effective_cache_size ≤ 75%, work_mem × max_connections + shared_buffers ≤ the limit (advisory when only PostgreSQL's defaults overflow a small limit).",
  fix: "shared_buffers ≤ 25 %, effective_cache_size ≤ 75 %, work_mem × max_connections + shared_buffers ≤ limit",
  defaultLevel: "mandatory",
  config: {
    schema: {
      sharedBuffersMaxPercent: {
        type: "number",
        minimum: 1,
        maximum: 100,
        description: "Largest shared_buffers as % of the memory limit (default 25).",
      },
      effectiveCacheMaxPercent: {
        type: "number",
        minimum: 1,
        maximum: 100,
        description: "Largest effective_cache_size as % of the memory limit (default 75).",
      },
    },
    defaults: { sharedBuffersMaxPercent: 25, effectiveCacheMaxPercent: 75 },
  },
  check(stack, settings) {
    const violations: Violation[] = [];
    checkEach(stack.longRunningWorkloads(), violations, (workload) => {
      const pod = podSpecOf(workload)!;
      violations.push(
        ...about(
          perContainerWithImage(workload, POSTGRES_IMAGE, (container) =>
            checkContainer(stack, workload, pod, container, settings),
          ),
          workload,
        ),
      );
    });
    return violations;
  },
});

function checkContainer(
  stack: StackIndex,
  workload: K8sObject,
  pod: PodSpec,
  container: Container,
  settings: Settings,
): Outcome[] {
  const limit = memoryLimit(container);
  if (limit === undefined) {
    return []; // container-resources asks for the limit
  }
  const problems: Outcome[] = [];
  const settingsFound = new Map<string, string>();
  for (const file of mountedConfigFiles(stack, workload, pod, container, /\.conf$/)) {
    for (const [k, v] of confFileSettings(file.text)) {
      settingsFound.set(k, v);
    }
  }
  for (const [k, v] of postgresArgSettings(container)) {
    settingsFound.set(k, v);
  }
  const sharedBuffers = parsePostgresMemory(settingsFound.get("shared_buffers") ?? "128MB", PAGE);
  const effectiveCache = parsePostgresMemory(settingsFound.get("effective_cache_size") ?? "4GB", PAGE);
  const workMem = parsePostgresMemory(settingsFound.get("work_mem") ?? "4MB", KB);
  const maxConnections = Number(settingsFound.get("max_connections") ?? "100");
  const name = describeContainer(container, false);
  const limitText = formatBytes(limit);
  const explicit = (...keys: string[]): boolean => keys.some((k) => settingsFound.has(k));
  if (
    sharedBuffers !== undefined &&
    sharedBuffers > (limit * settings.sharedBuffersMaxPercent) / 100 &&
    !explicit("shared_buffers")
  ) {
    problems.push({
      advisoryOnly: true,
      message: `PostgreSQL's default shared_buffers ${formatBytes(sharedBuffers)} is ${pct(sharedBuffers, limit)} of the ${limitText} memory limit of ${name}: set shared_buffers explicitly to at most ${formatBytes((limit * settings.sharedBuffersMaxPercent) / 100)} (${settings.sharedBuffersMaxPercent}%), or raise the limit`,
    });
  } else if (
    sharedBuffers !== undefined &&
    sharedBuffers > (limit * settings.sharedBuffersMaxPercent) / 100
  ) {
    problems.push(
      `shared_buffers ${formatBytes(sharedBuffers)} of ${name} is ${pct(sharedBuffers, limit)} of its ${limitText} memory limit: set shared_buffers ≤ ${formatBytes((limit * settings.sharedBuffersMaxPercent) / 100)} (${settings.sharedBuffersMaxPercent}%)`,
    );
  }
  if (
    settingsFound.has("effective_cache_size") &&
    effectiveCache !== undefined &&
    effectiveCache > (limit * settings.effectiveCacheMaxPercent) / 100
  ) {
    problems.push(
      `effective_cache_size ${formatBytes(effectiveCache)} of ${name} exceeds ${settings.effectiveCacheMaxPercent}% of its ${limitText} memory limit: set it ≤ ${formatBytes((limit * settings.effectiveCacheMaxPercent) / 100)}`,
    );
  }
  if (workMem !== undefined && sharedBuffers !== undefined && Number.isFinite(maxConnections)) {
    const worst = workMem * maxConnections + sharedBuffers;
    if (worst > limit && !explicit("work_mem", "max_connections", "shared_buffers")) {
      problems.push({
        advisoryOnly: true,
        message: `PostgreSQL's defaults work_mem ${formatBytes(workMem)} × max_connections ${maxConnections} + shared_buffers ${formatBytes(sharedBuffers)} = ${formatBytes(worst)} exceed the ${limitText} memory limit of ${name}: set work_mem, max_connections and shared_buffers explicitly so that they fit, or raise the limit`,
      });
    } else if (worst > limit) {
      problems.push(
        `work_mem ${formatBytes(workMem)} × max_connections ${maxConnections} + shared_buffers ${formatBytes(sharedBuffers)} = ${formatBytes(worst)} exceeds the ${limitText} memory limit of ${name}: lower work_mem or max_connections (use a pooler), or raise the limit`,
      );
    }
  }
  return problems;
}

function pct(part: number, whole: number): string {
  return `${Math.round((part / whole) * 100)}%`;
}
