import { POD_WORKLOAD_KINDS, asArray, asString, isRecord, perContainer, podSpecOf, Volume, VolumeMount } from "../core/k8s";
import { parseQuantity } from "../core/quantity";
import { resourceRule } from "../core/rule";
import { perElement } from "../core/unknown";

interface Settings {
    cacheWords: string[];
    scratchSizeLimit: string | number;
}

const CACHE_WORDS = ["model", "models", "cache", "huggingface", "hf", "torch", "data", "weights", "checkpoints"];

/** F19: a model or data cache on emptyDir is downloaded again after every restart or reschedule. */
export const emptydirCache = resourceRule<Settings>({
    id: "emptydir-cache",
    findings: ["F19"],
    description: "No emptyDir holds a model/data cache (named or mounted like model, cache, huggingface, hf, torch, data); scratch space is fine: tmp/temp/run paths, memory-backed /dev/shm, and emptyDirs capped below 1Gi (sizeLimit).",
    fix: "use a PVC / volumeClaimTemplate / ephemeral volume with a storage class; cap real scratch space with `sizeLimit` < 1Gi",
    defaultLevel: "mandatory",
    kinds: POD_WORKLOAD_KINDS,
    config: {
        schema: {
            cacheWords: { type: "array", items: { type: "string" }, description: "Words that mark a volume name or mount path as a cache." },
            scratchSizeLimit: { type: ["string", "number"], description: "An emptyDir whose sizeLimit is below this quantity is scratch space, whatever its name (default 1Gi)." },
        },
        defaults: { cacheWords: CACHE_WORDS, scratchSizeLimit: "1Gi" },
    },
    check(obj, settings) {
        const pod = podSpecOf(obj);
        const words = new Set(asArray<string>(settings.cacheWords).map(w => w.toLowerCase()));
        const mountsByVolume = new Map<string, string[]>();
        // Mount paths per volume; a mount unknown at preview is a note, the others still count.
        const notes = perContainer(pod, container => perElement<VolumeMount | undefined>(() => container.volumeMounts, mount => {
            const name = asString(mount?.name);
            const path = asString(mount?.mountPath);
            if (name && path) {
                mountsByVolume.set(name, [...(mountsByVolume.get(name) ?? []), path]);
            }
            return [] as string[];
        }));
        const messages = perElement<Volume | undefined>(() => pod?.volumes, volume => {
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
            const relevant = paths.filter(p => !isScratchPath(p, memory));
            if (paths.length > 0 && relevant.length === 0) {
                return [];
            }
            const named = tokens(name).some(t => words.has(t));
            const mountedAsCache = relevant.some(p => p.split("/").flatMap(tokens).some(t => words.has(t)));
            if (!named && !mountedAsCache) {
                return [];
            }
            const where = relevant.length > 0 ? ` (mounted at ${relevant.join(", ")})` : "";
            return [`emptyDir volume '${name}'${where} looks like a model/data cache and is lost on every restart: ` +
                "use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName" +
                ` (if it is scratch space, cap it with a sizeLimit below ${String(settings.scratchSizeLimit)})`];
        });
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

function tokens(text: string): string[] {
    return text.toLowerCase().split(/[^a-z0-9]+/).filter(t => t !== "");
}
