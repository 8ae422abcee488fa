import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** A CRD this program installs: group, kind, scope and the served version. */
export interface CrdSpec {
  group: string;
  kind: string;
  plural: string;
  scope: "Namespaced" | "Cluster";
  version: string;
}

/**
 * The Gateway API and STUNner kinds the WebRTC platform declares. Only what the objects need: on a cluster
 * with the upstream CRDs (a gateway controller, the STUNner operator), switch installation off instead.
 */
export const gatewayCrds: CrdSpec[] = [
  {
    group: "gateway.networking.k8s.io",
    kind: "GatewayClass",
    plural: "gatewayclasses",
    scope: "Cluster",
    version: "v1",
  },
  {
    group: "gateway.networking.k8s.io",
    kind: "Gateway",
    plural: "gateways",
    scope: "Namespaced",
    version: "v1",
  },
  {
    group: "stunner.l7mp.io",
    kind: "GatewayConfig",
    plural: "gatewayconfigs",
    scope: "Namespaced",
    version: "v1",
  },
  { group: "stunner.l7mp.io", kind: "UDPRoute", plural: "udproutes", scope: "Namespaced", version: "v1" },
];

/**
 * Minimal `apiextensions.k8s.io/v1` CRDs (schemas preserve unknown fields) so the STUNner and Gateway API
 * objects can be stored on a cluster that runs no operator, such as the local kwok cluster.
 */
export class GatewayCrds extends pulumi.ComponentResource {
  readonly crds: k8s.apiextensions.v1.CustomResourceDefinition[];

  constructor(name: string, args: { crds?: CrdSpec[] } = {}, opts?: pulumi.ComponentResourceOptions) {
    super("keel:webrtc:GatewayCrds", name, {}, opts);
    this.crds = (args.crds ?? gatewayCrds).map(
      (c) =>
        new k8s.apiextensions.v1.CustomResourceDefinition(
          `${name}-${c.plural}`,
          {
            metadata: {
              name: `${c.plural}.${c.group}`,
              labels: { "app.kubernetes.io/managed-by": "keel" },
              annotations: {
                "keel.dev/minimal-schema": "true",
                // The API server refuses CRDs in *.k8s.io groups without this approval reference.
                ...(/(^|\.)k8s\.io$/.test(c.group)
                  ? {
                      "api-approved.kubernetes.io":
                        "https://github.com/kubernetes-sigs/gateway-api/pull/1538",
                    }
                  : {}),
              },
            },
            spec: {
              group: c.group,
              scope: c.scope,
              names: {
                kind: c.kind,
                plural: c.plural,
                singular: c.kind.toLowerCase(),
                listKind: `${c.kind}List`,
              },
              versions: [
                {
                  name: c.version,
                  served: true,
                  storage: true,
                  subresources: { status: {} },
                  schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
                },
              ],
            },
          },
          { parent: this },
        ),
    );
    this.registerOutputs({});
  }
}
