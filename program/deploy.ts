import { AiCore, AiCoreArgs, aiCoreDemand, validateAiCoreArgs } from "@keel/ai-core";
import {
  CertificateAuthority,
  Demand,
  ImageResolver,
  IngressTls,
  checkCapacity,
  sizingProfile,
  throwIfInvalid,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./config";

/** Secret config values (set with `pulumi config set --secret`). */
export interface StackSecrets {
  tlsCertificate?: pulumi.Output<string>;
  tlsKey?: pulumi.Output<string>;
}

/** What an operator needs after `pulumi up`: endpoints, namespaces, Secret names — never secret values. */
export interface StackOutputs {
  namespaces: Record<string, pulumi.Output<string>>;
  endpoints: Record<string, string>;
  generatedSecrets: Record<string, pulumi.Output<string[]>>;
  caCertificate?: pulumi.Output<string>;
  images: string[];
}

function aiCoreArgs(cfg: StackConfig, images: ImageResolver, tls: IngressTls): AiCoreArgs {
  return {
    domain: cfg.domain,
    sizing: sizingProfile(cfg.sizing),
    images,
    fastStorageClass: cfg.storageClasses.fast,
    bulkStorageClass: cfg.storageClasses.bulk,
    ingressClass: cfg.ingress.className,
    ingressControllerNamespace: cfg.ingress.controllerNamespace,
    ingressSkipAwait: cfg.ingress.skipAwait,
    ingressTls: tls,
    gpu: cfg.gpu,
    backup: cfg.backup,
    protectData: cfg.protectData,
    secretRotation: cfg.secretRotation,
    app: cfg.aiCore,
  };
}

/**
 * Registers every enabled platform. All checks that can fail (capacity, per-platform validation) run before
 * the first resource is registered.
 */
export function deploy(cfg: StackConfig, secrets: StackSecrets = {}): StackOutputs {
  const images = new ImageResolver(cfg.imageRegistry, cfg.images);
  // The CA is only a placeholder in the arguments until it exists; demand needs no TLS.
  const placeholderTls: IngressTls = { mode: "acme", clusterIssuer: "none" };
  const demands: Demand[] = [];
  if (cfg.platforms.includes("aiCore")) {
    const args = aiCoreArgs(cfg, images, placeholderTls);
    throwIfInvalid(validateAiCoreArgs(args));
    demands.push(...aiCoreDemand(args));
  }
  throwIfInvalid(checkCapacity(cfg.capacity, demands));

  const outputs: StackOutputs = { namespaces: {}, endpoints: {}, generatedSecrets: {}, images: images.all() };
  let tls: IngressTls;
  if (cfg.tls.mode === "selfSigned") {
    const ca = new CertificateAuthority("keel-ca", { rotation: cfg.secretRotation });
    outputs.caCertificate = ca.certPem;
    tls = { mode: "selfSigned", ca: { certPem: ca.certPem, keyPem: ca.keyPem } };
  } else if (cfg.tls.mode === "provided") {
    if (!secrets.tlsCertificate || !secrets.tlsKey)
      throw new Error("keel:tlsCertificate and keel:tlsKey are required");
    tls = { mode: "provided", certificate: secrets.tlsCertificate, key: secrets.tlsKey };
  } else {
    tls = { mode: "acme", clusterIssuer: cfg.tls.acmeClusterIssuer ?? "letsencrypt" };
  }

  if (cfg.platforms.includes("aiCore")) {
    const ai = new AiCore("ai-core", aiCoreArgs(cfg, images, tls));
    outputs.namespaces.aiCore = ai.namespace;
    outputs.endpoints.assistant = ai.assistantUrl;
    outputs.endpoints.auth = ai.authUrl;
    outputs.generatedSecrets.aiCore = ai.secretNames;
  }
  return outputs;
}
