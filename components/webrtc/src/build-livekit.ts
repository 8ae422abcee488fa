import { IngressTls, Redis, WebIngress } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { LiveKit } from "./livekit";
import { WebRtcPlan, partOf } from "./plan";

/** LiveKit with the Redis it keeps room and participant routing in. */
export function liveKitWithRedis(
  name: string,
  plan: WebRtcPlan,
  namespace: pulumi.Output<string>,
  parent: pulumi.Resource,
): { redis: Redis; livekit: LiveKit } {
  const { site, settings: s } = plan;
  const rotation = site.secretRotation;
  const redis = new Redis(
    `${name}-redis`,
    {
      namespace,
      partOf,
      image: site.images.image("redis"),
      resources: plan.sizes.redis,
      // Room and participant routing must not be evicted under memory pressure, nor lost on a restart.
      evictionPolicy: "noeviction",
      persistence: true,
      storageClass: site.storageClasses.fast,
      storageSize: `${plan.redisStorageGi}Gi`,
      allowFrom: [{ app: "livekit" }],
      rotation,
      maintenance: site.maintenance,
    },
    { parent },
  );
  const livekit = new LiveKit(
    `${name}-livekit`,
    {
      namespace,
      partOf,
      image: site.images.image("livekit"),
      resources: plan.sizes.livekit,
      replicas: plan.replicas.livekit,
      config: {
        redisAddress: "redis:6379",
        rtcTcpPort: s.rtcTcpPort,
        rtcUdpPortStart: s.rtcUdpPortStart,
        rtcUdpPortEnd: s.rtcUdpPortEnd,
        interfaces: s.rtcInterfaces,
        stunServers: s.stunServers,
      },
      redisPassword: redis.passwordRef(),
      allowFrom: [{ namespace: site.ingress.controllerNamespace }, ...plan.livekitClients],
      mediaRelays: [{ app: "stunnerd" }],
      rotation,
      maintenance: site.maintenance,
    },
    { parent, dependsOn: [redis] },
  );
  return { redis, livekit };
}

/** Signalling through the ingress on `livekit.<domain>`: a long-lived WebSocket. */
export function liveKitIngress(
  name: string,
  plan: WebRtcPlan,
  peers: { namespace: pulumi.Output<string>; livekit: LiveKit; tls: IngressTls },
  parent: pulumi.Resource,
): WebIngress {
  const { site } = plan;
  return new WebIngress(
    `${name}-livekit-ingress`,
    {
      namespace: peers.namespace,
      partOf,
      host: plan.livekitHost,
      serviceName: peers.livekit.serviceName,
      servicePort: 7880,
      ingressClass: site.ingress.className,
      tls: peers.tls,
      skipAwait: site.ingress.skipAwait,
      annotations: {
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
        "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
      },
    },
    { parent },
  );
}
