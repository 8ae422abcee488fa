import { ValidationError } from "@keel/core";

/** Operator settings of the monitoring stack (stack config `keel:monitoring`). */
export interface MonitoringSettings {
  /** Days Prometheus keeps samples (`--storage.tsdb.retention.time`). @default 15 */
  metricsRetentionDays?: number;
  /** Days Loki keeps logs (compactor retention; 30 d is the usual operational standard). @default 30 */
  logRetentionDays?: number;
  /** Seconds between scrapes and between rule evaluations. @default 30 */
  scrapeIntervalSeconds?: number;
  /**
   * The Alertmanager webhook receiver. Without one, alerts go to the `null` receiver (visible in Grafana and
   * Alertmanager, sent nowhere). It is always stored in a Secret; a URL that carries a token (Slack, Teams...)
   * must come from secret config instead (`MonitoringArgs.alertWebhookUrl`): user:password URLs are refused
   * here. @default ""
   */
  alertWebhookUrl?: string;
}

export const monitoringSettingDefaults = {
  metricsRetentionDays: 15,
  logRetentionDays: 30,
  scrapeIntervalSeconds: 30,
  alertWebhookUrl: "",
};

export type ResolvedMonitoringSettings = typeof monitoringSettingDefaults;

const ranges: Record<string, [number, number]> = {
  metricsRetentionDays: [1, 365],
  // Up to 7 years: audit logs may have to be kept that long.
  logRetentionDays: [1, 2555],
  scrapeIntervalSeconds: [5, 300],
};

const webhookRe = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/\S*)?$/;

/** Fills defaults and validates ranges; errors name `<field>.<key>`. */
export function resolveMonitoringSettings(
  s: MonitoringSettings | undefined,
  field = "app",
): ResolvedMonitoringSettings {
  const merged = { ...monitoringSettingDefaults, ...s };
  for (const [key, [min, max]] of Object.entries(ranges)) {
    const v = merged[key as keyof typeof merged];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw new ValidationError(`${field}.${key}`, `must be an integer from ${min} to ${max}, got ${v}`);
    }
  }
  const url = merged.alertWebhookUrl;
  if (url !== "") {
    if (/^https?:\/\/[^/\s]*@/.test(url)) {
      throw new ValidationError(
        `${field}.alertWebhookUrl`,
        "carries credentials (user:password@); set it as secret config instead",
      );
    }
    if (!webhookRe.test(url)) {
      throw new ValidationError(`${field}.alertWebhookUrl`, `must be an http(s) URL, got "${url}"`);
    }
  }
  return merged;
}
