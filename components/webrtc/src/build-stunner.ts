import { GeneratedSecret } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { GatewayCrds } from "./crds";
import { LiveKit } from "./livekit";
import { WebRtcPlan, partOf } from "./plan";
import { Stunner } from "./stunner";

/** STUNner in front of LiveKit, with the Gateway API and STUNner CRDs when the platform installs them. */
export function stunnerGateway(
  name: string,
  plan: WebRtcPlan,
  peers: { namespace: pulumi.Output<string>; turnSecret: GeneratedSecret; livekit: LiveKit },
  parent: pulumi.Resource,
): Stunner {
  const { site } = plan;
  const crds = plan.settings.installCrds ? new GatewayCrds(`${name}-crds`, {}, { parent }).crds : [];
  return new Stunner(
    `${name}-stunner`,
    {
      namespace: peers.namespace,
      partOf,
      image: site.images.image("stunnerd"),
      resources: plan.sizes.stunnerd,
      replicas: plan.replicas.stunnerd,
      config: { realm: plan.realm, peerCidrs: plan.settings.stunnerPeerCidrs },
      sharedSecret: peers.turnSecret.ref("secret"),
      sharedSecretValue: peers.turnSecret.values.secret,
      livekitService: peers.livekit.serviceName,
      gatewayClassName: `stunner-${name}`,
      crds,
      skipAwait: site.ingress.skipAwait,
    },
    { parent },
  );
}
