import {
  POD_WORKLOAD_KINDS,
  asArray,
  asString,
  describeContainer,
  perContainer,
  podSpecOf,
} from "../core/k8s";
import { parseImage } from "../core/image";
import { resourceRule } from "../core/rule";

interface Settings {
  mutableTags: string[];
  allowedTags: string[];
}

const BRANCH_LIKE = [
  "latest",
  "master",
  "main",
  "dev",
  "develop",
  "development",
  "edge",
  "nightly",
  "stable",
  "rolling",
  "head",
  "trunk",
  "canary",
  "unstable",
  "snapshot",
];

/** F9: an image reference names one build. Digests always do; version tags usually do; `latest`, branches and untagged never. */
export const mutableImageTag = resourceRule<Settings>({
  id: "mutable-image-tag",
  findings: ["F9"],
  description:
    "Images are pinned: no untagged images, no `latest`, no branch-like tags (master, main, dev, edge, nightly, stable...), no version-less tags; a digest is always fine.",
  fix: "pin a version tag or a digest",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: {
    schema: {
      mutableTags: {
        type: "array",
        items: { type: "string" },
        description: "Tag words that are mutable (also as a '-'/'.'/'_' separated part, e.g. 16-master).",
      },
      allowedTags: {
        type: "array",
        items: { type: "string" },
        description: "Tags accepted although they match (escape hatch).",
      },
    },
    defaults: { mutableTags: BRANCH_LIKE, allowedTags: [] },
  },
  check(obj, settings) {
    const mutable = new Set(asArray<string>(settings.mutableTags).map((t) => t.toLowerCase()));
    const fix = "pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)";
    return perContainer(podSpecOf(obj), (container, init) => {
      const image = asString(container.image);
      if (!image) {
        return [];
      }
      const ref = parseImage(image);
      if (ref.digest) {
        return [];
      }
      const name = describeContainer(container, init);
      if (!ref.tag) {
        return [`image '${image}' of ${name} has no tag (means :latest): ${fix}`];
      }
      if (asArray<string>(settings.allowedTags).includes(ref.tag)) {
        return [];
      }
      const parts = ref.tag.toLowerCase().split(/[-._]/);
      if (parts.some((p) => mutable.has(p))) {
        return [`image '${image}' of ${name} uses the mutable tag '${ref.tag}': ${fix}`];
      }
      return /\d/.test(ref.tag)
        ? []
        : [`image '${image}' of ${name} uses the version-less tag '${ref.tag}': ${fix}`];
    });
  },
});
