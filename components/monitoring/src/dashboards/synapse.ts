import { DashboardSpec } from "./panels";

const ns = 'namespace=~"$namespace"';

/** Synapse (main process and workers): HTTP by servlet, event persistence, federation queues, caches, DB. */
export const synapseDashboard: DashboardSpec = {
  uid: "keel-synapse",
  title: "Synapse",
  tags: ["matrix", "synapse"],
  namespaceMetric: "synapse_http_server_requests_received_total",
  rows: [
    {
      title: "HTTP",
      panels: [
        {
          title: "Requests by servlet (top 10)",
          unit: "reqps",
          queries: [
            {
              expr: `topk(10, sum by (servlet) (rate(synapse_http_server_requests_received_total{${ns}}[5m])))`,
              legend: "{{servlet}}",
            },
          ],
        },
        {
          title: "Response time p95 by servlet",
          unit: "s",
          queries: [
            {
              expr: `histogram_quantile(0.95, sum by (le, servlet) (rate(synapse_http_server_response_time_seconds_bucket{${ns}}[5m])))`,
              legend: "{{servlet}}",
            },
          ],
        },
        {
          title: "Responses by status code",
          unit: "reqps",
          width: 24,
          queries: [
            {
              expr: `sum by (code) (rate(synapse_http_server_responses_total{${ns}}[5m]))`,
              legend: "{{code}}",
            },
          ],
        },
      ],
    },
    {
      title: "Event persistence",
      panels: [
        {
          title: "Events persisted",
          unit: "ops",
          queries: [
            {
              expr: `sum by (pod) (rate(synapse_storage_events_persisted_events_total{${ns}}[5m]))`,
              legend: "{{pod}}",
            },
          ],
        },
        {
          title: "Events persisted by type and origin",
          unit: "ops",
          queries: [
            {
              expr: `sum by (type, origin_type) (rate(synapse_storage_events_persisted_events_sep_total{${ns}}[5m]))`,
              legend: "{{type}} ({{origin_type}})",
            },
          ],
        },
      ],
    },
    {
      title: "Federation",
      panels: [
        {
          title: "Outgoing queues",
          queries: [
            { expr: `sum(synapse_federation_transaction_queue_pending_pdus{${ns}})`, legend: "pending PDUs" },
            { expr: `sum(synapse_federation_transaction_queue_pending_edus{${ns}})`, legend: "pending EDUs" },
            {
              expr: `sum(synapse_federation_transaction_queue_pending_destinations{${ns}})`,
              legend: "destinations with a queue",
            },
          ],
        },
        {
          title: "Transactions sent",
          unit: "ops",
          queries: [
            {
              expr: `sum(rate(synapse_federation_client_sent_transactions_total{${ns}}[5m]))`,
              legend: "sent",
            },
          ],
        },
      ],
    },
    {
      title: "Caches",
      panels: [
        {
          title: "Overall cache hit ratio",
          kind: "gauge",
          unit: "percentunit",
          width: 6,
          range: { min: 0, max: 1, warn: 0.5, critical: 0.2, lowerIsWorse: true },
          queries: [
            {
              expr: `sum(rate(synapse_util_caches_cache_hits{${ns}}[5m])) / sum(rate(synapse_util_caches_cache{${ns}}[5m]))`,
            },
          ],
        },
        {
          title: "Hit ratio of the busiest caches",
          unit: "percentunit",
          width: 18,
          queries: [
            {
              expr: `sum by (name) (rate(synapse_util_caches_cache_hits{${ns}}[5m])) / sum by (name) (rate(synapse_util_caches_cache{${ns}}[5m])) and on (name) topk(10, sum by (name) (rate(synapse_util_caches_cache{${ns}}[5m])))`,
              legend: "{{name}}",
            },
          ],
        },
      ],
    },
    {
      title: "Database",
      panels: [
        {
          title: "Transaction time by description (top 10)",
          description: "Seconds of database time spent per second, by transaction.",
          unit: "s",
          queries: [
            {
              expr: `topk(10, sum by (desc) (rate(synapse_storage_transaction_time_sum_total{${ns}}[5m])))`,
              legend: "{{desc}}",
            },
          ],
        },
        {
          title: "Mean transaction time and wait for a connection (p95)",
          unit: "s",
          queries: [
            {
              expr: `sum(rate(synapse_storage_transaction_time_sum_total{${ns}}[5m])) / sum(rate(synapse_storage_transaction_time_count_total{${ns}}[5m]))`,
              legend: "mean transaction",
            },
            {
              expr: `histogram_quantile(0.95, sum by (le) (rate(synapse_storage_schedule_time_bucket{${ns}}[5m])))`,
              legend: "p95 wait for a connection",
            },
          ],
        },
      ],
    },
  ],
};
