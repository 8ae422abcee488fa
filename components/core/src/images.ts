import { ValidationError } from "./errors";

/** A pinned image: a full repository (with registry host) and an exact version tag, optionally a digest. */
export interface PinnedImage {
  repository: string;
  tag: string;
  digest?: string;
}

/**
 * Every image the program can deploy, pinned to an exact version. Keys are stable; stacks may override a
 * key's version through config, and every image is rewritten to the private registry when one is set.
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
  playwright: { repository: "mcr.microsoft.com/playwright", tag: "v1.58.0-noble" },
  aiService: { repository: "ghcr.io/santaclaude/ai-service", tag: "2.0.0" },
  auditSink: { repository: "ghcr.io/santaclaude/audit-sink-service", tag: "2.0.0" },
  messageQueue: { repository: "ghcr.io/santaclaude/message-queue-service", tag: "2.0.0" },
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

/**
 * Rewrites `host/path:tag` to `<registry>/path:tag`, the layout mirroring tools produce when they drop the
 * source host. Without a registry the reference is unchanged.
 */
export function rewriteRegistry(reference: string, registry?: string): string {
  if (!registry) return reference;
  const slash = reference.indexOf("/");
  const path = reference.slice(slash + 1);
  return `${registry.replace(/\/+$/, "")}/${path}`;
}
