import {
  Demand,
  GeneratedSecret,
  ImageResolver,
  IngressTls,
  Namespace,
  NetworkPeer,
  Redis,
  SizingProfile,
  ValidationError,
  WebIngress,
  namespaceBudget,
  throwIfInvalid,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { Coturn, coturnExceptionReason } from "./coturn";
import { GatewayCrds } from "./crds";
import { LiveKit } from "./livekit";
import { ResolvedWebRtcSettings, WebRtcAppSettings, resolveWebRtcSettings, turnHost } from "./settings";
import { WebRtcComponent, webrtcSize } from "./sizes";
import { Stunner, turnListener } from "./stunner";

export interface WebRtcArgs {
  /** @default "webrtc" */
  namespace?: string;
  /** Namespace of coturn, which alone gets the privileged Pod Security exception. @default "turn" */
  turnNamespace?: string;
  /** Base domain; hosts are `livekit.<domain>` (signalling) and `turn.<domain>` (TURN realm). */
  domain: string;
  sizing: SizingProfile;
  images: ImageResolver;
  /** Storage class of Redis's append-only file. */
  fastStorageClass: string;
  ingressClass: string;
  ingressTls: IngressTls;
  /** @default "ingress-nginx" */
  ingressControllerNamespace?: string;
  /** Don't wait for ingress and load-balancer addresses. @default false */
  ingressSkipAwait?: boolean;
  /** Bump to rotate every generated secret (the TURN secret and LiveKit keys included). @default 0 */
  secretRotation?: number;
  /** More peers allowed to LiveKit's API and signalling port, e.g. Matrix's lk-jwt-service. @default [] */
  livekitClients?: NetworkPeer[];
  /** Ports, coturn, CRDs. @default see WebRtcAppSettings */
  app?: WebRtcAppSettings;
}

const hostRe = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function plan(args: WebRtcArgs) {
  const replicas = args.sizing.replicas;
  return { livekit: replicas, stunnerd: replicas, coturn: Math.min(replicas, 2) };
}

export function validateWebRtcArgs(args: WebRtcArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!hostRe.test(args.domain))
    problems.push(new ValidationError("domain", `"${args.domain}" is not a DNS domain`));
  try {
    resolveWebRtcSettings(args.app);
  } catch (e) {
    problems.push(e as ValidationError);
  }
  return problems;
}

function coturnEnabled(args: WebRtcArgs): boolean {
  return args.app?.coturn ?? true;
}

/** The demand of the `webrtc` namespace and, with coturn, of the `turn` namespace. */
export function webrtcDemand(args: WebRtcArgs): Demand[] {
  const p = plan(args);
  const d = (c: WebRtcComponent, replicas: number): Demand => ({
    name: `webrtc/${c}`,
    replicas,
    resources: webrtcSize(args.sizing, c),
  });
  return [
    d("livekit", p.livekit),
    d("redis", 1),
    d("stunnerd", p.stunnerd),
    ...(coturnEnabled(args) ? [d("coturn", p.coturn)] : []),
  ];
}

/**
 * WebRTC infrastructure: LiveKit with Redis, STUNner in front of it, and coturn for TURN clients (Matrix)
 * on the host network. One TURN secret is generated once and used by STUNner and coturn; it is exported for
 * other platforms (Matrix's `turn_shared_secret`).
 */
export class WebRtc extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly turnNamespace?: pulumi.Output<string>;
  /** `https://livekit.<domain>` (clients use wss:// on the same host). */
  readonly livekitUrl: string;
  /** TURN URIs to hand to clients. */
  readonly turnUris: string[];
  /** The shared TURN secret (secret output) for other platforms' TURN REST credentials. */
  readonly turnSharedSecret: pulumi.Output<string>;
  /** LiveKit's API key and secret (secret outputs), for token services in other namespaces (lk-jwt-service). */
  readonly livekitApiKey: pulumi.Output<string>;
  readonly livekitApiSecret: pulumi.Output<string>;
  /** Names of the generated Secrets (never their values). */
  readonly secretNames: pulumi.Output<string[]>;

  constructor(name: string, args: WebRtcArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:webrtc:WebRtc", name, {}, opts);
    throwIfInvalid(validateWebRtcArgs(args));
    const s: ResolvedWebRtcSettings = resolveWebRtcSettings(args.app);
    const p = plan(args);
    const partOf = "webrtc";
    const child = { parent: this };
    const size = (c: WebRtcComponent) => webrtcSize(args.sizing, c);
    const ingressNs = args.ingressControllerNamespace ?? "ingress-nginx";
    const rotation = args.secretRotation;
    const livekitHost = `livekit.${args.domain}`;
    const realm = turnHost(args.domain);
    this.livekitUrl = `https://${livekitHost}`;
    const demands = webrtcDemand(args);

    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: args.namespace ?? "webrtc",
        budget: namespaceBudget(
          demands.filter((d) => d.name !== "webrtc/coturn"),
          1,
        ),
      },
      child,
    );
    const namespace = ns.name;
    this.namespace = namespace;

    const turnSecret = new GeneratedSecret(
      `${name}-turn-secret`,
      {
        namespace,
        secretName: "turn-shared-secret",
        generate: { secret: { length: 48 } },
        // The keys STUNner's GatewayConfig authRef reads.
        provided: { type: "ephemeral" },
        rotation,
      },
      child,
    );
    this.turnSharedSecret = turnSecret.values.secret;

    const redis = new Redis(
      `${name}-redis`,
      {
        namespace,
        partOf,
        image: args.images.image("redis"),
        resources: size("redis"),
        // Room and participant routing must not be evicted under memory pressure, nor lost on a restart.
        evictionPolicy: "noeviction",
        persistence: true,
        storageClass: args.fastStorageClass,
        storageSize: "1Gi",
        allowFrom: [{ app: "livekit" }],
        rotation,
      },
      child,
    );

    const livekit = new LiveKit(
      `${name}-livekit`,
      {
        namespace,
        partOf,
        image: args.images.image("livekit"),
        resources: size("livekit"),
        replicas: p.livekit,
        config: {
          redisAddress: "redis:6379",
          rtcTcpPort: s.rtcTcpPort,
          rtcUdpPortStart: s.rtcUdpPortStart,
          rtcUdpPortEnd: s.rtcUdpPortEnd,
          interfaces: s.rtcInterfaces,
          stunServers: s.stunServers,
        },
        redisPassword: redis.passwordRef(),
        allowFrom: [{ namespace: ingressNs }, ...(args.livekitClients ?? [])],
        mediaRelays: [{ app: "stunnerd" }],
        rotation,
      },
      { parent: this, dependsOn: [redis] },
    );

    this.livekitApiKey = livekit.keys.values["api-key"];
    this.livekitApiSecret = livekit.keys.values["api-secret"];

    const crds = s.installCrds ? new GatewayCrds(`${name}-crds`, {}, child).crds : [];
    const stunner = new Stunner(
      `${name}-stunner`,
      {
        namespace,
        partOf,
        image: args.images.image("stunnerd"),
        resources: size("stunnerd"),
        replicas: p.stunnerd,
        config: { realm, peerCidrs: s.stunnerPeerCidrs },
        sharedSecret: turnSecret.ref("secret"),
        sharedSecretValue: turnSecret.values.secret,
        livekitService: livekit.serviceName,
        gatewayClassName: `stunner-${name}`,
        crds,
        skipAwait: args.ingressSkipAwait,
      },
      child,
    );

    new WebIngress(
      `${name}-livekit-ingress`,
      {
        namespace,
        partOf,
        host: livekitHost,
        serviceName: livekit.serviceName,
        servicePort: 7880,
        ingressClass: args.ingressClass,
        tls: args.ingressTls,
        skipAwait: args.ingressSkipAwait,
        // Signalling is a long-lived WebSocket.
        annotations: {
          "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
          "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
        },
      },
      child,
    );

    const secrets = [turnSecret.secretName, redis.credentials.secretName, livekit.keys.secretName];
    this.turnUris = [`turn:${realm}:${turnListener.port}?transport=udp`];
    if (s.coturn) {
      const turnNs = new Namespace(
        `${name}-turn-ns`,
        {
          namespaceName: args.turnNamespace ?? "turn",
          podSecurity: { level: "privileged", reason: coturnExceptionReason },
          budget: namespaceBudget(
            demands.filter((d) => d.name === "webrtc/coturn"),
            0,
          ),
        },
        child,
      );
      this.turnNamespace = turnNs.name;
      // The same generated value, stored where coturn can read it (Secrets are namespaced).
      const coturnSecret = new GeneratedSecret(
        `${name}-coturn-secret`,
        {
          namespace: turnNs.name,
          secretName: "turn-shared-secret",
          generate: {},
          provided: { secret: this.turnSharedSecret },
        },
        child,
      );
      new Coturn(
        `${name}-coturn`,
        {
          namespace: turnNs.name,
          partOf,
          image: args.images.image("coturn"),
          resources: size("coturn"),
          replicas: p.coturn,
          config: {
            realm,
            relayMinPort: s.turnRelayMinPort,
            relayMaxPort: s.turnRelayMaxPort,
            externalIp: s.turnExternalIp,
            allowedPeerIps: s.turnAllowedPeerIps,
          },
          sharedSecret: coturnSecret.ref("secret"),
        },
        child,
      );
      this.turnUris.push(`turn:${realm}:3478?transport=tcp`);
      secrets.push(coturnSecret.secretName);
    }
    this.secretNames = pulumi.all(secrets).apply((names) => names as string[]);
    this.registerOutputs({
      namespace: this.namespace,
      livekitUrl: this.livekitUrl,
      turnUris: this.turnUris,
      secretNames: this.secretNames,
      stunnerService: stunner.serviceName,
    });
  }
}
