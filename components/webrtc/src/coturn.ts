import { ResourceSpec, SecretKeyRef, Workload, exemptionKey } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";

/** Ranges a TURN relay must never reach unless explicitly allowed (RFC 1918, loopback, link-local, CGNAT...). */
export const deniedPeerRanges = [
  "0.0.0.0-0.255.255.255",
  "10.0.0.0-10.255.255.255",
  "100.64.0.0-100.127.255.255",
  "127.0.0.0-127.255.255.255",
  "169.254.0.0-169.254.255.255",
  "172.16.0.0-172.31.255.255",
  "192.0.0.0-192.0.0.255",
  "192.168.0.0-192.168.255.255",
  "198.18.0.0-198.19.255.255",
  "240.0.0.0-255.255.255.255",
];

export interface TurnserverConfigInput {
  realm: string;
  relayMinPort: number;
  relayMaxPort: number;
  /** Public address when the nodes are behind NAT. @default "" */
  externalIp?: string;
  /** Internal ranges the relay may reach anyway (air-gapped sites). @default [] */
  allowedPeerIps?: string[];
}

/**
 * turnserver.conf in a fixed order. TURN REST authentication (`use-auth-secret`): the shared secret is
 * passed as `--static-auth-secret` from the Secret at start, never written here.
 */
export function renderTurnserverConf(c: TurnserverConfigInput): string {
  const lines = [
    "# rendered by keel; the shared secret comes from --static-auth-secret",
    "listening-port=3478",
    `realm=${c.realm}`,
    "use-auth-secret",
    "fingerprint",
    `min-port=${c.relayMinPort}`,
    `max-port=${c.relayMaxPort}`,
    ...(c.externalIp ? [`external-ip=${c.externalIp}`] : []),
    "no-cli",
    "no-tls",
    "no-dtls",
    "no-multicast-peers",
    "no-software-attribute",
    "stale-nonce=600",
    "user-quota=12",
    "total-quota=1200",
    "log-file=stdout",
    "pidfile=/tmp/turnserver.pid",
    "userdb=/var/lib/coturn/turndb",
    ...deniedPeerRanges.map((r) => `denied-peer-ip=${r}`),
    ...(c.allowedPeerIps ?? []).map((r) => `allowed-peer-ip=${r}`),
  ];
  return lines.join("\n") + "\n";
}

/** Why coturn needs what the rules otherwise forbid; recorded on its namespace and workload. */
export const coturnExceptionReason =
  "coturn relays media on ports it allocates per allocation across a wide range; it runs on the host network " +
  "so clients reach those ports directly, and needs NET_ADMIN to set DSCP/TOS on relayed packets";

export interface CoturnArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  image: string;
  resources: ResourceSpec;
  replicas: number;
  config: TurnserverConfigInput;
  /** The shared TURN secret in this namespace. */
  sharedSecret: SecretKeyRef;
}

/** coturn on the host network with TURN REST auth: the platform's documented exception (F23). */
export class Coturn extends pulumi.ComponentResource {
  constructor(name: string, args: CoturnArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:webrtc:Coturn", name, {}, opts);
    const conf = renderTurnserverConf(args.config);
    const turn = { tcp: { port: 3478 } };
    new Workload(
      name,
      {
        namespace: args.namespace,
        appName: "coturn",
        partOf: args.partOf,
        image: args.image,
        args: ["-c", "/etc/coturn/turnserver.conf", "--static-auth-secret=$(TURN_SHARED_SECRET)"],
        replicas: args.replicas,
        oneReplicaPerNode: true,
        resources: args.resources,
        bootSeconds: 10,
        probes: {
          startup: { ...turn, periodSeconds: 2, failureThreshold: 15, timeoutSeconds: 2 },
          readiness: { ...turn, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
          liveness: { ...turn, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
        },
        ports: [
          { name: "turn-tcp", port: 3478 },
          { name: "turn-udp", port: 3478, protocol: "UDP" },
        ],
        secretEnv: { TURN_SHARED_SECRET: args.sharedSecret },
        runAsUser: 65534,
        hostNetwork: { reason: coturnExceptionReason },
        capabilities: { add: ["NET_ADMIN"], reason: coturnExceptionReason },
        configFiles: [{ name: "config", mountPath: "/etc/coturn", files: { "turnserver.conf": conf } }],
        scratchVolumes: [{ name: "turndb", mountPath: "/var/lib/coturn", sizeLimit: "16Mi" }],
        terminationGracePeriodSeconds: 60,
        allowFrom: [{ cidr: "0.0.0.0/0" }],
        egressTo: [{ cidr: "0.0.0.0/0" }],
        // The policy pack's rule ids for what host networking implies.
        annotations: {
          [exemptionKey("host-ports")]: coturnExceptionReason,
        },
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
