import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appLabels, exemptionKey, selectorLabels } from "./conventions";
import { ValidationError, throwIfInvalid } from "./errors";
import { NetworkPeer, toPolicyPeer } from "./network";

/** A port or an inclusive range of ports a workload listens on and advertises to clients as-is. */
export interface NodePortRange {
  /** Short name used in the Service names, e.g. `rtc-udp`. */
  name: string;
  protocol: "TCP" | "UDP";
  start: number;
  /** Inclusive end of the range. @default start */
  end?: number;
}

export interface NodePortServicesArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** The app whose pods receive the traffic (`app.kubernetes.io/name`). */
  app: string;
  ports: NodePortRange[];
  /** Why the ports leave the cluster without the ingress controller (recorded as an exemption). */
  reason: string;
  /** Who may reach the ports (clients anywhere, relays in the cluster). @default [{ cidr: "0.0.0.0/0" }] */
  allowFrom?: NetworkPeer[];
  /** Ports per Service; long lists are split so each Service stays small. @default 250 */
  maxPortsPerService?: number;
}

/** The NodePort range of a default cluster. */
export const nodePortRange = { min: 30000, max: 32767 } as const;

/** Splits an inclusive port range into chunks of at most `max` ports. */
export function splitPortRange(start: number, end: number, max = 250): { start: number; end: number }[] {
  const chunks: { start: number; end: number }[] = [];
  for (let s = start; s <= end; s += max) chunks.push({ start: s, end: Math.min(end, s + max - 1) });
  return chunks;
}

export function validateNodePortServicesArgs(args: NodePortServicesArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!args.reason?.trim()) {
    problems.push(
      new ValidationError("reason", "node ports leave the cluster: a documented reason is required"),
    );
  }
  const max = args.maxPortsPerService ?? 250;
  if (!Number.isInteger(max) || max < 1 || max > 250) {
    problems.push(new ValidationError("maxPortsPerService", `must be an integer from 1 to 250, got ${max}`));
  }
  const used: { protocol: string; start: number; end: number; field: string }[] = [];
  for (const [i, p] of args.ports.entries()) {
    const field = `ports[${i}]`;
    const end = p.end ?? p.start;
    const inRange = (n: number) => Number.isInteger(n) && n >= nodePortRange.min && n <= nodePortRange.max;
    if (!inRange(p.start) || !inRange(end) || end < p.start) {
      problems.push(
        new ValidationError(
          field,
          `${p.start}–${end} must be a range within ${nodePortRange.min}–${nodePortRange.max} (the port is advertised as-is, so port = targetPort = nodePort)`,
        ),
      );
      continue;
    }
    // The node-port allocator is protocol-blind across Services: a number used by TCP and UDP must be
    // one Service, so cross-protocol overlaps are only allowed for identical ranges (merged below).
    const clash = used.find(
      (u) =>
        p.start <= u.end &&
        end >= u.start &&
        (u.protocol === p.protocol || u.start !== p.start || u.end !== end),
    );
    if (clash) {
      problems.push(
        new ValidationError(
          field,
          clash.protocol === p.protocol
            ? `overlaps ${clash.field} (${p.protocol})`
            : `overlaps ${clash.field}: node ports are shared across protocols, so TCP and UDP must use the same range to share one Service`,
        ),
      );
    }
    used.push({ protocol: p.protocol, start: p.start, end, field });
  }
  if (args.ports.length === 0) problems.push(new ValidationError("ports", "needs at least one port"));
  return problems;
}

/**
 * NodePort Services for an app that advertises its own listen ports to clients (WebRTC media, BitTorrent):
 * port = targetPort = nodePort, external traffic kept on the receiving node, ranges split into Services of
 * at most 250 ports, an exemption with the reason on each Service and a NetworkPolicy admitting the sources.
 */
export class NodePortServices extends pulumi.ComponentResource {
  readonly serviceNames: pulumi.Output<string>[];

  constructor(name: string, args: NodePortServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:NodePortServices", name, {}, opts);
    throwIfInvalid(validateNodePortServicesArgs(args));
    const labels = appLabels(args.app, args.partOf);
    const selector = selectorLabels(args.app, args.partOf);
    const max = args.maxPortsPerService ?? 250;
    this.serviceNames = [];
    for (const group of groupByRange(args.ports)) {
      const { start, end } = group[0];
      const chunks = splitPortRange(start, end ?? start, Math.floor(max / group.length));
      const groupName = group.length === 1 ? group[0].name : commonName(group.map((r) => r.name));
      for (const [i, chunk] of chunks.entries()) {
        const suffix = chunks.length > 1 ? `${groupName}-${i}` : groupName;
        const ports = [];
        for (let port = chunk.start; port <= chunk.end; port++) {
          for (const range of group) {
            ports.push({
              name: `${range.protocol.toLowerCase()}-${port}`,
              port,
              targetPort: port,
              nodePort: port,
              protocol: range.protocol,
            });
          }
        }
        const service = new k8s.core.v1.Service(
          `${name}-${suffix}`,
          {
            metadata: {
              name: `${args.app}-${suffix}`,
              namespace: args.namespace,
              labels,
              annotations: { [exemptionKey("service-exposure")]: args.reason },
            },
            spec: { type: "NodePort", externalTrafficPolicy: "Local", selector, ports },
          },
          { parent: this },
        );
        this.serviceNames.push(service.metadata.name);
      }
    }
    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: { name: `${args.app}-node-ports`, namespace: args.namespace, labels },
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: (args.allowFrom ?? [{ cidr: "0.0.0.0/0" }]).map(toPolicyPeer),
              ports: args.ports.map((p) => ({
                port: p.start,
                ...((p.end ?? p.start) > p.start ? { endPort: p.end } : {}),
                protocol: p.protocol,
              })),
            },
          ],
        },
      },
      { parent: this },
    );
    this.registerOutputs({ serviceNames: this.serviceNames });
  }
}

/** Ranges with the same ports (TCP and UDP of one number) become one Service. */
function groupByRange(ranges: NodePortRange[]): NodePortRange[][] {
  const groups = new Map<string, NodePortRange[]>();
  for (const r of ranges) {
    const key = `${r.start}-${r.end ?? r.start}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()];
}

/** "bt-tcp" and "bt-udp" → "bt": the shared prefix of the names, or the first name when there is none. */
function commonName(names: string[]): string {
  let prefix = names[0];
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.replace(/-+$/, "") || names[0];
}
