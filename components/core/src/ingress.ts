import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ServerCertificate } from "./certificates";
import { appLabels } from "./conventions";

/** Where an ingress gets its certificate. */
export type IngressTls =
  | { mode: "selfSigned"; ca: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string> } }
  | { mode: "provided"; certificate: pulumi.Input<string>; key: pulumi.Input<string> }
  | { mode: "acme"; clusterIssuer: string };

export interface WebIngressArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** Public host name. */
  host: string;
  serviceName: pulumi.Input<string>;
  servicePort: number;
  /** The IngressClass to use. */
  ingressClass: string;
  tls: IngressTls;
  /** Don't wait for a load balancer address (no ingress controller reports one). @default false */
  skipAwait?: boolean;
  /** @default "/" */
  path?: string;
  /** Extra annotations (e.g. body size). @default {} */
  annotations?: Record<string, string>;
}

/** An HTTPS-only Ingress for one service, with its certificate from the stack's TLS mode. */
export class WebIngress extends pulumi.ComponentResource {
  readonly host: string;

  constructor(name: string, args: WebIngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:WebIngress", name, {}, opts);
    this.host = args.host;
    const secretName = `${name}-tls`;
    const tlsMode = args.tls;
    if (tlsMode.mode === "selfSigned") {
      new ServerCertificate(
        `${name}-cert`,
        { namespace: args.namespace, secretName, dnsNames: [args.host], ca: tlsMode.ca },
        { parent: this },
      );
    } else if (tlsMode.mode === "provided") {
      new k8s.core.v1.Secret(
        `${name}-tls`,
        {
          metadata: { name: secretName, namespace: args.namespace },
          type: "kubernetes.io/tls",
          stringData: { "tls.crt": tlsMode.certificate, "tls.key": pulumi.secret(tlsMode.key) },
        },
        { parent: this },
      );
    }
    new k8s.networking.v1.Ingress(
      `${name}`,
      {
        metadata: {
          name,
          namespace: args.namespace,
          labels: appLabels(name, args.partOf),
          annotations: {
            ...(tlsMode.mode === "acme" ? { "cert-manager.io/cluster-issuer": tlsMode.clusterIssuer } : {}),
            ...(args.skipAwait ? { "pulumi.com/skipAwait": "true" } : {}),
            ...args.annotations,
          },
        },
        spec: {
          ingressClassName: args.ingressClass,
          tls: [{ hosts: [args.host], secretName }],
          rules: [
            {
              host: args.host,
              http: {
                paths: [
                  {
                    path: args.path ?? "/",
                    pathType: "Prefix",
                    backend: { service: { name: args.serviceName, port: { number: args.servicePort } } },
                  },
                ],
              },
            },
          ],
        },
      },
      { parent: this },
    );
    this.registerOutputs({ host: this.host });
  }
}
