import { stableYaml } from "@keel/core";

/** Loki's data directory (the PVC). */
export const lokiDataDir = "/loki";
export const lokiPort = 3100;

/**
 * loki.yaml for the single binary (`-target=all`): TSDB index and chunks on the filesystem of one volume,
 * an in-memory ring (one replica), and retention enforced by the compactor.
 */
export function renderLokiConfig(retentionDays: number): string {
  return stableYaml({
    auth_enabled: false,
    server: { http_listen_port: lokiPort, grpc_listen_port: 9095, log_level: "info" },
    common: {
      instance_addr: "127.0.0.1",
      path_prefix: lokiDataDir,
      replication_factor: 1,
      ring: { kvstore: { store: "inmemory" } },
      storage: {
        filesystem: { chunks_directory: `${lokiDataDir}/chunks`, rules_directory: `${lokiDataDir}/rules` },
      },
    },
    schema_config: {
      configs: [
        {
          from: "2024-04-01",
          store: "tsdb",
          object_store: "filesystem",
          schema: "v13",
          index: { prefix: "index_", period: "24h" },
        },
      ],
    },
    limits_config: {
      retention_period: `${retentionDays * 24}h`,
      reject_old_samples: true,
      reject_old_samples_max_age: "168h",
      allow_structured_metadata: true,
      volume_enabled: true,
    },
    compactor: {
      working_directory: `${lokiDataDir}/compactor`,
      compaction_interval: "10m",
      retention_enabled: true,
      retention_delete_delay: "2h",
      delete_request_store: "filesystem",
    },
    ruler: { storage: { type: "local", local: { directory: `${lokiDataDir}/rules` } } },
    analytics: { reporting_enabled: false },
  });
}
