import {
  CertificateAuthority,
  ImageKey,
  ImageResolver,
  imageCatalog,
  IngressTls,
  PlatformPlan,
  checkCapacity,
  checkPlans,
  throwIfInvalid,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./config";
import { PlatformName, platformNames, platforms } from "./platforms";
import { BuildContext, PlatformEntry, StackSecrets } from "./platforms/entry";

export type { StackSecrets };

/** What an operator needs after `pulumi up`: endpoints, namespaces, Secret names — never secret values. */
export interface StackOutputs {
  namespaces: Record<string, pulumi.Output<string>>;
  endpoints: Record<string, string>;
  generatedSecrets: Record<string, pulumi.Output<string[]>>;
  caCertificate?: pulumi.Output<string>;
  images: string[];
}

/**
 * Every image the stack may use after the registry override, in catalogue order: the images its enabled
 * platforms' plans list. The `images` output, the list the air-gapped bundle mirrors and checks the rendered
 * resources against.
 */
export function stackImages(cfg: StackConfig, plans: Plans = planStack(cfg)): string[] {
  const used = new Set(Object.values(plans).flatMap((p) => [...p.images]));
  const resolver = new ImageResolver(cfg.imageRegistry, cfg.images);
  return (Object.keys(imageCatalog) as ImageKey[]).filter((k) => used.has(k)).map((k) => resolver.image(k));
}

type Plans = Partial<Record<PlatformName, PlatformPlan>>;

type Entry = PlatformEntry<PlatformPlan, pulumi.ComponentResource>;

function enabled(cfg: StackConfig): PlatformName[] {
  return platformNames.filter((p) => cfg.platforms.includes(p));
}

/**
 * Plans every enabled platform and checks the plans together (capacity, namespaces, node ports): pure, and
 * throws a ValidationError naming the config key before anything is registered.
 */
export function planStack(
  cfg: StackConfig,
  secrets: StackSecrets = {},
): Partial<Record<PlatformName, PlatformPlan>> {
  const plans: Partial<Record<PlatformName, PlatformPlan>> = {};
  for (const p of enabled(cfg))
    plans[p] = (platforms[p] as Entry).plan({ site: cfg.site, enabled: cfg.platforms, secrets }, cfg[p]);
  throwIfInvalid([
    ...checkPlans(plans as Record<string, PlatformPlan>),
    ...checkCapacity(
      cfg.capacity,
      Object.values(plans).flatMap((p) => [...p.demand]),
    ),
  ]);
  return plans;
}

function ingressTls(cfg: StackConfig, secrets: StackSecrets, outputs: StackOutputs): IngressTls {
  if (cfg.tls.mode === "selfSigned") {
    const ca = new CertificateAuthority("keel-ca");
    outputs.caCertificate = ca.certPem;
    return { mode: "selfSigned", ca: { certPem: ca.certPem, keyPem: ca.keyPem } };
  }
  if (cfg.tls.mode === "provided") {
    if (!secrets.tlsCertificate || !secrets.tlsKey)
      throw new Error("keel:tlsCertificate and keel:tlsKey are required");
    return { mode: "provided", certificate: secrets.tlsCertificate, key: secrets.tlsKey };
  }
  return { mode: "acme", clusterIssuer: cfg.tls.acmeClusterIssuer ?? "letsencrypt" };
}

/**
 * Registers every enabled platform from its plan, in the table's order. All checks that can fail run in
 * `planStack`, before the first resource is registered.
 */
export function deploy(cfg: StackConfig, secrets: StackSecrets = {}): StackOutputs {
  const plans = planStack(cfg, secrets);
  const outputs: StackOutputs = {
    namespaces: {},
    endpoints: {},
    generatedSecrets: {},
    images: stackImages(cfg, plans),
  };
  const tls = ingressTls(cfg, secrets, outputs);
  const built: Record<string, pulumi.ComponentResource> = {};
  for (const p of enabled(cfg)) {
    const ctx: BuildContext = {
      tls,
      caCertificate: outputs.caCertificate,
      plans: plans as Record<string, PlatformPlan>,
      built,
      endpoints: outputs.endpoints,
    };
    const { component, outputs: out } = (platforms[p] as Entry).build(plans[p]!, ctx);
    built[p] = component;
    Object.assign(outputs.namespaces, out.namespaces);
    Object.assign(outputs.endpoints, out.endpoints);
    if (out.generatedSecrets) outputs.generatedSecrets[p] = out.generatedSecrets;
  }
  return outputs;
}
