import { POD_WORKLOAD_KINDS, asArray, asNumber, isRecord, podSpecOf, Container } from "../core/k8s";
import { commandWords } from "../core/app-settings";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** F7: fixing volume ownership is the kubelet's job (fsGroup), not a root init container's. */
export const rootChownInit = resourceRule({
    id: "root-chown-init",
    findings: ["F7"],
    description: "No init container runs as root to chown/chmod a volume; use securityContext.fsGroup instead.",
    defaultLevel: "mandatory",
    kinds: POD_WORKLOAD_KINDS,
    config: NO_CONFIG,
    check(obj) {
        const pod = podSpecOf(obj);
        if (!pod) {
            return [];
        }
        const podUser = asNumber(pod.securityContext?.runAsUser);
        const messages: string[] = [];
        for (const init of asArray<Container>(pod.initContainers).filter((c): c is Container => isRecord(c))) {
            const user = asNumber(init.securityContext?.runAsUser) ?? podUser;
            const words = commandWords(init);
            const chown = words.find(w => /^(chown|chmod|chgrp)$/.test(w.replace(/^.*\//, "")));
            if (user === 0 && chown) {
                const owner = ownerOf(words);
                messages.push(`remove init container '${init.name ?? "?"}' that runs as root to ${chown} a volume: ` +
                    `set spec.securityContext.fsGroup${owner ? `: ${owner}` : ""} (with fsGroupChangePolicy: OnRootMismatch) on the pod instead`);
            }
        }
        return messages;
    },
});

/** The group of a `chown -R 999:999 /path` command, to suggest the fsGroup. */
function ownerOf(words: string[]): string | undefined {
    const spec = words.find(w => /^\d+(:\d+)?$/.test(w));
    return spec?.split(":").pop();
}
