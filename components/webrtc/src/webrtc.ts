import { GeneratedSecret, IngressTls, Namespace, namespaceBudget } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { coturnRelay } from "./build-coturn";
import { liveKitIngress, liveKitWithRedis } from "./build-livekit";
import { stunnerGateway } from "./build-stunner";
import { WebRtcPlan } from "./plan";

/** What `WebRtc` builds from: its plan and the site's ingress certificates. */
export interface WebRtcBuildArgs {
  plan: WebRtcPlan;
  tls: IngressTls;
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

  constructor(name: string, args: WebRtcBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:webrtc:WebRtc", name, {}, opts);
    const { plan, tls } = args;
    this.livekitUrl = `https://${plan.livekitHost}`;
    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: plan.namespace,
        budget: namespaceBudget([...plan.namespaceDemand.webrtc], plan.site.sizing, plan.redisStorageGi),
      },
      { parent: this },
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
        rotation: plan.site.secretRotation,
      },
      { parent: this },
    );
    this.turnSharedSecret = turnSecret.values.secret;

    const { redis, livekit } = liveKitWithRedis(name, plan, namespace, this);
    this.livekitApiKey = livekit.keys.values["api-key"];
    this.livekitApiSecret = livekit.keys.values["api-secret"];
    const stunner = stunnerGateway(name, plan, { namespace, turnSecret, livekit }, this);
    liveKitIngress(name, plan, { namespace, livekit, tls }, this);

    const secrets = [turnSecret.secretName, redis.credentials.secretName, livekit.keys.secretName];
    this.turnUris = [...plan.turnUris];
    if (plan.turnNamespace !== undefined) {
      const turn = coturnRelay(
        name,
        plan,
        { namespaceName: plan.turnNamespace, sharedSecret: this.turnSharedSecret },
        this,
      );
      this.turnNamespace = turn.namespace;
      secrets.push(turn.secret.secretName);
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
