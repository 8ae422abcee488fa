import { PlatformPlan, ResourceSpec, Site, ValidationError, throwIfInvalid, ImageKey } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { validateBrowserPoolArgs } from "./browser-pool";
import {
  MicroservicesAppSettings,
  ResolvedMicroservicesSettings,
  resolveMicroservicesSettings,
} from "./settings";
import { MicroservicesComponent, baseSizes, baseStorageGi, microservicesSize } from "./sizes";

/** Every catalogue image the platform may run, whatever its settings (its plan's `images`). */
export const microservicesImages: readonly ImageKey[] = [
  "redis",
  "clickhouse",
  "browserPool",
  "aiService",
  "auditSink",
  "messageQueue",
];

/** Model provider keys (secret config): a service only gets the keys that are set. */
export interface ProviderKeys {
  openai?: pulumi.Input<string>;
  anthropic?: pulumi.Input<string>;
}

export interface MicroservicesArgs {
  /** @default "microservices" */
  namespace?: string;
  /** @default {} */
  providerKeys?: ProviderKeys;
  /** @default see MicroservicesAppSettings */
  app?: MicroservicesAppSettings;
}

/** Autoscaling ranges of the stateless services (the platform's design plan). */
export const microservicesScaling = {
  aiService: { minReplicas: 2, maxReplicas: 10 },
  browserPool: { minReplicas: 2, maxReplicas: 5 },
  auditSink: { minReplicas: 2, maxReplicas: 8 },
  messageQueue: { minReplicas: 2, maxReplicas: 6 },
} as const;

/** What the microservices platform will make; `planMicroservices` computes it and `Microservices` builds it. */
export interface MicroservicesPlan extends PlatformPlan {
  readonly namespace: string;
  readonly settings: ResolvedMicroservicesSettings;
  /** Resources of every component for the site's sizing profile. */
  readonly sizes: Readonly<Record<MicroservicesComponent, ResourceSpec>>;
  /** Size of every volume, e.g. `20Gi`. */
  readonly volumes: Readonly<Record<keyof typeof baseStorageGi, string>>;
  /** Gi of persistent storage the platform claims. */
  readonly storageGi: number;
  /** Where ai-service is published: `ai.<domain>`. */
  readonly aiHost: string;
  readonly providerKeys: ProviderKeys;
}

/** The settings (errors name `app.<key>`) and the browser pool's /dev/shm against its memory limit. */
export function validateMicroservicesArgs(site: Site, args: MicroservicesArgs = {}): ValidationError[] {
  try {
    const app = resolveMicroservicesSettings(args.app);
    return validateBrowserPoolArgs({
      namespace: "x",
      partOf: "x",
      image: site.images.image("browserPool"),
      resources: microservicesSize(site.sizing, "browserPool"),
      autoscaling: microservicesScaling.browserPool,
      shmGi: app.browserShmGi,
      allowFrom: [],
    }).map((p) => new ValidationError(`browserPool.${p.field}`, p.problem));
  } catch (e) {
    return [e as ValidationError];
  }
}

const backupResources = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "512Mi" },
};

/** Resolves the platform's settings once and computes everything the cluster must hold for it. */
export function planMicroservices(site: Site, args: MicroservicesArgs = {}): MicroservicesPlan {
  throwIfInvalid(validateMicroservicesArgs(site, args));
  const settings = resolveMicroservicesSettings(args.app);
  const namespace = args.namespace ?? "microservices";
  const components = Object.keys(baseSizes) as MicroservicesComponent[];
  const sizes = Object.fromEntries(components.map((c) => [c, microservicesSize(site.sizing, c)])) as Record<
    MicroservicesComponent,
    ResourceSpec
  >;
  const scale = site.sizing.storageScale;
  const stored = Object.keys(baseStorageGi) as (keyof typeof baseStorageGi)[];
  const volumes = Object.fromEntries(stored.map((v) => [v, `${baseStorageGi[v] * scale}Gi`])) as Record<
    keyof typeof baseStorageGi,
    string
  >;
  const d = (c: MicroservicesComponent, replicas = 1) => ({
    name: `microservices/${c}`,
    replicas,
    resources: sizes[c],
  });
  return {
    site,
    namespace,
    settings,
    sizes,
    volumes,
    storageGi: Object.values(baseStorageGi).reduce((s, gi) => s + gi * scale, 0),
    aiHost: `ai.${site.domain}`,
    providerKeys: args.providerKeys ?? {},
    namespaces: [namespace],
    demand: [
      d("aiService", microservicesScaling.aiService.maxReplicas),
      d("browserPool", microservicesScaling.browserPool.maxReplicas),
      d("auditSink", microservicesScaling.auditSink.maxReplicas),
      d("messageQueue", microservicesScaling.messageQueue.maxReplicas),
      d("redis"),
      d("clickhouse"),
      { name: "microservices/clickhouse-backup", replicas: 1, resources: backupResources },
    ],
    nodePorts: [],
    scrapeTargets: [],
    images: microservicesImages,
  };
}
