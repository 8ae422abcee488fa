import { DashboardSpec } from "./panels";

const ns = 'namespace=~"$namespace"';

/** Redis through redis_exporter: memory against maxmemory, ops/s, clients, evictions, hit ratio. */
export const redisDashboard: DashboardSpec = {
  uid: "keel-redis",
  title: "Redis",
  tags: ["redis"],
  namespaceMetric: "redis_up",
  rows: [
    {
      title: "Memory",
      panels: [
        {
          title: "Used memory / maxmemory",
          kind: "gauge",
          unit: "percentunit",
          width: 6,
          range: { min: 0, max: 1, warn: 0.8, critical: 0.9 },
          queries: [
            {
              expr: `max by (namespace) (redis_memory_used_bytes{${ns}} / (redis_memory_max_bytes{${ns}} > 0))`,
              legend: "{{namespace}}",
            },
          ],
        },
        {
          title: "Memory used vs max",
          unit: "bytes",
          width: 18,
          queries: [
            { expr: `max by (namespace) (redis_memory_used_bytes{${ns}})`, legend: "{{namespace}} used" },
            { expr: `max by (namespace) (redis_memory_max_bytes{${ns}})`, legend: "{{namespace}} maxmemory" },
          ],
        },
      ],
    },
    {
      title: "Traffic",
      panels: [
        {
          title: "Commands per second",
          unit: "ops",
          queries: [
            {
              expr: `sum by (namespace) (rate(redis_commands_processed_total{${ns}}[5m]))`,
              legend: "{{namespace}}",
            },
          ],
        },
        {
          title: "Connected clients",
          queries: [
            { expr: `sum by (namespace) (redis_connected_clients{${ns}})`, legend: "{{namespace}}" },
            {
              expr: `sum by (namespace) (increase(redis_rejected_connections_total{${ns}}[5m]))`,
              legend: "{{namespace}} rejected (5 min)",
            },
          ],
        },
        {
          title: "Evicted and expired keys",
          unit: "ops",
          queries: [
            {
              expr: `sum by (namespace) (rate(redis_evicted_keys_total{${ns}}[5m]))`,
              legend: "{{namespace}} evicted",
            },
            {
              expr: `sum by (namespace) (rate(redis_expired_keys_total{${ns}}[5m]))`,
              legend: "{{namespace}} expired",
            },
          ],
        },
        {
          title: "Keyspace hit ratio",
          unit: "percentunit",
          queries: [
            {
              expr: `sum by (namespace) (rate(redis_keyspace_hits_total{${ns}}[5m])) / (sum by (namespace) (rate(redis_keyspace_hits_total{${ns}}[5m])) + sum by (namespace) (rate(redis_keyspace_misses_total{${ns}}[5m])))`,
              legend: "{{namespace}}",
            },
          ],
        },
      ],
    },
  ],
};
