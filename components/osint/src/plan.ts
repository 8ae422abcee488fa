import {
  ConnectionConsumer,
  PlatformPlan,
  ResourceSpec,
  Site,
  ValidationError,
  checkConnectionBudget,
  throwIfInvalid,
  ImageKey,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { neo4jBoltThreads } from "./neo4j";
import { OsintAppSettings, ResolvedOsintSettings, resolveOsintSettings } from "./settings";
import { OsintComponent, baseSizes, baseStorageGi, osintSize } from "./sizes";

/** Every catalogue image the platform may run, whatever its settings (its plan's `images`). */
export const osintImages: readonly ImageKey[] = [
  "postgres",
  "redis",
  "elasticsearch",
  "kibana",
  "rabbitmq",
  "neo4j",
  "rustfs",
  "versitygw",
  "osintOrchestrator",
  "osintCollector",
  "osintEnricher",
  "osintConnector",
  "osintOpsUi",
];

export interface OsintArgs {
  /** @default "osint" */
  namespace?: string;
  /** The OpenCTI API token (secret config); generated when not provided. @default undefined */
  openctiToken?: pulumi.Input<string>;
  /** Pools, batch sizes, the object store backend. @default see OsintAppSettings */
  app?: OsintAppSettings;
}

/** Replicas of the services and PostgreSQL's connection limit, from the sizing profile. */
export interface OsintReplicas {
  readonly collector: { readonly minReplicas: number; readonly maxReplicas: number };
  readonly enricher: { readonly minReplicas: number; readonly maxReplicas: number };
  readonly orchestrator: number;
  readonly opsUi: number;
  readonly maxConnections: number;
  readonly reservedConnections: number;
}

/** What the OSINT platform will make; `planOsint` computes it and `Osint` builds it. */
export interface OsintPlan extends PlatformPlan {
  readonly namespace: string;
  readonly settings: ResolvedOsintSettings;
  readonly replicas: OsintReplicas;
  /** Resources of every component for the site's sizing profile. */
  readonly sizes: Readonly<Record<OsintComponent, ResourceSpec>>;
  /** Size of every volume, e.g. `20Gi` (the backup size is that of each backup volume). */
  readonly volumes: Readonly<Record<keyof typeof baseStorageGi, string>>;
  /** Gi of persistent storage the platform claims. */
  readonly storageGi: number;
  /** Every PostgreSQL client and its pool at full scale. */
  readonly postgresConsumers: readonly ConnectionConsumer[];
  /** Every Neo4j client and its driver pool at full scale. */
  readonly neo4jConsumers: readonly ConnectionConsumer[];
  /** Hosts of the ops UI (`osint.<domain>`) and Kibana (`kibana.<domain>`). */
  readonly hosts: { readonly ops: string; readonly kibana: string };
  /** The OpenCTI connector's target and its id (stable across updates). */
  readonly connector: { readonly openctiUrl: string; readonly id: string };
  /** The OpenCTI API token when provided (secret config); generated otherwise. */
  readonly openctiToken?: pulumi.Input<string>;
}

function replicasFor(site: Site): OsintReplicas {
  const ha = site.sizing.replicas > 1;
  const workers = ha ? { minReplicas: 2, maxReplicas: 10 } : { minReplicas: 1, maxReplicas: 3 };
  return {
    collector: workers,
    enricher: workers,
    orchestrator: ha ? 2 : 1,
    opsUi: ha ? 2 : 1,
    maxConnections: ha ? 200 : 100,
    reservedConnections: 10,
  };
}

function postgresConsumers(p: OsintReplicas, app: ResolvedOsintSettings): ConnectionConsumer[] {
  return [
    { name: "orchestrator", poolSize: app.dbPoolSize, maxReplicas: p.orchestrator },
    { name: "collector", poolSize: app.dbPoolSize, maxReplicas: p.collector.maxReplicas },
    { name: "enricher", poolSize: app.dbPoolSize, maxReplicas: p.enricher.maxReplicas },
  ];
}

function neo4jConsumers(p: OsintReplicas, app: ResolvedOsintSettings): ConnectionConsumer[] {
  return [
    { name: "orchestrator", poolSize: app.neo4jPoolSize, maxReplicas: p.orchestrator },
    { name: "enricher", poolSize: app.neo4jPoolSize, maxReplicas: p.enricher.maxReplicas },
  ];
}

/** The settings (errors name `app.<key>`) and every pool against PostgreSQL's and Neo4j's budgets. */
export function validateOsintArgs(site: Site, args: OsintArgs = {}): ValidationError[] {
  try {
    const app = resolveOsintSettings(args.app);
    const p = replicasFor(site);
    return [
      ...checkConnectionBudget(
        "postgres",
        p.maxConnections,
        p.reservedConnections,
        postgresConsumers(p, app),
      ),
      ...checkConnectionBudget("neo4j", neo4jBoltThreads, 0, neo4jConsumers(p, app)),
    ];
  } catch (e) {
    return [e as ValidationError];
  }
}

/** A stable UUID derived from a name (the connector's id must not change between updates). */
export function stableUuid(name: string): string {
  const h = createHash("sha256").update(name).digest("hex");
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Resolves the platform's settings once and computes everything the cluster must hold for it. */
export function planOsint(site: Site, args: OsintArgs = {}): OsintPlan {
  throwIfInvalid(validateOsintArgs(site, args));
  const settings = resolveOsintSettings(args.app);
  const replicas = replicasFor(site);
  const namespace = args.namespace ?? "osint";
  const components = Object.keys(baseSizes) as OsintComponent[];
  const sizes = Object.fromEntries(components.map((c) => [c, osintSize(site.sizing, c)])) as Record<
    OsintComponent,
    ResourceSpec
  >;
  const scale = site.sizing.storageScale;
  const stored = Object.keys(baseStorageGi) as (keyof typeof baseStorageGi)[];
  const volumes = Object.fromEntries(stored.map((v) => [v, `${baseStorageGi[v] * scale}Gi`])) as Record<
    keyof typeof baseStorageGi,
    string
  >;
  const d = (c: OsintComponent, replicas = 1) => ({ name: `osint/${c}`, replicas, resources: sizes[c] });
  return {
    site,
    namespace,
    settings,
    replicas,
    sizes,
    volumes,
    // PostgreSQL, Elasticsearch and Neo4j each have a backup volume.
    storageGi:
      Object.values(baseStorageGi).reduce((sum, gi) => sum + gi * scale, 0) +
      2 * baseStorageGi.backup * scale,
    postgresConsumers: postgresConsumers(replicas, settings),
    neo4jConsumers: neo4jConsumers(replicas, settings),
    hosts: { ops: `osint.${site.domain}`, kibana: `kibana.${site.domain}` },
    connector: {
      openctiUrl: settings.openctiUrl || `https://opencti.${site.domain}`,
      id: stableUuid(`${site.domain}/osint/opencti-connector`),
    },
    openctiToken: args.openctiToken,
    namespaces: [namespace],
    demand: [
      d("postgres"),
      ...["postgres", "elasticsearch", "neo4j"].map((db) => ({ ...d("backup"), name: `osint/${db}-backup` })),
      d("redis"),
      d("elasticsearch"),
      d("elasticsearchSetup"),
      d("kibana"),
      d("rabbitmq"),
      d("neo4j"),
      d("objectStore"),
      d("orchestrator", replicas.orchestrator),
      d("collector", replicas.collector.maxReplicas),
      d("enricher", replicas.enricher.maxReplicas),
      d("connector"),
      d("opsUi", replicas.opsUi),
    ],
    nodePorts: [],
    scrapeTargets: [],
    images: osintImages,
  };
}
