import * as k8s from "@pulumi/kubernetes";

/**
 * Who may connect (ingress) or be connected to (egress). `app` names a workload by its
 * `app.kubernetes.io/name` label; with `namespace` it is in another namespace.
 */
export type NetworkPeer =
  | { app: string; namespace?: string; ports?: number[] }
  | { namespace: string; ports?: number[] }
  | { cidr: string; except?: string[]; ports?: number[] };

type PeerSpec = k8s.types.input.networking.v1.NetworkPolicyPeer;
type PortSpec = k8s.types.input.networking.v1.NetworkPolicyPort;

function namespaceSelector(namespace: string): PeerSpec["namespaceSelector"] {
  return { matchLabels: { "kubernetes.io/metadata.name": namespace } };
}

/** Renders a peer as a NetworkPolicy peer. */
export function toPolicyPeer(peer: NetworkPeer): PeerSpec {
  if ("cidr" in peer) return { ipBlock: { cidr: peer.cidr, except: peer.except } };
  if ("app" in peer) {
    return {
      podSelector: { matchLabels: { "app.kubernetes.io/name": peer.app } },
      ...(peer.namespace ? { namespaceSelector: namespaceSelector(peer.namespace) } : {}),
    };
  }
  return { namespaceSelector: namespaceSelector(peer.namespace) };
}

/** Renders ports for a rule (TCP unless stated otherwise). */
export function toPolicyPorts(ports: number[] | undefined, protocol = "TCP"): PortSpec[] | undefined {
  return ports?.map((port) => ({ port, protocol }));
}

/** Egress to cluster DNS (kube-system, port 53 UDP and TCP): every namespace's one standing allowance. */
export const dnsEgress: k8s.types.input.networking.v1.NetworkPolicyEgressRule = {
  to: [{ namespaceSelector: namespaceSelector("kube-system") }],
  ports: [
    { port: 53, protocol: "UDP" },
    { port: 53, protocol: "TCP" },
  ],
};
