import {
  LONG_RUNNING_KINDS,
  asArray,
  asString,
  isRecord,
  perContainer,
  podSpecOf,
  Volume,
  VolumeMount,
} from "../core/k8s";
import { parseQuantity } from "../core/quantity";
import { resourceRule } from "../core/rule";
import { perElement } from "../core/unknown";

interface Settings {
  modelWords: string[];
  cacheWords: string[];
  scratchSizeLimit: string | number;
}

const MODEL_WORDS = [
  "model",
  "models",
  "huggingface",
  "hf",
  "torch",
  "transformers",
  "weights",
  "checkpoints",
];
const CACHE_WORDS = ["cache", "data", "datasets"];

/**
 * F19: a model or data cache on emptyDir is downloaded again after every restart or reschedule.
 * Jobs and CronJobs are not checked: their pod lives for one run, so its emptyDir is per-run scratch space.
 */
export const emptydirCache = resourceRule<Settings>({
  id: "emptydir-cache",
  findings: ["F19"],
  description:
    "No emptyDir of a long-running workload holds a model/data cache: a volume named or mounted with a model word " +
    "(model, huggingface, hf, torch, weights...) anywhere, or with cache/data outside the usual temp locations. " +
    "Scratch space is fine: tmp/temp/run paths, memory-backed /dev/shm, /var/cache/... and home .cache dirs " +
    "(nginx, a read-only root filesystem) unless a model word marks them, emptyDirs capped below 1Gi (sizeLimit), " +
    "and every emptyDir of a Job or CronJob (per-run scratch).",
  fix: "use a PVC / volumeClaimTemplate / ephemeral volume with a storage class; cap real scratch space with `sizeLimit` < 1Gi",
  defaultLevel: "mandatory",
  kinds: LONG_RUNNING_KINDS,
  config: {
    schema: {
      modelWords: {
        type: "array",
        items: { type: "string" },
        description:
          "Words that mark a volume name or mount path as a model cache, even under /var/cache or a home .cache.",
      },
      cacheWords: {
        type: "array",
        items: { type: "string" },
        description:
          "Words that mark a volume name or mount path as a data cache outside /var/cache and home .cache dirs.",
      },
      scratchSizeLimit: {
        type: ["string", "number"],
        description:
          "An emptyDir whose sizeLimit is below this quantity is scratch space, whatever its name (default 1Gi).",
      },
    },
    defaults: { modelWords: MODEL_WORDS, cacheWords: CACHE_WORDS, scratchSizeLimit: "1Gi" },
  },
  check(obj, settings) {
    const pod = podSpecOf(obj);
    const modelWords = wordSet(settings.modelWords);
    const anyWords = new Set([...modelWords, ...wordSet(settings.cacheWords)]);
    const mountsByVolume = new Map<string, string[]>();
    // Mount paths per volume; a mount unknown at preview is a note, the others still count.
    const notes = perContainer(pod, (container) =>
      perElement<VolumeMount | undefined>(
        () => container.volumeMounts,
        (mount) => {
          const name = asString(mount?.name);
          const path = asString(mount?.mountPath);
          if (name && path) {
            mountsByVolume.set(name, [...(mountsByVolume.get(name) ?? []), path]);
          }
          return [] as string[];
        },
      ),
    );
    const messages = perElement<Volume | undefined>(
      () => pod?.volumes,
      (volume) => {
        if (!isRecord(volume) || !isRecord(volume.emptyDir)) {
          return [];
        }
        const name = asString(volume.name) ?? "";
        // Capped below the scratch size, it cannot hold a model or a data set worth keeping (nginx temp files, a UUID file...).
        const sizeLimit = parseQuantity(volume.emptyDir.sizeLimit);
        const scratchLimit = parseQuantity(settings.scratchSizeLimit);
        if (sizeLimit !== undefined && scratchLimit !== undefined && sizeLimit < scratchLimit) {
          return [];
        }
        const paths = [...new Set(mountsByVolume.get(name) ?? [])];
        const memory = asString(volume.emptyDir.medium) === "Memory";
        const nameWords = tokens(name);
        const cachePaths = paths.filter(
          (p) => !isScratchPath(p, memory) && isCachePath(p, nameWords, modelWords, anyWords),
        );
        const unmountedCache = paths.length === 0 && nameWords.some((t) => anyWords.has(t));
        if (cachePaths.length === 0 && !unmountedCache) {
          return [];
        }
        const where = cachePaths.length > 0 ? ` (mounted at ${cachePaths.join(", ")})` : "";
        return [
          `emptyDir volume '${name}'${where} looks like a model/data cache and is lost on every restart: ` +
            "use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName" +
            ` (if it is scratch space, cap it with a sizeLimit below ${String(settings.scratchSizeLimit)})`,
        ];
      },
    );
    return [...messages, ...notes];
  },
});

/** Temporary files and runtime state (sockets, pid files), whatever the parent path says: /tmp/..., .../data/tmp, /var/run. */
const SCRATCH_LEAF = new Set(["tmp", "temp", "run"]);

function isScratchPath(path: string, memory: boolean): boolean {
  const p = path.replace(/\/+$/, "");
  const leaf = p.slice(p.lastIndexOf("/") + 1).toLowerCase();
  return p === "/tmp" || p.startsWith("/tmp/") || SCRATCH_LEAF.has(leaf) || (memory && p === "/dev/shm");
}

/**
 * Whether a mount of the volume holds a cache worth keeping. /var/cache/... (nginx, apt) and home .cache dirs
 * (what a read-only root filesystem needs writable: pip, fontconfig...) are temp locations: only a model word in
 * the path or the volume name makes them a model cache (~/.cache/huggingface, a volume 'hf-cache' at ~/.cache).
 * Elsewhere, any model or cache word does.
 */
function isCachePath(
  path: string,
  nameWords: string[],
  modelWords: ReadonlySet<string>,
  anyWords: ReadonlySet<string>,
): boolean {
  const segments = path
    .toLowerCase()
    .split("/")
    .filter((s) => s !== "");
  const words = [...nameWords, ...segments.flatMap(tokens)];
  const tempCache = segments.includes(".cache") || (segments[0] === "var" && segments[1] === "cache");
  return words.some((t) => (tempCache ? modelWords : anyWords).has(t));
}

function wordSet(words: unknown): Set<string> {
  return new Set(
    asArray<string>(words)
      .filter((w) => typeof w === "string")
      .map((w) => w.toLowerCase()),
  );
}

function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t !== "");
}
