import { DashboardSpec } from "./panels";

const ns = 'namespace=~"$namespace"';

/** PostgreSQL through postgres-exporter: connections against max_connections, TPS, cache hits, size, lag. */
export const postgresDashboard: DashboardSpec = {
  uid: "keel-postgres",
  title: "PostgreSQL",
  tags: ["postgres"],
  namespaceMetric: "pg_up",
  rows: [
    {
      title: "Connections",
      panels: [
        {
          title: "Connections in use / max_connections",
          kind: "gauge",
          unit: "percentunit",
          width: 6,
          range: { min: 0, max: 1, warn: 0.7, critical: 0.8 },
          queries: [
            {
              expr: `sum by (namespace) (pg_stat_activity_count{${ns}}) / max by (namespace) (pg_settings_max_connections{${ns}})`,
              legend: "{{namespace}}",
            },
          ],
        },
        {
          title: "Connections vs max",
          width: 18,
          queries: [
            { expr: `sum by (namespace) (pg_stat_activity_count{${ns}})`, legend: "{{namespace}} in use" },
            { expr: `max by (namespace) (pg_settings_max_connections{${ns}})`, legend: "{{namespace}} max" },
          ],
        },
        {
          title: "Connections by state",
          width: 24,
          queries: [
            {
              expr: `sum by (namespace, state) (pg_stat_activity_count{${ns}})`,
              legend: "{{namespace}} {{state}}",
            },
          ],
        },
      ],
    },
    {
      title: "Throughput",
      panels: [
        {
          title: "Transactions per second",
          unit: "ops",
          queries: [
            {
              expr: `sum by (namespace, datname) (rate(pg_stat_database_xact_commit{${ns}}[5m]) + rate(pg_stat_database_xact_rollback{${ns}}[5m]))`,
              legend: "{{namespace}}/{{datname}}",
            },
          ],
        },
        {
          title: "Rollbacks and deadlocks",
          unit: "ops",
          queries: [
            {
              expr: `sum by (namespace, datname) (rate(pg_stat_database_xact_rollback{${ns}}[5m]))`,
              legend: "{{namespace}}/{{datname}} rollbacks",
            },
            {
              expr: `sum by (namespace, datname) (rate(pg_stat_database_deadlocks{${ns}}[5m]))`,
              legend: "{{namespace}}/{{datname}} deadlocks",
            },
          ],
        },
        {
          title: "Buffer cache hit ratio",
          unit: "percentunit",
          queries: [
            {
              expr: `sum by (namespace, datname) (rate(pg_stat_database_blks_hit{${ns}}[5m])) / (sum by (namespace, datname) (rate(pg_stat_database_blks_hit{${ns}}[5m])) + sum by (namespace, datname) (rate(pg_stat_database_blks_read{${ns}}[5m])))`,
              legend: "{{namespace}}/{{datname}}",
            },
          ],
        },
      ],
    },
    {
      title: "Storage and replication",
      panels: [
        {
          title: "Database size",
          unit: "bytes",
          queries: [
            {
              expr: `pg_database_size_bytes{${ns}, datname!~"template.*"}`,
              legend: "{{namespace}}/{{datname}}",
            },
          ],
        },
        {
          title: "Replication lag",
          unit: "s",
          queries: [
            {
              expr: `max by (namespace, pod) (pg_replication_lag_seconds{${ns}})`,
              legend: "{{namespace}}/{{pod}}",
            },
          ],
        },
      ],
    },
  ],
};
