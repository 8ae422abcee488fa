import { ValidationError, stableYaml } from "@keel/core";

/** Alert thresholds; every one has a default, a stack may tighten or loosen each. */
export interface AlertThresholds {
  /** PostgreSQL connections in use / max_connections. @default 0.8 */
  postgresConnectionsRatio?: number;
  /** Redis used memory / maxmemory. @default 0.9 */
  redisMemoryRatio?: number;
  /** Container working set / memory limit. @default 0.9 */
  containerMemoryRatio?: number;
  /** Share of CPU periods throttled. @default 0.25 */
  cpuThrottlingRatio?: number;
  /** Volume used / capacity for the warning. @default 0.7 */
  volumeUsageWarningRatio?: number;
  /** Volume used / capacity for the critical alert. @default 0.8 */
  volumeUsageCriticalRatio?: number;
  /** Namespace quota used / hard. @default 0.9 */
  quotaUsageRatio?: number;
  /** Container restarts per hour above which a workload is flapping. @default 3 */
  restartsPerHour?: number;
  /** Days before a watched certificate expires. @default 7 */
  certificateExpiryDays?: number;
  /** Hours since the last successful run of a backup CronJob. @default 26 (daily schedule plus slack) */
  backupMaxAgeHours?: number;
  /** Minutes a scrape target may be down. @default 5 */
  targetDownMinutes?: number;
}

export const defaultAlertThresholds = {
  postgresConnectionsRatio: 0.8,
  redisMemoryRatio: 0.9,
  containerMemoryRatio: 0.9,
  cpuThrottlingRatio: 0.25,
  volumeUsageWarningRatio: 0.7,
  volumeUsageCriticalRatio: 0.8,
  quotaUsageRatio: 0.9,
  restartsPerHour: 3,
  certificateExpiryDays: 7,
  backupMaxAgeHours: 26,
  targetDownMinutes: 5,
};

export type ResolvedAlertThresholds = typeof defaultAlertThresholds;

const ratioKeys = [
  "postgresConnectionsRatio",
  "redisMemoryRatio",
  "containerMemoryRatio",
  "cpuThrottlingRatio",
  "volumeUsageWarningRatio",
  "volumeUsageCriticalRatio",
  "quotaUsageRatio",
] as const;
const integerRanges: Record<string, [number, number]> = {
  restartsPerHour: [1, 100],
  certificateExpiryDays: [1, 90],
  backupMaxAgeHours: [1, 24 * 31],
  targetDownMinutes: [1, 60],
};

export function resolveAlertThresholds(t: AlertThresholds | undefined): ResolvedAlertThresholds {
  return { ...defaultAlertThresholds, ...t };
}

/** Pure validation; errors name `<field>.<key>`. */
export function validateAlertThresholds(
  t: AlertThresholds | undefined,
  field = "alertThresholds",
): ValidationError[] {
  const r = resolveAlertThresholds(t);
  const problems: ValidationError[] = [];
  for (const key of Object.keys(t ?? {})) {
    if (!(key in defaultAlertThresholds)) {
      problems.push(
        new ValidationError(
          `${field}.${key}`,
          `is not a threshold; known: ${Object.keys(defaultAlertThresholds).join(", ")}`,
        ),
      );
    }
  }
  for (const key of ratioKeys) {
    const v = r[key];
    if (typeof v !== "number" || !(v > 0 && v <= 1)) {
      problems.push(
        new ValidationError(`${field}.${key}`, `must be a ratio above 0 and at most 1, got ${v}`),
      );
    }
  }
  for (const [key, [min, max]] of Object.entries(integerRanges)) {
    const v = r[key as keyof ResolvedAlertThresholds];
    if (!Number.isInteger(v) || v < min || v > max) {
      problems.push(
        new ValidationError(`${field}.${key}`, `must be an integer from ${min} to ${max}, got ${v}`),
      );
    }
  }
  if (r.volumeUsageWarningRatio >= r.volumeUsageCriticalRatio) {
    problems.push(
      new ValidationError(`${field}.volumeUsageWarningRatio`, "must be below volumeUsageCriticalRatio"),
    );
  }
  return problems;
}

export type Severity = "critical" | "warning" | "info";

export interface AlertRule {
  alert: string;
  expr: string;
  /** How long the condition must hold, e.g. "5m". */
  for: string;
  severity: Severity;
  summary: string;
  description: string;
}

export interface AlertGroup {
  name: string;
  rules: AlertRule[];
}

/** The job name of the blackbox probes (certificate expiry). */
export const tlsProbeJob = "tls-expiry";

/** The annotation kube-state-metrics exports for backup CronJobs (`keel.dev/backup-of`). */
const backupOf = "annotation_keel_dev_backup_of";

const pct = (ratio: number) => `${Math.round(ratio * 100)} %`;

/** Scrape targets that stop answering. */
function targetRules(t: ResolvedAlertThresholds): AlertRule[] {
  return [
    {
      alert: "TargetDown",
      expr: "up == 0",
      for: `${t.targetDownMinutes}m`,
      severity: "warning",
      summary: "A scrape target is down",
      description:
        "{{ $labels.job }} {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.instance }}) has not answered a scrape.",
    },
  ];
}

/** PostgreSQL and Redis, from their exporters. */
function databaseRules(t: ResolvedAlertThresholds): AlertRule[] {
  return [
    {
      alert: "PostgresConnectionsNearLimit",
      expr: `sum by (namespace, instance) (pg_stat_activity_count) / max by (namespace, instance) (pg_settings_max_connections) > ${t.postgresConnectionsRatio}`,
      for: "5m",
      severity: "critical",
      summary: "PostgreSQL is running out of connections",
      description: `{{ $labels.namespace }}: {{ $value | humanizePercentage }} of max_connections in use (alert above ${pct(t.postgresConnectionsRatio)}).`,
    },
    {
      alert: "PostgresDown",
      expr: "pg_up == 0",
      for: "2m",
      severity: "critical",
      summary: "postgres-exporter cannot reach PostgreSQL",
      description: "{{ $labels.namespace }}/{{ $labels.pod }} reports pg_up = 0.",
    },
    {
      alert: "RedisMemoryPressure",
      expr: `redis_memory_used_bytes / (redis_memory_max_bytes > 0) > ${t.redisMemoryRatio}`,
      for: "5m",
      severity: "warning",
      summary: "Redis is close to maxmemory",
      description: `{{ $labels.namespace }}: Redis uses {{ $value | humanizePercentage }} of maxmemory (alert above ${pct(t.redisMemoryRatio)}); keys are evicted or writes refused next.`,
    },
    {
      alert: "RedisDown",
      expr: "redis_up == 0",
      for: "2m",
      severity: "critical",
      summary: "redis_exporter cannot reach Redis",
      description: "{{ $labels.namespace }}/{{ $labels.pod }} reports redis_up = 0.",
    },
    {
      alert: "RedisRejectingConnections",
      expr: "increase(redis_rejected_connections_total[5m]) > 0",
      for: "0m",
      severity: "warning",
      summary: "Redis rejects connections (maxclients reached)",
      description: "{{ $labels.namespace }}: {{ $value }} connections rejected in 5 minutes.",
    },
  ];
}

/** Container memory and CPU (cAdvisor) and restarts (kube-state-metrics). */
function containerRules(t: ResolvedAlertThresholds): AlertRule[] {
  return [
    {
      alert: "ContainerMemoryNearLimit",
      expr: `max by (namespace, pod, container) (container_memory_working_set_bytes{container!=""}) / max by (namespace, pod, container) (container_spec_memory_limit_bytes{container!=""} > 0) > ${t.containerMemoryRatio}`,
      for: "10m",
      severity: "warning",
      summary: "A container is close to its memory limit",
      description: `{{ $labels.namespace }}/{{ $labels.pod }} {{ $labels.container }} uses {{ $value | humanizePercentage }} of its memory limit (alert above ${pct(t.containerMemoryRatio)}); the next step is an OOM kill.`,
    },
    {
      alert: "ContainerCpuThrottled",
      expr: `sum by (namespace, pod, container) (rate(container_cpu_cfs_throttled_periods_total{container!=""}[5m])) / sum by (namespace, pod, container) (rate(container_cpu_cfs_periods_total{container!=""}[5m])) > ${t.cpuThrottlingRatio}`,
      for: "15m",
      severity: "info",
      summary: "A container is CPU-throttled",
      description: `{{ $labels.namespace }}/{{ $labels.pod }} {{ $labels.container }} is throttled in {{ $value | humanizePercentage }} of CPU periods (alert above ${pct(t.cpuThrottlingRatio)}); raise its CPU limit.`,
    },
    {
      alert: "ContainerRestarting",
      expr: `increase(kube_pod_container_status_restarts_total[1h]) > ${t.restartsPerHour}`,
      for: "0m",
      severity: "warning",
      summary: "A container restarts repeatedly",
      description: `{{ $labels.namespace }}/{{ $labels.pod }} {{ $labels.container }} restarted {{ $value | humanize }} times in the last hour (alert above ${t.restartsPerHour}).`,
    },
  ];
}

/** Volumes (kubelet) and namespace quotas (kube-state-metrics). */
function capacityRules(t: ResolvedAlertThresholds): AlertRule[] {
  return [
    {
      alert: "VolumeFillingUp",
      expr: `kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes > ${t.volumeUsageWarningRatio}`,
      for: "15m",
      severity: "warning",
      summary: "A persistent volume is filling up",
      description: `{{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full (warning above ${pct(t.volumeUsageWarningRatio)}).`,
    },
    {
      alert: "VolumeAlmostFull",
      expr: `kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes > ${t.volumeUsageCriticalRatio}`,
      for: "5m",
      severity: "critical",
      summary: "A persistent volume is almost full",
      description: `{{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full (critical above ${pct(t.volumeUsageCriticalRatio)}).`,
    },
    {
      alert: "NamespaceQuotaNearLimit",
      expr: `kube_resourcequota{type="used"} / ignoring(type) (kube_resourcequota{type="hard"} > 0) > ${t.quotaUsageRatio}`,
      for: "15m",
      severity: "warning",
      summary: "A namespace is close to its resource quota",
      description: `{{ $labels.namespace }}: {{ $labels.resource }} at {{ $value | humanizePercentage }} of the quota (alert above ${pct(t.quotaUsageRatio)}); new pods will be refused.`,
    },
  ];
}

/** Certificates, from the blackbox exporter's probes. */
function certificateRules(t: ResolvedAlertThresholds): AlertRule[] {
  return [
    {
      alert: "CertificateExpiringSoon",
      expr: `probe_ssl_earliest_cert_expiry{job="${tlsProbeJob}"} - time() < ${t.certificateExpiryDays} * 86400`,
      for: "10m",
      severity: "critical",
      summary: "A TLS certificate expires soon",
      description: `The certificate of {{ $labels.instance }} expires in {{ $value | humanizeDuration }} (alert below ${t.certificateExpiryDays} days).`,
    },
    {
      alert: "CertificateProbeFailing",
      expr: `probe_success{job="${tlsProbeJob}"} == 0`,
      for: "15m",
      severity: "warning",
      summary: "A TLS endpoint cannot be probed",
      description:
        "The TLS handshake with {{ $labels.instance }} fails (unreachable, or a certificate the probe does not trust).",
    },
  ];
}

/** Backup CronJobs (kube-state-metrics, `keel.dev/backup-of`). */
function backupRules(t: ResolvedAlertThresholds): AlertRule[] {
  return [
    {
      alert: "BackupJobFailed",
      expr: `max by (namespace, job_name) (kube_job_status_failed > 0) * on (namespace, job_name) group_left (owner_name) max by (namespace, job_name, owner_name) (kube_job_owner{owner_kind="CronJob"}) * on (namespace, owner_name) group_left () max by (namespace, owner_name) (label_replace(kube_cronjob_annotations{${backupOf}!=""}, "owner_name", "$1", "cronjob", "(.+)"))`,
      for: "0m",
      severity: "critical",
      summary: "A database backup failed",
      description: "Backup CronJob {{ $labels.namespace }}/{{ $labels.owner_name }} has a failed job.",
    },
    {
      alert: "BackupTooOld",
      // kube-state-metrics exports no last successful time before a CronJob's first success: a backup that
      // never succeeded is as old as its CronJob.
      expr: `(time() - (kube_cronjob_status_last_successful_time or kube_cronjob_created)) * on (namespace, cronjob) group_left () max by (namespace, cronjob) (kube_cronjob_annotations{${backupOf}!=""}) > ${t.backupMaxAgeHours} * 3600`,
      for: "0m",
      severity: "critical",
      summary: "No recent successful backup",
      description: `Backup CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has not succeeded for {{ $value | humanizeDuration }} (alert above ${t.backupMaxAgeHours} hours).`,
    },
  ];
}

/** The stack watching itself. */
function selfRules(): AlertRule[] {
  return [
    {
      alert: "PrometheusRuleEvaluationFailing",
      expr: "increase(prometheus_rule_evaluation_failures_total[10m]) > 0",
      for: "0m",
      severity: "warning",
      summary: "Prometheus fails to evaluate alert rules",
      description: "Rule group {{ $labels.rule_group }} failed {{ $value }} times in 10 minutes.",
    },
    {
      alert: "AlertmanagerNotificationsFailing",
      expr: "increase(alertmanager_notifications_failed_total[10m]) > 0",
      for: "0m",
      severity: "warning",
      summary: "Alertmanager cannot deliver notifications",
      description: "{{ $labels.integration }} failed {{ $value }} times in 10 minutes.",
    },
    {
      alert: "LogIngestionFailing",
      expr: "increase(loki_write_dropped_entries_total[10m]) > 0",
      for: "0m",
      severity: "warning",
      summary: "Alloy drops log lines",
      description:
        "Alloy dropped {{ $value }} log entries on the way to Loki in 10 minutes ({{ $labels.reason }}).",
    },
  ];
}

/**
 * The alert rules, as data. Restarts and backups come from kube-state-metrics (restricted to pods, jobs,
 * cronjobs and resource quotas of the watched namespaces); container memory, CPU throttling and volumes
 * from the kubelet and cAdvisor; databases from their exporters; certificates from the blackbox exporter.
 */
export function alertGroups(t: ResolvedAlertThresholds): AlertGroup[] {
  return [
    { name: "keel-targets", rules: targetRules(t) },
    { name: "keel-databases", rules: databaseRules(t) },
    { name: "keel-containers", rules: containerRules(t) },
    { name: "keel-capacity", rules: capacityRules(t) },
    { name: "keel-certificates", rules: certificateRules(t) },
    { name: "keel-backups", rules: backupRules(t) },
    { name: "keel-monitoring", rules: selfRules() },
  ];
}

/** The rules file Prometheus loads (plain rule YAML: there is no Prometheus operator to read PrometheusRules). */
export function renderAlertRules(t: ResolvedAlertThresholds): string {
  return stableYaml({
    groups: alertGroups(t).map((g) => ({
      name: g.name,
      rules: g.rules.map((r) => ({
        alert: r.alert,
        expr: r.expr,
        for: r.for,
        labels: { severity: r.severity },
        annotations: { summary: r.summary, description: r.description },
      })),
    })),
  });
}
