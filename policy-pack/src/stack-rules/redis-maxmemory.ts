import {
  Container,
  K8sObject,
  PodSpec,
  asArray,
  asNumber,
  asString,
  describeContainer,
  isRecord,
  podSpecOf,
} from "../core/k8s";
import { commandWords, confFileSettings, mountedConfigFiles } from "../core/app-settings";
import { perContainerWithImage } from "../core/databases";
import { formatBytes, parseRedisMemory } from "../core/quantity";
import { about, checkEach } from "../core/unknown";
import { memoryLimit } from "../core/workloads";
import { Violation, stackRule } from "../core/rule";
import type { StackIndex } from "../core/stack-index";

interface Settings {
  maxPercent: number;
}

const REDIS_IMAGE = /^(redis|redis-stack|redis-stack-server|valkey|keydb)$/;

/** F18: Redis evicts (or refuses writes) before the kernel OOM-kills it, with room for fork/copy-on-write and buffers. */
export const redisMaxmemory = stackRule<Settings>({
  id: "redis-maxmemory",
  findings: ["F18"],
  description:
    "Redis sets maxmemory (args, a mounted redis.conf, or one an init container copies into a shared emptyDir) at most 80% of the container's memory limit; Sentinel containers (no data) are skipped.",
  fix: "`--maxmemory` ≤ 80 % of the limit with a `maxmemory-policy`",
  defaultLevel: "mandatory",
  config: {
    schema: {
      maxPercent: {
        type: "number",
        minimum: 1,
        maximum: 100,
        description: "Largest maxmemory as % of the memory limit (default 80).",
      },
    },
    defaults: { maxPercent: 80 },
  },
  check(stack, settings) {
    const violations: Violation[] = [];
    checkEach(stack.longRunningWorkloads(), violations, (workload) => {
      const pod = podSpecOf(workload)!;
      violations.push(
        ...about(
          perContainerWithImage(workload, REDIS_IMAGE, (container) => {
            const limit = memoryLimit(container);
            if (limit === undefined || isSentinel(container)) {
              return [];
            }
            let value: string | undefined;
            for (const file of [
              ...initCopiedConfigFiles(stack, workload, pod, container),
              ...mountedConfigFiles(stack, workload, pod, container, /\.conf$/),
            ]) {
              value = confFileSettings(file.text).get("maxmemory") ?? value;
            }
            const words = commandWords(container);
            words.forEach((word, i) => {
              if (word === "--maxmemory" && i + 1 < words.length) {
                value = words[i + 1];
              } else if (word.startsWith("--maxmemory=")) {
                value = word.slice("--maxmemory=".length);
              }
            });
            const name = describeContainer(container, false);
            const budget = (limit * settings.maxPercent) / 100;
            const bytes = value === undefined ? undefined : parseRedisMemory(value);
            if (value === undefined || bytes === 0) {
              return [
                `set --maxmemory on ${name} to at most ${formatBytes(budget)} (${settings.maxPercent}% of its ${formatBytes(limit)} memory limit) with a maxmemory-policy`,
              ];
            } else if (bytes !== undefined && bytes > budget) {
              return [
                `maxmemory ${value} of ${name} is ${Math.round((bytes / limit) * 100)}% of its ${formatBytes(limit)} memory limit: set it to at most ${formatBytes(budget)} (${settings.maxPercent}%) or raise the limit`,
              ];
            }
            return [];
          }),
          workload,
        ),
      );
    });
    return violations;
  },
});

const SENTINEL_PORT = 26379;

/** A Redis Sentinel stores no data: redis-sentinel, `redis-server --sentinel`, a sentinel.conf, or port 26379. */
function isSentinel(container: Container): boolean {
  const words = commandWords(container);
  const byCommand = words.some(
    (w) => /(^|\/)redis-sentinel$/.test(w) || w === "--sentinel" || /(^|\/)sentinel\.conf$/.test(w),
  );
  const byPort = asArray<{ containerPort?: unknown }>(container.ports).some(
    (p) => asNumber(p?.containerPort) === SENTINEL_PORT,
  );
  return byCommand || byPort;
}

/**
 * *.conf files of ConfigMaps mounted into an init container that shares an emptyDir with `container`: the
 * usual way to copy a read-only redis.conf into a writable place (Redis rewrites it on CONFIG REWRITE).
 */
function initCopiedConfigFiles(
  stack: StackIndex,
  workload: K8sObject,
  pod: PodSpec,
  container: Container,
): Array<{ text: string }> {
  const emptyDirs = new Set(
    asArray<{ name?: unknown; emptyDir?: unknown }>(pod.volumes)
      .filter((v) => isRecord(v?.emptyDir))
      .map((v) => asString(v.name)),
  );
  const shared = new Set(mountNames(container).filter((n) => emptyDirs.has(n)));
  if (shared.size === 0) {
    return [];
  }
  return asArray<Container>(pod.initContainers)
    .filter((init) => isRecord(init) && mountNames(init).some((n) => shared.has(n)))
    .flatMap((init) => mountedConfigFiles(stack, workload, pod, init, /\.conf$/));
}

function mountNames(container: Container): Array<string | undefined> {
  return asArray<{ name?: unknown }>(container.volumeMounts).map((m) => asString(m?.name));
}
