import {
  Demand,
  NetworkPeer,
  PlatformPlan,
  ResourceSpec,
  Site,
  ValidationError,
  throwIfInvalid,
  ImageKey,
} from "@keel/core";
import {
  ResolvedWebRtcSettings,
  WebRtcAppSettings,
  ownStunServer,
  resolveWebRtcSettings,
  turnHost,
} from "./settings";
import { WebRtcComponent, baseSizes, webrtcSize } from "./sizes";
import { stunnerTurnNodePort, turnListener } from "./stunner";

/** Every catalogue image the platform may run, whatever its settings (its plan's `images`). */
export const webrtcImages: readonly ImageKey[] = ["redis", "livekit", "stunnerd", "coturn"];

/** The platform's own arguments; everything the site decides (domain, sizing, storage...) comes from it. */
export interface WebRtcArgs {
  /** @default "webrtc" */
  namespace?: string;
  /** Namespace of coturn, which alone gets the privileged Pod Security exception. @default "turn" */
  turnNamespace?: string;
  /** More peers allowed to LiveKit's API and signalling port, e.g. Matrix's lk-jwt-service. @default [] */
  livekitClients?: NetworkPeer[];
  /** Ports, coturn, CRDs, STUN servers. @default see WebRtcAppSettings */
  app?: WebRtcAppSettings;
}

/** What the WebRTC platform will make; `planWebRtc` computes it and `WebRtc` builds it. */
export interface WebRtcPlan extends PlatformPlan {
  readonly namespace: string;
  /** coturn's namespace; undefined when coturn is off. */
  readonly turnNamespace?: string;
  /** The settings, completed for the site: an air-gapped site's LiveKit hands clients the stack's own STUN server. */
  readonly settings: ResolvedWebRtcSettings;
  /** `livekit.<domain>`: signalling through the ingress. */
  readonly livekitHost: string;
  /** The TURN realm, `turn.<domain>`. */
  readonly realm: string;
  /** TURN URIs to hand to clients: STUNner's, and coturn's when it runs. */
  readonly turnUris: readonly string[];
  readonly replicas: { readonly livekit: number; readonly stunnerd: number; readonly coturn: number };
  readonly sizes: Readonly<Record<WebRtcComponent, ResourceSpec>>;
  /** Gi of Redis's append-only file, the only persistent storage of the `webrtc` namespace. */
  readonly redisStorageGi: number;
  readonly livekitClients: readonly NetworkPeer[];
  /** What runs in the `webrtc` namespace, and in coturn's (empty without coturn), for their quotas. */
  readonly namespaceDemand: { readonly webrtc: readonly Demand[]; readonly turn: readonly Demand[] };
}

/** The label every resource of the platform carries as `app.kubernetes.io/part-of`. */
export const partOf = "webrtc";

/** Every problem with the platform's arguments; fields are named `app.<key>`. */
export function validateWebRtcArgs(args: WebRtcArgs = {}): ValidationError[] {
  try {
    resolveWebRtcSettings(args.app);
    return [];
  } catch (e) {
    return [e as ValidationError];
  }
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start + 1 }, (_, i) => start + i);
}

/** Resolves the WebRTC settings once and computes everything the cluster must hold for it. */
export function planWebRtc(site: Site, args: WebRtcArgs = {}): WebRtcPlan {
  throwIfInvalid(validateWebRtcArgs(args));
  const resolved = resolveWebRtcSettings(args.app);
  // Nothing an air-gapped stack runs may depend on the internet: LiveKit's built-in STUN servers are public.
  const settings: ResolvedWebRtcSettings =
    site.airGapped && resolved.stunServers.length === 0
      ? { ...resolved, stunServers: [ownStunServer(site.domain)] }
      : resolved;
  const namespace = args.namespace ?? "webrtc";
  const turnNamespace = settings.coturn ? (args.turnNamespace ?? "turn") : undefined;
  const replicas = {
    livekit: site.sizing.replicas,
    stunnerd: site.sizing.replicas,
    coturn: Math.min(site.sizing.replicas, 2),
  };
  const sizes = Object.fromEntries(
    (Object.keys(baseSizes) as WebRtcComponent[]).map((c) => [c, webrtcSize(site.sizing, c)]),
  ) as Record<WebRtcComponent, ResourceSpec>;
  const d = (c: WebRtcComponent, n: number): Demand => ({
    name: `webrtc/${c}`,
    replicas: n,
    resources: sizes[c],
  });
  const namespaceDemand = {
    webrtc: [d("livekit", replicas.livekit), d("redis", 1), d("stunnerd", replicas.stunnerd)],
    turn: settings.coturn ? [d("coturn", replicas.coturn)] : [],
  };
  const realm = turnHost(site.domain);
  return {
    site,
    namespace,
    turnNamespace,
    settings,
    livekitHost: `livekit.${site.domain}`,
    realm,
    turnUris: [
      `turn:${realm}:${turnListener.port}?transport=udp`,
      ...(settings.coturn ? [`turn:${realm}:3478?transport=tcp`] : []),
    ],
    replicas,
    sizes,
    redisStorageGi: 1,
    livekitClients: args.livekitClients ?? [],
    namespaceDemand,
    namespaces: [namespace, ...(turnNamespace === undefined ? [] : [turnNamespace])],
    demand: [...namespaceDemand.webrtc, ...namespaceDemand.turn],
    nodePorts: [
      { port: settings.rtcTcpPort, protocol: "TCP" },
      ...range(settings.rtcUdpPortStart, settings.rtcUdpPortEnd).map((port) => ({
        port,
        protocol: "UDP" as const,
      })),
      { port: stunnerTurnNodePort, protocol: "UDP" },
    ],
    scrapeTargets: [],
    images: webrtcImages,
  };
}
