import {
  Demand,
  IngressTls,
  PlatformPlan,
  ScrapeTarget,
  Site,
  ValidationError,
  throwIfInvalid,
} from "@keel/core";

/**
 * A plan for a platform whose package does not plan yet: its arguments for a given TLS, validated and its
 * demand computed with a placeholder TLS (demand needs none).
 */
export interface LegacyPlan<A> extends PlatformPlan {
  args(tls: IngressTls): A;
}

const placeholderTls: IngressTls = { mode: "acme", clusterIssuer: "none" };

export function legacyPlan<A>(
  site: Site,
  p: {
    namespaces: string[];
    scrapeTargets?: ScrapeTarget[];
    args: (tls: IngressTls) => A;
    validate: (a: A) => ValidationError[];
    demand: (a: A) => Demand[];
  },
): LegacyPlan<A> {
  const a = p.args(placeholderTls);
  throwIfInvalid(p.validate(a));
  return {
    site,
    namespaces: p.namespaces,
    demand: p.demand(a),
    nodePorts: [],
    scrapeTargets: p.scrapeTargets ?? [],
    args: p.args,
  };
}

/** The arguments every legacy platform shares, from the site. */
export function common(site: Site, tls: IngressTls) {
  return {
    domain: site.domain,
    sizing: site.sizing,
    images: site.images,
    ingressClass: site.ingress.className,
    ingressControllerNamespace: site.ingress.controllerNamespace,
    ingressSkipAwait: site.ingress.skipAwait,
    ingressTls: tls,
  };
}
