import { POD_WORKLOAD_KINDS, allContainers, asArray, asNumber, describeContainer, podSpecOf, ContainerPort } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** F22: hostPort binds the node's interfaces and limits scheduling. */
export const hostPorts = resourceRule({
    id: "host-ports",
    findings: ["F22"],
    description: "Containers declare no hostPort.",
    defaultLevel: "mandatory",
    kinds: POD_WORKLOAD_KINDS,
    config: NO_CONFIG,
    check(obj) {
        const messages: string[] = [];
        for (const { container, init } of allContainers(podSpecOf(obj))) {
            for (const port of asArray<ContainerPort>(container.ports)) {
                const hostPort = asNumber(port?.hostPort);
                if (hostPort !== undefined && hostPort !== 0) {
                    messages.push(`remove hostPort ${hostPort} from ${describeContainer(container, init)}: expose it through a Service`);
                }
            }
        }
        return messages;
    },
});
