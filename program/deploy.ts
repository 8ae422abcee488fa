import { AiCore, AiCoreArgs, aiCoreDemand, validateAiCoreArgs } from "@keel/ai-core";
import {
  CertificateAuthority,
  Demand,
  ImageResolver,
  IngressTls,
  ValidationError,
  checkCapacity,
  sizingProfile,
  throwIfInvalid,
} from "@keel/core";
import { Matrix, MatrixArgs, MatrixCalls, matrixDemand, validateMatrixArgs } from "@keel/matrix";
import { Media, MediaArgs, mediaDemand, validateMediaArgs } from "@keel/media";
import {
  Microservices,
  MicroservicesArgs,
  microservicesDemand,
  validateMicroservicesArgs,
} from "@keel/microservices";
import { Osint, OsintArgs, osintDemand, validateOsintArgs } from "@keel/osint";
import { WebRtc, WebRtcArgs, validateWebRtcArgs, webrtcDemand } from "@keel/webrtc";
import {
  Monitoring,
  MonitoringArgs,
  ScrapeTarget,
  monitoringDemand,
  validateMonitoringArgs,
} from "@keel/monitoring";
import * as pulumi from "@pulumi/pulumi";
import { PlatformName, StackConfig, platformNames } from "./config";

/** Secret config values (set with `pulumi config set --secret`). */
export interface StackSecrets {
  tlsCertificate?: pulumi.Output<string>;
  tlsKey?: pulumi.Output<string>;
  /** The OpenCTI API token for the OSINT connector (generated when unset). */
  openctiToken?: pulumi.Output<string>;
  /** Model provider keys for the microservices' ai-service. */
  openaiApiKey?: pulumi.Output<string>;
  anthropicApiKey?: pulumi.Output<string>;
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

/** What every platform's arguments share: domain, sizing, images, ingress. */
function common(cfg: StackConfig, images: ImageResolver, tls: IngressTls) {
  return {
    domain: cfg.domain,
    sizing: sizingProfile(cfg.sizing),
    images,
    ingressClass: cfg.ingress.className,
    ingressControllerNamespace: cfg.ingress.controllerNamespace,
    ingressSkipAwait: cfg.ingress.skipAwait,
    ingressTls: tls,
  };
}

function osintArgs(cfg: StackConfig, images: ImageResolver, tls: IngressTls, s: StackSecrets): OsintArgs {
  return {
    ...common(cfg, images, tls),
    secretRotation: cfg.secretRotation,
    fastStorageClass: cfg.storageClasses.fast,
    bulkStorageClass: cfg.storageClasses.bulk,
    backup: cfg.backup,
    protectData: cfg.protectData,
    openctiToken: s.openctiToken,
    app: cfg.osint,
  };
}

function mediaArgs(cfg: StackConfig, images: ImageResolver, tls: IngressTls): MediaArgs {
  return {
    ...common(cfg, images, tls),
    fastStorageClass: cfg.storageClasses.fast,
    bulkStorageClass: cfg.storageClasses.bulk,
    protectData: cfg.protectData,
    app: cfg.media,
  };
}

function webrtcArgs(cfg: StackConfig, images: ImageResolver, tls: IngressTls): WebRtcArgs {
  return {
    ...common(cfg, images, tls),
    secretRotation: cfg.secretRotation,
    fastStorageClass: cfg.storageClasses.fast,
    app: cfg.webrtc,
  };
}

function microservicesArgs(
  cfg: StackConfig,
  images: ImageResolver,
  tls: IngressTls,
  s: StackSecrets,
): MicroservicesArgs {
  return {
    ...common(cfg, images, tls),
    secretRotation: cfg.secretRotation,
    fastStorageClass: cfg.storageClasses.fast,
    bulkStorageClass: cfg.storageClasses.bulk,
    backup: cfg.backup,
    protectData: cfg.protectData,
    providerKeys: { openai: s.openaiApiKey, anthropic: s.anthropicApiKey },
    app: cfg.microservices,
  };
}

function matrixArgs(cfg: StackConfig, images: ImageResolver, tls: IngressTls): MatrixArgs {
  return {
    ...common(cfg, images, tls),
    secretRotation: cfg.secretRotation,
    fastStorageClass: cfg.storageClasses.fast,
    bulkStorageClass: cfg.storageClasses.bulk,
    backup: cfg.backup,
    protectData: cfg.protectData,
    airGapped: cfg.airGapped,
    monitoringNamespace: cfg.platforms.includes("monitoring") ? "monitoring" : undefined,
    app: cfg.matrix,
  };
}

/** Namespaces with annotated metrics endpoints, and their ports (Prometheus's egress). */
function scrapeTargets(cfg: StackConfig): ScrapeTarget[] {
  return cfg.platforms.includes("matrix") ? [{ namespace: "matrix", ports: [9000, 8405, 9187, 9121] }] : [];
}

function monitoringArgs(
  cfg: StackConfig,
  images: ImageResolver,
  tls: IngressTls,
  endpoints: string[] = [],
  ca?: pulumi.Input<string>,
): MonitoringArgs {
  return {
    ...common(cfg, images, tls),
    secretRotation: cfg.secretRotation,
    fastStorageClass: cfg.storageClasses.fast,
    targets: scrapeTargets(cfg),
    certificateEndpoints: endpoints.filter((e) => e.startsWith("https://")),
    probeCaCertificate: ca,
    app: cfg.monitoring,
  };
}

/**
 * Every image the stack may use after the registry override: the `images` output, the list the air-gapped
 * bundle checks the rendered resources against.
 */
export function stackImages(cfg: StackConfig): string[] {
  return new ImageResolver(cfg.imageRegistry, cfg.images).all();
}

/** Validates a platform's arguments (throwing with every problem) and returns its demand. */
function checked<A>(args: A, validate: (a: A) => ValidationError[], demand: (a: A) => Demand[]): Demand[] {
  throwIfInvalid(validate(args));
  return demand(args);
}

/**
 * Registers every enabled platform. All checks that can fail (capacity, per-platform validation) run before
 * the first resource is registered.
 */
export function deploy(cfg: StackConfig, secrets: StackSecrets = {}): StackOutputs {
  const images = new ImageResolver(cfg.imageRegistry, cfg.images);
  // The CA is only a placeholder in the arguments until it exists; demand needs no TLS.
  const placeholderTls: IngressTls = { mode: "acme", clusterIssuer: "none" };
  const preflight: Record<PlatformName, () => Demand[]> = {
    aiCore: () => checked(aiCoreArgs(cfg, images, placeholderTls), validateAiCoreArgs, aiCoreDemand),
    osint: () => checked(osintArgs(cfg, images, placeholderTls, secrets), validateOsintArgs, osintDemand),
    media: () => checked(mediaArgs(cfg, images, placeholderTls), validateMediaArgs, mediaDemand),
    webrtc: () => checked(webrtcArgs(cfg, images, placeholderTls), validateWebRtcArgs, webrtcDemand),
    microservices: () =>
      checked(
        microservicesArgs(cfg, images, placeholderTls, secrets),
        validateMicroservicesArgs,
        microservicesDemand,
      ),
    matrix: () => checked(matrixArgs(cfg, images, placeholderTls), validateMatrixArgs, matrixDemand),
    monitoring: () =>
      checked(monitoringArgs(cfg, images, placeholderTls), validateMonitoringArgs, monitoringDemand),
  };
  const demands = platformNames.filter((p) => cfg.platforms.includes(p)).flatMap((p) => preflight[p]());
  throwIfInvalid(checkCapacity(cfg.capacity, demands));

  const outputs: StackOutputs = {
    namespaces: {},
    endpoints: {},
    generatedSecrets: {},
    images: stackImages(cfg),
  };
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
  if (cfg.platforms.includes("osint")) {
    const osint = new Osint("osint", osintArgs(cfg, images, tls, secrets));
    outputs.namespaces.osint = osint.namespace;
    outputs.endpoints.osint = osint.opsUrl;
    outputs.endpoints.kibana = osint.kibanaUrl;
    outputs.generatedSecrets.osint = osint.secretNames;
  }
  if (cfg.platforms.includes("media")) {
    const media = new Media("media", mediaArgs(cfg, images, tls));
    outputs.namespaces.media = media.namespace;
    for (const [app, url] of Object.entries(media.urls)) outputs.endpoints[app] = url;
  }
  let calls: MatrixCalls | undefined;
  if (cfg.platforms.includes("webrtc")) {
    const webrtc = new WebRtc("webrtc", {
      ...webrtcArgs(cfg, images, tls),
      // Matrix's token service creates rooms through LiveKit's API.
      livekitClients: cfg.platforms.includes("matrix")
        ? [{ app: "lk-jwt-service", namespace: "matrix" }]
        : [],
    });
    calls = {
      livekitUrl: webrtc.livekitUrl.replace(/^https:/, "wss:"),
      livekitNamespace: "webrtc",
      apiKey: webrtc.livekitApiKey,
      apiSecret: webrtc.livekitApiSecret,
      turnUris: webrtc.turnUris,
      turnSharedSecret: webrtc.turnSharedSecret,
    };
    outputs.namespaces.webrtc = webrtc.namespace;
    if (webrtc.turnNamespace) outputs.namespaces.turn = webrtc.turnNamespace;
    outputs.endpoints.livekit = webrtc.livekitUrl;
    outputs.generatedSecrets.webrtc = webrtc.secretNames;
  }
  if (cfg.platforms.includes("microservices")) {
    const micro = new Microservices("microservices", microservicesArgs(cfg, images, tls, secrets));
    outputs.namespaces.microservices = micro.namespace;
    outputs.endpoints.ai = micro.aiUrl;
    outputs.generatedSecrets.microservices = micro.secretNames;
  }
  if (cfg.platforms.includes("matrix")) {
    const matrix = new Matrix("matrix", {
      ...matrixArgs(cfg, images, tls),
      caCertificate: outputs.caCertificate,
      calls,
    });
    outputs.namespaces.matrix = matrix.namespace;
    if (matrix.liNamespace) outputs.namespaces.matrixLi = matrix.liNamespace;
    outputs.endpoints.matrix = matrix.urls.homeserver;
    outputs.endpoints.element = matrix.urls.element;
    outputs.endpoints.synapseAdmin = matrix.urls.admin;
    outputs.generatedSecrets.matrix = matrix.secretNames;
  }
  if (cfg.platforms.includes("monitoring")) {
    const monitoring = new Monitoring(
      "monitoring",
      monitoringArgs(cfg, images, tls, Object.values(outputs.endpoints), outputs.caCertificate),
    );
    outputs.namespaces.monitoring = monitoring.namespace;
    outputs.endpoints.grafana = monitoring.grafanaUrl;
    outputs.generatedSecrets.monitoring = monitoring.secretNames;
  }
  return outputs;
}
