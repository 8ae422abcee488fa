import { POD_WORKLOAD_KINDS, asNumber, describeContainer, perContainer, podSpecOf, ContainerPort } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";
import { perElement } from "../core/unknown";

/** F22: hostPort binds the node's interfaces and limits scheduling. */
export const hostPorts = resourceRule({
    id: "host-ports",
    findings: ["F22"],
    description: "Containers declare no hostPort.",
    fix: "expose through a Service",
    defaultLevel: "mandatory",
    kinds: POD_WORKLOAD_KINDS,
    config: NO_CONFIG,
    check(obj) {
        return perContainer(podSpecOf(obj), (container, init) => perElement<ContainerPort | undefined>(() => container.ports, port => {
            const hostPort = asNumber(port?.hostPort);
            return hostPort !== undefined && hostPort !== 0
                ? [`remove hostPort ${hostPort} from ${describeContainer(container, init)}: expose it through a Service`]
                : [];
        }));
    },
});
