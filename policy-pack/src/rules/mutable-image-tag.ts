import { POD_WORKLOAD_KINDS, allContainers, asArray, asString, describeContainer, podSpecOf } from "../core/k8s";
import { parseImage } from "../core/image";
import { resourceRule } from "../core/rule";

interface Settings {
    mutableTags: string[];
    allowedTags: string[];
}

const BRANCH_LIKE = ["latest", "master", "main", "dev", "develop", "development", "edge", "nightly", "stable", "rolling", "head", "trunk", "canary", "unstable", "snapshot"];

/** F9: an image reference names one build. Digests always do; version tags usually do; `latest`, branches and untagged never. */
export const mutableImageTag = resourceRule<Settings>({
    id: "mutable-image-tag",
    findings: ["F9"],
    description: "Images are pinned: no untagged images, no `latest`, no branch-like tags (master, main, dev, edge, nightly, stable...), no version-less tags; a digest is always fine.",
    defaultLevel: "mandatory",
    kinds: POD_WORKLOAD_KINDS,
    config: {
        schema: {
            mutableTags: { type: "array", items: { type: "string" }, description: "Tag words that are mutable (also as a '-'/'.'/'_' separated part, e.g. 16-master)." },
            allowedTags: { type: "array", items: { type: "string" }, description: "Tags accepted although they match (escape hatch)." },
        },
        defaults: { mutableTags: BRANCH_LIKE, allowedTags: [] },
    },
    check(obj, settings) {
        const messages: string[] = [];
        const mutable = new Set(asArray<string>(settings.mutableTags).map(t => t.toLowerCase()));
        for (const { container, init } of allContainers(podSpecOf(obj))) {
            const image = asString(container.image);
            if (!image) {
                continue;
            }
            const ref = parseImage(image);
            if (ref.digest) {
                continue;
            }
            const name = describeContainer(container, init);
            const fix = "pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)";
            if (!ref.tag) {
                messages.push(`image '${image}' of ${name} has no tag (means :latest): ${fix}`);
                continue;
            }
            if (asArray<string>(settings.allowedTags).includes(ref.tag)) {
                continue;
            }
            const parts = ref.tag.toLowerCase().split(/[-._]/);
            const word = parts.find(p => mutable.has(p));
            if (word) {
                messages.push(`image '${image}' of ${name} uses the mutable tag '${ref.tag}': ${fix}`);
            } else if (!/\d/.test(ref.tag)) {
                messages.push(`image '${image}' of ${name} uses the version-less tag '${ref.tag}': ${fix}`);
            }
        }
        return messages;
    },
});
