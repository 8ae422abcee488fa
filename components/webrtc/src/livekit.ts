import {
  GeneratedSecret,
  NetworkPeer,
  NodePortServices,
  ResourceSpec,
  SecretKeyRef,
  stableYaml,
  Workload,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";

/** Where LiveKit serves Prometheus metrics. */
export const LIVEKIT_METRICS_PORT = 6789;

/** The non-secret LiveKit settings: how media reaches it and where its routing state lives. */
export interface LiveKitConfigInput {
  redisAddress: string;
  rtcTcpPort: number;
  rtcUdpPortStart: number;
  rtcUdpPortEnd: number;
  interfaces: string[];
  /** STUN servers handed to clients (`host:port`); empty leaves LiveKit's built-in public ones. @default [] */
  stunServers?: string[];
}

/**
 * livekit.yaml (deterministic YAML). No secret in it: API keys come from LIVEKIT_KEYS and the Redis
 * password from REDIS_PASSWORD. `rtc.node_ip` is set explicitly per pod with `--node-ip` (the node's address
 * from the downward API), so nothing asks a STUN server for a public IP (`use_external_ip: false`).
 */
export function renderLiveKitConfig(c: LiveKitConfigInput): string {
  return stableYaml({
    port: 7880,
    // The current forms: 1.13 warns that prometheus_port is deprecated, and marks log_level deprecated too.
    prometheus: { port: LIVEKIT_METRICS_PORT },
    logging: { level: "info" },
    redis: { address: c.redisAddress },
    rtc: {
      tcp_port: c.rtcTcpPort,
      // One port: LiveKit multiplexes every participant over it (udp_port); otherwise a range.
      ...(c.rtcUdpPortStart === c.rtcUdpPortEnd
        ? { udp_port: c.rtcUdpPortStart }
        : { port_range_start: c.rtcUdpPortStart, port_range_end: c.rtcUdpPortEnd }),
      use_external_ip: false,
      enable_loopback_candidate: false,
      interfaces: { includes: c.interfaces },
      ...(c.stunServers && c.stunServers.length > 0 ? { stun_servers: c.stunServers } : {}),
    },
    turn: { enabled: false },
    room: { auto_create: false, empty_timeout: 300 },
  });
}

export interface LiveKitArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  image: string;
  resources: ResourceSpec;
  /** One per node (media ports are node ports). */
  replicas: number;
  config: LiveKitConfigInput;
  redisPassword: SecretKeyRef;
  /** Who may reach the signalling port (ingress controller, token services). */
  allowFrom: NetworkPeer[];
  /** Relays inside the cluster that forward media to LiveKit (STUNner). @default [] */
  mediaRelays?: NetworkPeer[];
  /** @default 0 */
  rotation?: number;
  /** A node maintenance window: the single pod's budget lets drains evict it. @default false */
  maintenance?: boolean;
}

/**
 * LiveKit SFU: generated API key pair, Redis for multi-node routing, explicit node IP and interface filters,
 * and its RTC ports exposed the way it advertises them (NodePort, port = targetPort = nodePort).
 */
export class LiveKit extends pulumi.ComponentResource {
  readonly serviceName: pulumi.Output<string>;
  /** `api-key`, `api-secret` and `keys` (LIVEKIT_KEYS format), for token services such as lk-jwt-service. */
  readonly keys: GeneratedSecret;

  constructor(name: string, args: LiveKitArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:webrtc:LiveKit", name, {}, opts);
    const child = { parent: this };
    this.keys = new GeneratedSecret(
      `${name}-keys`,
      {
        namespace: args.namespace,
        secretName: "livekit-keys",
        generate: { "api-key": { length: 16 }, "api-secret": { length: 48 } },
        derive: (v) => ({ keys: pulumi.interpolate`${v["api-key"]}: ${v["api-secret"]}` }),
        rotation: args.rotation,
      },
      child,
    );
    const config = renderLiveKitConfig(args.config);
    const health = { http: { path: "/", port: 7880 } };
    const server = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: "livekit",
        partOf: args.partOf,
        image: args.image,
        command: ["/livekit-server"],
        args: ["--config", "/etc/livekit/livekit.yaml", "--node-ip", "$(NODE_IP)"],
        replicas: args.replicas,
        oneReplicaPerNode: true,
        resources: args.resources,
        bootSeconds: 30,
        probes: {
          startup: { ...health, periodSeconds: 5, failureThreshold: 12, timeoutSeconds: 3 },
          readiness: { ...health, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
          liveness: { ...health, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
        },
        ports: [
          { name: "http", port: 7880 },
          { name: "rtc-tcp", port: args.config.rtcTcpPort, expose: false },
          { name: "metrics", port: LIVEKIT_METRICS_PORT, expose: false },
        ],
        env: {},
        fieldEnv: { NODE_IP: "status.hostIP" },
        secretEnv: { LIVEKIT_KEYS: this.keys.ref("keys"), REDIS_PASSWORD: args.redisPassword },
        configFiles: [{ name: "config", mountPath: "/etc/livekit", files: { "livekit.yaml": config } }],
        critical: true,
        maintenance: args.maintenance,
        // Lets rooms drain: participants move to other nodes before the process exits.
        terminationGracePeriodSeconds: 300,
        allowFrom: args.allowFrom,
        egressTo: [
          { app: "redis", ports: [6379] },
          // ICE connectivity checks and media go to clients wherever they are.
          { cidr: "0.0.0.0/0" },
        ],
      },
      child,
    );
    this.serviceName = server.serviceName;

    new NodePortServices(
      `${name}-rtc`,
      {
        namespace: args.namespace,
        partOf: args.partOf,
        app: "livekit",
        ports: [
          { name: "rtc-tcp", protocol: "TCP", start: args.config.rtcTcpPort },
          {
            name: "rtc-udp",
            protocol: "UDP",
            start: args.config.rtcUdpPortStart,
            end: args.config.rtcUdpPortEnd,
          },
        ],
        reason:
          "WebRTC clients send media to the node address and ports LiveKit advertises in its ICE candidates (port = nodePort)",
        allowFrom: [{ cidr: "0.0.0.0/0" }, ...(args.mediaRelays ?? [])],
      },
      { parent: this, dependsOn: [server] },
    );
    this.registerOutputs({ serviceName: this.serviceName, keys: this.keys.secretName });
  }
}
