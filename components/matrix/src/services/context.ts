import { IngressTls, NetworkPeer, ResourceSpec, Site, WebIngress } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import type { MatrixPlan } from "../plan";
import { MatrixComponent } from "../sizes";

/** What every builder of one namespace's services gets: where and for whom it builds. */
export interface NamespaceContext {
  /** The component's name: every child is `<name>-<id>`. */
  readonly name: string;
  readonly site: Site;
  readonly tls: IngressTls;
  readonly namespace: pulumi.Output<string>;
  /** `app.kubernetes.io/part-of`. */
  readonly partOf: string;
  /** The component: every child's parent. */
  readonly parent: pulumi.Resource;
  readonly resources: Readonly<Record<MatrixComponent, ResourceSpec>>;
}

/** What the main namespace's builders get: its plan and who scrapes its metrics. */
export interface MatrixContext extends NamespaceContext {
  readonly plan: MatrixPlan;
  /** Prometheus, when monitored: let in on metrics ports. */
  readonly scrapers: NetworkPeer[];
}

/** The ingress controller's namespace: the only way in from outside. */
export function fromIngress(c: NamespaceContext, ports?: number[]): NetworkPeer {
  return { namespace: c.site.ingress.controllerNamespace, ...(ports ? { ports } : {}) };
}

/** An Ingress `<name>-<id>-ingress` for `host` to a Service of the namespace, with the site's class and TLS. */
export function webIngress(
  c: NamespaceContext,
  id: string,
  host: string,
  serviceName: pulumi.Input<string>,
  servicePort: number,
  extra: { path?: string; annotations?: Record<string, string> } = {},
): WebIngress {
  return new WebIngress(
    `${c.name}-${id}-ingress`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      host,
      serviceName,
      servicePort,
      ingressClass: c.site.ingress.className,
      tls: c.tls,
      skipAwait: c.site.ingress.skipAwait,
      ...extra,
    },
    { parent: c.parent },
  );
}
