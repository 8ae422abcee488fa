import { POD_WORKLOAD_KINDS, asNumber, isRecord, podSpecOf, Container } from "../core/k8s";
import { commandWords } from "../core/app-settings";
import { NO_CONFIG, resourceRule } from "../core/rule";
import { perElement } from "../core/unknown";

/** F7: fixing volume ownership is the kubelet's job (fsGroup), not a root init container's. */
export const rootChownInit = resourceRule({
  id: "root-chown-init",
  findings: ["F7"],
  description: "No init container runs as root to chown/chmod a volume; use securityContext.fsGroup instead.",
  fix: "remove the init container; `securityContext.fsGroup` (+ `fsGroupChangePolicy: OnRootMismatch`)",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    const pod = podSpecOf(obj);
    if (!pod) {
      return [];
    }
    const podUser = asNumber(pod.securityContext?.runAsUser);
    return perElement<unknown>(
      () => pod.initContainers,
      (element) => {
        if (!isRecord(element)) {
          return [];
        }
        const init = element as Container;
        const user = asNumber(init.securityContext?.runAsUser) ?? podUser;
        const words = commandWords(init);
        const chown = words.find((w) => /^(chown|chmod|chgrp)$/.test(w.replace(/^.*\//, "")));
        if (user !== 0 || !chown) {
          return [];
        }
        const owner = ownerOf(words);
        return [
          `remove init container '${init.name ?? "?"}' that runs as root to ${chown} a volume: ` +
            `set spec.securityContext.fsGroup${owner ? `: ${owner}` : ""} (with fsGroupChangePolicy: OnRootMismatch) on the pod instead`,
        ];
      },
    );
  },
});

/** The group of a `chown -R 999:999 /path` command, to suggest the fsGroup. */
function ownerOf(words: string[]): string | undefined {
  const spec = words.find((w) => /^\d+(:\d+)?$/.test(w));
  return spec?.split(":").pop();
}
