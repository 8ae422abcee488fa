import { POD_WORKLOAD_KINDS, asArray, describeContainer, perContainer, podSpecOf } from "../core/k8s";
import { guarded } from "../core/unknown";
import { resourceRule } from "../core/rule";

interface Settings {
  allowedCapabilities: string[];
}

/** F22/F23: containers drop every capability and add back only harmless ones; NET_ADMIN and friends need an exemption. */
export const capabilities = resourceRule<Settings>({
  id: "capabilities",
  findings: ["F22", "F23"],
  description:
    "Every container drops ALL capabilities and adds none beyond the allowed list (default NET_BIND_SERVICE).",
  fix: "`capabilities.drop: [ALL]`; remove added capabilities or exempt with a reason",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: {
    schema: {
      allowedCapabilities: {
        type: "array",
        items: { type: "string" },
        description: "Capabilities containers may add (default [NET_BIND_SERVICE]).",
      },
    },
    defaults: { allowedCapabilities: ["NET_BIND_SERVICE"] },
  },
  check(obj, settings) {
    const allowed = new Set(asArray<string>(settings.allowedCapabilities).map(normalize));
    return perContainer(podSpecOf(obj), (container, init) => {
      const name = describeContainer(container, init);
      return [
        ...guarded(() => {
          const added = asArray<string>(container.securityContext?.capabilities?.add)
            .map(String)
            .filter((c) => !allowed.has(normalize(c)));
          return added.length > 0
            ? [
                `${name} adds capabilities ${added.join(", ")}: remove them from securityContext.capabilities.add ` +
                  `(or add annotation exempt.keel.dev/capabilities with the reason)`,
              ]
            : [];
        }),
        ...guarded(() =>
          asArray<string>(container.securityContext?.capabilities?.drop).map(normalize).includes("ALL")
            ? []
            : [`set securityContext.capabilities.drop: [ALL] on ${name}`],
        ),
      ];
    });
  },
});

function normalize(cap: string): string {
  return String(cap).toUpperCase().replace(/^CAP_/, "");
}
