import {
  ConnectionConsumer,
  Demand,
  PlatformPlan,
  ResourceSpec,
  Site,
  ValidationError,
  checkConnectionBudget,
  throwIfInvalid,
  ImageKey,
} from "@keel/core";
import { AiCoreAppSettings, resolveAppSettings } from "./settings";
import { AiCoreComponent, aiCoreSize, baseSizes } from "./sizes";

/** Every catalogue image the platform may run, whatever its settings (its plan's `images`). */
export const aiCoreImages: readonly ImageKey[] = [
  "postgres",
  "redis",
  "keycloak",
  "orchestrator",
  "stt",
  "tts",
];

/** The platform's own arguments; everything the site decides (domain, sizing, storage, GPU...) comes from it. */
export interface AiCoreArgs {
  /** @default "ai-core" */
  namespace?: string;
  /** Pool and cache sizes, the speech model and its mirror. @default see AiCoreAppSettings */
  app?: AiCoreAppSettings;
}

/** What the AI core will make; `planAiCore` computes it and `AiCore` builds it. */
export interface AiCorePlan extends PlatformPlan {
  readonly namespace: string;
  readonly settings: Required<AiCoreAppSettings>;
  /** `assistant.<domain>` (the orchestrator) and `auth.<domain>` (Keycloak). */
  readonly hosts: { readonly assistant: string; readonly auth: string };
  readonly replicas: {
    readonly keycloak: number;
    readonly orchestrator: { readonly minReplicas: number; readonly maxReplicas: number };
  };
  readonly postgres: {
    readonly maxConnections: number;
    readonly storageGi: number;
    /** Every client and its pool at full scale, checked against `maxConnections`. */
    readonly consumers: readonly ConnectionConsumer[];
  };
  /** The GPU speech services (STT and TTS) run: the site has GPU nodes. */
  readonly speech: boolean;
  /** Size of each speech service's model volume in Gi. */
  readonly modelsGi: number;
  readonly sizes: Readonly<Record<AiCoreComponent, ResourceSpec>>;
}

/** The label every resource of the platform carries as `app.kubernetes.io/part-of`. */
export const partOf = "ai-core";

const publicModelHubs = /(^|\.)(huggingface\.co|hf\.co)$/;

function replicaPlan(site: Site) {
  const ha = site.sizing.replicas > 1;
  return {
    keycloak: ha ? 2 : 1,
    orchestrator: ha ? { minReplicas: 2, maxReplicas: 10 } : { minReplicas: 1, maxReplicas: 3 },
    maxConnections: ha ? 200 : 100,
  };
}

function consumers(
  settings: Required<AiCoreAppSettings>,
  r: ReturnType<typeof replicaPlan>,
): ConnectionConsumer[] {
  return [
    {
      name: "orchestrator",
      poolSize: settings.orchestratorDbPoolSize,
      maxReplicas: r.orchestrator.maxReplicas,
    },
    { name: "keycloak", poolSize: settings.keycloakDbPoolSize, maxReplicas: r.keycloak },
  ];
}

/**
 * Every problem with the platform's arguments on this site: its settings, the public model hub on an
 * air-gapped site, and the PostgreSQL connection budget. Fields are named `app.<key>`.
 */
export function validateAiCoreArgs(site: Site, args: AiCoreArgs = {}): ValidationError[] {
  let settings: Required<AiCoreAppSettings>;
  try {
    settings = resolveAppSettings(args.app);
  } catch (e) {
    return [e as ValidationError];
  }
  const problems: ValidationError[] = [];
  const mirror = settings.modelMirror;
  if (site.airGapped && URL.canParse(mirror) && publicModelHubs.test(new URL(mirror).hostname)) {
    problems.push(
      new ValidationError(
        "app.modelMirror",
        `"${mirror}" is the public Hugging Face hub; point it at the site's mirror, or leave it empty and seed the model volumes`,
      ),
    );
  }
  const r = replicaPlan(site);
  problems.push(...checkConnectionBudget("postgres", r.maxConnections, 10, consumers(settings, r)));
  return problems;
}

/** Resolves the AI core's settings once and computes everything the cluster must hold for it. */
export function planAiCore(site: Site, args: AiCoreArgs = {}): AiCorePlan {
  throwIfInvalid(validateAiCoreArgs(site, args));
  const settings = resolveAppSettings(args.app);
  const namespace = args.namespace ?? "ai-core";
  const r = replicaPlan(site);
  const sizes = Object.fromEntries(
    (Object.keys(baseSizes) as AiCoreComponent[]).map((c) => [c, aiCoreSize(site.sizing, c)]),
  ) as Record<AiCoreComponent, ResourceSpec>;
  const d = (c: AiCoreComponent, replicas: number): Demand => ({
    name: `ai-core/${c === "backup" ? "postgres-backup" : c}`,
    replicas,
    resources: sizes[c],
  });
  return {
    site,
    namespace,
    settings,
    hosts: { assistant: `assistant.${site.domain}`, auth: `auth.${site.domain}` },
    replicas: { keycloak: r.keycloak, orchestrator: r.orchestrator },
    postgres: {
      maxConnections: r.maxConnections,
      storageGi: 10 * site.sizing.storageScale,
      consumers: consumers(settings, r),
    },
    speech: site.gpu,
    modelsGi: 20,
    sizes,
    namespaces: [namespace],
    demand: [
      d("postgres", 1),
      d("backup", 1),
      d("redis", 1),
      d("keycloak", r.keycloak),
      d("orchestrator", r.orchestrator.maxReplicas),
      ...(site.gpu ? [d("stt", 1), d("tts", 1)] : []),
    ],
    nodePorts: [],
    scrapeTargets: [],
    images: aiCoreImages,
  };
}
