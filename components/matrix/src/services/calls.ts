import { GeneratedSecret, Workload } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { lkJwtService } from "../clients";
import { HAPROXY_PORTS } from "../config";
import { MatrixContext, fromIngress, webIngress } from "./context";

/** Group calls and TURN from the WebRTC platform (LiveKit, coturn/STUNner). */
export interface MatrixCalls {
  /** `wss://livekit.<domain>`. */
  livekitUrl: string;
  /** Namespace and app of LiveKit (lk-jwt-service talks to its API). */
  livekitNamespace: string;
  apiKey: pulumi.Input<string>;
  apiSecret: pulumi.Input<string>;
  turnUris: string[];
  turnSharedSecret: pulumi.Input<string>;
}

/**
 * Group calls: LiveKit's API key in a Secret, lk-jwt-service turning Matrix OpenID tokens into LiveKit
 * tokens (it checks them through HAProxy and the homeserver's public name), and its ingress.
 */
export function groupCalls(
  c: MatrixContext,
  calls: MatrixCalls,
  haproxy: Workload,
): { keys: GeneratedSecret; service: Workload } {
  const { plan, site } = c;
  const keys = new GeneratedSecret(
    `${c.name}-livekit-keys`,
    {
      namespace: c.namespace,
      secretName: "livekit-keys",
      generate: {},
      provided: { "api-key": calls.apiKey, "api-secret": calls.apiSecret },
      // A copy of LiveKit's keys, which rotate with the site.
      rotation: site.secretRotation,
    },
    { parent: c.parent },
  );
  const service = lkJwtService(
    `${c.name}-lk-jwt`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      image: site.images.image("lkJwtService"),
      resources: c.resources.lkJwtService,
      replicas: plan.replicas.lkJwt,
      livekitUrl: calls.livekitUrl,
      apiKey: keys.ref("api-key"),
      apiSecret: keys.ref("api-secret"),
      fullAccessHomeservers: [site.domain],
      allowFrom: [fromIngress(c)],
      egressTo: [
        { app: haproxy.appName, ports: [HAPROXY_PORTS.http] },
        { app: "livekit", namespace: calls.livekitNamespace, ports: [7880] },
        // OpenID userinfo goes to the homeserver's public name (the ingress controller).
        fromIngress(c, [443]),
      ],
    },
    { parent: c.parent },
  );
  webIngress(c, "rtc", plan.hosts.rtc, service.serviceName, 8080);
  return { keys, service };
}
