import {
  POD_WORKLOAD_KINDS,
  asNumber,
  asString,
  describeContainer,
  perContainer,
  podSpecOf,
  ContainerPort,
} from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";
import { perElement } from "../core/unknown";

/** F22: hostPort binds the node's interfaces and limits scheduling. */
export const hostPorts = resourceRule({
  id: "host-ports",
  findings: ["F22"],
  description:
    "Containers declare no hostPort (one finding per host port and container, whatever the protocols).",
  fix: "expose through a Service",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    return perContainer(podSpecOf(obj), (container, init) => {
      // A port served over TCP and UDP is two entries of one host port: report it once, naming both protocols.
      const protocols = new Map<number, Set<string>>();
      const notes = perElement<ContainerPort | undefined>(
        () => container.ports,
        (port) => {
          const hostPort = asNumber(port?.hostPort);
          if (hostPort !== undefined && hostPort !== 0) {
            protocols.set(
              hostPort,
              (protocols.get(hostPort) ?? new Set()).add(asString(port?.protocol) ?? "TCP"),
            );
          }
          return [] as string[];
        },
      );
      const messages = [...protocols].map(
        ([hostPort, names]) =>
          `remove hostPort ${hostPort} (${[...names].sort().join(" and ")}) from ${describeContainer(container, init)}: expose it through a Service`,
      );
      return [...messages, ...notes];
    });
  },
});
