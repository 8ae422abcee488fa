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
  allowedRegistries: string[];
}

/** Air-gapped stacks pull only from their own registry mirror. Not applicable until allowedRegistries is set. */
export const imageRegistry = resourceRule<Settings>({
  id: "image-registry",
  findings: ["F21"],
  description:
    "Images come from an allowed registry (policy config allowedRegistries; off when empty). Use it for air-gapped stacks.",
  fix: "mirror the image into an allowed registry",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: {
    schema: {
      allowedRegistries: {
        type: "array",
        items: { type: "string" },
        description:
          "Registry hosts (optionally host/path prefixes) images may come from, e.g. registry.internal:5000.",
      },
    },
    defaults: { allowedRegistries: [] },
  },
  check(obj, settings) {
    const allowed = asArray<string>(settings.allowedRegistries);
    if (allowed.length === 0) {
      return [];
    }
    return perContainer(podSpecOf(obj), (container, init) => {
      const image = asString(container.image);
      if (!image) {
        return [];
      }
      const ref = parseImage(image);
      const full = `${ref.registry}/${ref.repository}`;
      return allowed.some(
        (prefix) => full === prefix || full.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`),
      )
        ? []
        : [
            `image '${image}' of ${describeContainer(container, init)} comes from '${ref.registry}': mirror it to ${allowed.join(" or ")} and reference the mirror`,
          ];
    });
  },
});
