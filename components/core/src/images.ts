import { rewriteRegistry } from "./contract/image-reference";
import { ValidationError } from "./errors";

export { rewriteRegistry };

/** A pinned image: a full repository (with registry host) and an exact version tag, optionally a digest. */
export interface PinnedImage {
  repository: string;
  tag: string;
  digest?: string;
}

/**
 * Every image the program can deploy, pinned to an exact version. Keys are stable; stacks may override a
 * key's version through config, and every image is rewritten to the private registry when one is set.
 * Bumping a version: docs/operations.md, "Version upgrades" (the conformance suite must run the new one).
 */
export const imageCatalog = {
  postgres: { repository: "docker.io/library/postgres", tag: "17.6-bookworm" },
  redis: { repository: "docker.io/library/redis", tag: "8.2.1-bookworm" },
  keycloak: { repository: "quay.io/keycloak/keycloak", tag: "26.3.3" },
  orchestrator: { repository: "docker.io/ozzuworld/june-orchestrator", tag: "1.4.2" },
  stt: { repository: "docker.io/ozzuworld/june-stt", tag: "1.4.2" },
  tts: { repository: "docker.io/ozzuworld/june-tts", tag: "1.4.2" },
  // OSINT (June Dark): Kibana pinned to the Elasticsearch version (Elastic's Docker Official Images);
  // MinIO ships no community images any more.
  elasticsearch: { repository: "docker.io/library/elasticsearch", tag: "8.19.10" },
  kibana: { repository: "docker.io/library/kibana", tag: "8.19.10" },
  rabbitmq: { repository: "docker.io/library/rabbitmq", tag: "4.1.3-management" },
  neo4j: { repository: "docker.io/library/neo4j", tag: "5.26.12-community" },
  rustfs: { repository: "docker.io/rustfs/rustfs", tag: "1.0.0-alpha.90" },
  versitygw: { repository: "docker.io/versity/versitygw", tag: "v1.7.0" },
  osintOrchestrator: { repository: "docker.io/ozzuworld/june-dark-orchestrator", tag: "1.4.2" },
  osintCollector: { repository: "docker.io/ozzuworld/june-dark-collector", tag: "1.4.2" },
  osintEnricher: { repository: "docker.io/ozzuworld/june-dark-enricher", tag: "1.4.2" },
  osintConnector: { repository: "docker.io/ozzuworld/june-dark-opencti-connector", tag: "1.4.2" },
  osintOpsUi: { repository: "docker.io/ozzuworld/june-dark-ops-ui", tag: "1.4.2" },
  // Media stack
  jellyfin: { repository: "docker.io/jellyfin/jellyfin", tag: "10.11.10" },
  prowlarr: { repository: "ghcr.io/home-operations/prowlarr", tag: "2.3.4.5307" },
  sonarr: { repository: "ghcr.io/home-operations/sonarr", tag: "4.0.17.2950" },
  radarr: { repository: "ghcr.io/home-operations/radarr", tag: "6.1.1.10317" },
  lidarr: { repository: "ghcr.io/home-operations/lidarr", tag: "3.1.2.4902" },
  qbittorrent: { repository: "ghcr.io/home-operations/qbittorrent", tag: "5.1.4" },
  seerr: { repository: "ghcr.io/seerr-team/seerr", tag: "v3.4.1" },
  // WebRTC
  livekit: { repository: "docker.io/livekit/livekit-server", tag: "v1.13.5" },
  stunnerd: { repository: "docker.io/l7mp/stunnerd", tag: "1.2.1" },
  coturn: { repository: "docker.io/coturn/coturn", tag: "4.9.0-alpine" },
  // Microservices
  clickhouse: { repository: "docker.io/clickhouse/clickhouse-server", tag: "26.3.4.11" },
  // The seed's browser-pool-service: built on mcr.microsoft.com/playwright:v1.58.0-noble, browsers included.
  browserPool: { repository: "ghcr.io/santaclaude/browser-pool-service", tag: "2.0.0" },
  aiService: { repository: "ghcr.io/santaclaude/ai-service", tag: "2.0.0" },
  auditSink: { repository: "ghcr.io/santaclaude/audit-sink-service", tag: "2.0.0" },
  messageQueue: { repository: "ghcr.io/santaclaude/message-queue-service", tag: "2.0.0" },
  // Matrix (Synapse with workers behind HAProxy, PgBouncer, Element, Synapse Admin, group calls)
  synapse: { repository: "ghcr.io/element-hq/synapse", tag: "v1.163.2" },
  haproxy: { repository: "docker.io/library/haproxy", tag: "3.2.8-alpine" },
  pgbouncer: { repository: "ghcr.io/cloudnative-pg/pgbouncer", tag: "1.25.0" },
  elementWeb: { repository: "ghcr.io/element-hq/element-web", tag: "v1.12.6" },
  synapseAdmin: { repository: "docker.io/awesometechnologies/synapse-admin", tag: "0.11.1" },
  lkJwtService: { repository: "ghcr.io/element-hq/lk-jwt-service", tag: "0.6.1" },
  rclone: { repository: "docker.io/rclone/rclone", tag: "1.71.2" },
  // Lawful intercept: the site's own builds of the LI forks (override repository/tag per site)
  synapseLi: { repository: "registry.matrix-li.internal/synapse-li", tag: "1.163.2-li.1" },
  elementWebLi: { repository: "registry.matrix-li.internal/element-web-li", tag: "1.12.6-li.1" },
  synapseAdminLi: { repository: "registry.matrix-li.internal/synapse-admin-li", tag: "0.11.1-li.1" },
  keyVault: { repository: "registry.matrix-li.internal/key-vault", tag: "1.0.0" },
  // Antivirus: clamd, and scan workers as a stdlib-only script on a pinned Python
  clamav: { repository: "docker.io/clamav/clamav", tag: "1.5.1" },
  python: { repository: "docker.io/library/python", tag: "3.13.9-slim-bookworm" },
  // Monitoring
  prometheus: { repository: "quay.io/prometheus/prometheus", tag: "v3.7.3" },
  alertmanager: { repository: "quay.io/prometheus/alertmanager", tag: "v0.29.0" },
  blackboxExporter: { repository: "quay.io/prometheus/blackbox-exporter", tag: "v0.27.0" },
  grafana: { repository: "docker.io/grafana/grafana", tag: "12.2.1" },
  loki: { repository: "docker.io/grafana/loki", tag: "3.5.7" },
  alloy: { repository: "docker.io/grafana/alloy", tag: "v1.11.3" },
  postgresExporter: { repository: "quay.io/prometheuscommunity/postgres-exporter", tag: "v0.18.1" },
  redisExporter: { repository: "docker.io/oliver006/redis_exporter", tag: "v1.80.0" },
  kubeStateMetrics: { repository: "registry.k8s.io/kube-state-metrics/kube-state-metrics", tag: "v2.17.0" },
} as const satisfies Record<string, PinnedImage>;

export type ImageKey = keyof typeof imageCatalog;

const mutableTags = new Set([
  "latest",
  "master",
  "main",
  "dev",
  "develop",
  "edge",
  "nightly",
  "stable",
  "rolling",
  "head",
  "trunk",
  "canary",
  "beta",
  "alpha",
]);

/** True when a tag names an exact version: it contains a digit and is not a moving channel name. */
export function isPinnedTag(tag: string): boolean {
  return !mutableTags.has(tag.toLowerCase()) && /\d/.test(tag) && /^[\w][\w.-]{0,127}$/.test(tag);
}

/** Validates a catalog entry or override; returns problems naming `field`. */
export function validatePinnedImage(field: string, image: PinnedImage): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+$/.test(image.repository)) {
    problems.push(
      new ValidationError(`${field}.repository`, `"${image.repository}" must be registry/path without a tag`),
    );
  }
  if (!isPinnedTag(image.tag)) {
    problems.push(
      new ValidationError(
        `${field}.tag`,
        `"${image.tag}" is mutable; use an exact version such as 1.2.3 (latest, main, stable... are refused)`,
      ),
    );
  }
  if (image.digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(image.digest)) {
    problems.push(new ValidationError(`${field}.digest`, "must be sha256:<64 hex digits>"));
  }
  return problems;
}

/** Resolves images against the catalog, applying per-key overrides and the private registry rewrite. */
export class ImageResolver {
  constructor(
    private readonly registry?: string,
    private readonly overrides: Partial<Record<ImageKey, PinnedImage>> = {},
  ) {}

  /** The full image reference for a catalog key. */
  image(key: ImageKey): string {
    const pinned: PinnedImage = this.overrides[key] ?? imageCatalog[key];
    return rewriteRegistry(formatImage(pinned), this.registry);
  }

  /** Every image reference the catalog resolves to (for mirroring lists). */
  all(): string[] {
    return (Object.keys(imageCatalog) as ImageKey[]).map((k) => this.image(k));
  }
}

export function formatImage(image: PinnedImage): string {
  return `${image.repository}:${image.tag}${image.digest ? `@${image.digest}` : ""}`;
}
