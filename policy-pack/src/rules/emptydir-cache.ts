import { POD_WORKLOAD_KINDS, asArray, asString, isRecord, perContainer, podSpecOf, Volume, VolumeMount } from "../core/k8s";
import { resourceRule } from "../core/rule";
import { perElement } from "../core/unknown";

interface Settings {
    cacheWords: string[];
}

const CACHE_WORDS = ["model", "models", "cache", "huggingface", "hf", "torch", "data", "weights", "checkpoints"];

/** F19: a model or data cache on emptyDir is downloaded again after every restart or reschedule. */
export const emptydirCache = resourceRule<Settings>({
    id: "emptydir-cache",
    findings: ["F19"],
    description: "No emptyDir holds a model/data cache (named or mounted like model, cache, huggingface, hf, torch, data); /tmp and memory-backed /dev/shm are fine.",
    defaultLevel: "mandatory",
    kinds: POD_WORKLOAD_KINDS,
    config: {
        schema: { cacheWords: { type: "array", items: { type: "string" }, description: "Words that mark a volume name or mount path as a cache." } },
        defaults: { cacheWords: CACHE_WORDS },
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
                "use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName"];
        });
        return [...messages, ...notes];
    },
});

function isScratchPath(path: string, memory: boolean): boolean {
    const p = path.replace(/\/+$/, "");
    return p === "/tmp" || p.startsWith("/tmp/") || (memory && p === "/dev/shm");
}

function tokens(text: string): string[] {
    return text.toLowerCase().split(/[^a-z0-9]+/).filter(t => t !== "");
}
