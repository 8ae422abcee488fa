import { POD_WORKLOAD_KINDS, allContainers, asArray, describeContainer, podSpecOf } from "../core/k8s";
import { resourceRule } from "../core/rule";

interface Settings {
    allowedCapabilities: string[];
}

/** F22/F23: containers drop every capability and add back only harmless ones; NET_ADMIN and friends need an exemption. */
export const capabilities = resourceRule<Settings>({
    id: "capabilities",
    findings: ["F22", "F23"],
    description: "Every container drops ALL capabilities and adds none beyond the allowed list (default NET_BIND_SERVICE).",
    defaultLevel: "mandatory",
    kinds: POD_WORKLOAD_KINDS,
    config: {
        schema: { allowedCapabilities: { type: "array", items: { type: "string" }, description: "Capabilities containers may add (default [NET_BIND_SERVICE])." } },
        defaults: { allowedCapabilities: ["NET_BIND_SERVICE"] },
    },
    check(obj, settings) {
        const allowed = new Set(asArray<string>(settings.allowedCapabilities).map(normalize));
        const messages: string[] = [];
        for (const { container, init } of allContainers(podSpecOf(obj))) {
            const caps = container.securityContext?.capabilities;
            const name = describeContainer(container, init);
            const added = asArray<string>(caps?.add).map(String).filter(c => !allowed.has(normalize(c)));
            if (added.length > 0) {
                messages.push(`${name} adds capabilities ${added.join(", ")}: remove them from securityContext.capabilities.add ` +
                    `(or add annotation exempt.keel.dev/capabilities with the reason)`);
            }
            if (!asArray<string>(caps?.drop).map(normalize).includes("ALL")) {
                messages.push(`set securityContext.capabilities.drop: [ALL] on ${name}`);
            }
        }
        return messages;
    },
});

function normalize(cap: string): string {
    return String(cap).toUpperCase().replace(/^CAP_/, "");
}
