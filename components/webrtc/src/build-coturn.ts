import { GeneratedSecret, Namespace, namespaceBudget } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { Coturn, coturnExceptionReason } from "./coturn";
import { WebRtcPlan, partOf } from "./plan";

/** coturn in its own privileged namespace, with the shared TURN secret copied there. */
export function coturnRelay(
  name: string,
  plan: WebRtcPlan,
  turn: {
    /** coturn's namespace (the plan's `turnNamespace`). */
    namespaceName: string;
    /** The shared TURN secret generated in the platform's namespace. */
    sharedSecret: pulumi.Output<string>;
  },
  parent: pulumi.Resource,
): { namespace: pulumi.Output<string>; secret: GeneratedSecret; coturn: Coturn } {
  const { site, settings: s } = plan;
  const turnNs = new Namespace(
    `${name}-turn-ns`,
    {
      namespaceName: turn.namespaceName,
      podSecurity: { level: "privileged", reason: coturnExceptionReason },
      budget: namespaceBudget([...plan.namespaceDemand.turn], site.sizing, 0),
    },
    { parent },
  );
  // The same generated value, stored where coturn can read it (Secrets are namespaced).
  const secret = new GeneratedSecret(
    `${name}-coturn-secret`,
    {
      namespace: turnNs.name,
      secretName: "turn-shared-secret",
      generate: {},
      provided: { secret: turn.sharedSecret },
      rotation: site.secretRotation,
    },
    { parent },
  );
  const coturn = new Coturn(
    `${name}-coturn`,
    {
      namespace: turnNs.name,
      partOf,
      image: site.images.image("coturn"),
      resources: plan.sizes.coturn,
      replicas: plan.replicas.coturn,
      config: {
        realm: plan.realm,
        relayMinPort: s.turnRelayMinPort,
        relayMaxPort: s.turnRelayMaxPort,
        externalIp: s.turnExternalIp,
        allowedPeerIps: s.turnAllowedPeerIps,
      },
      sharedSecret: secret.ref("secret"),
    },
    { parent },
  );
  return { namespace: turnNs.name, secret, coturn };
}
