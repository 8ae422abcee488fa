import { stableYaml } from "@keel/core";

/** Where the webhook URL Secret is mounted; Alertmanager reads the URL from the file (`url_file`). */
export const webhookUrlDir = "/etc/alertmanager/secrets";
export const webhookUrlKey = "webhook-url";

/**
 * alertmanager.yml. Without a webhook every alert goes to the `null` receiver (kept and shown, sent nowhere);
 * with one, the URL is read from a mounted Secret, so the config holds no credential either way.
 */
export function renderAlertmanagerConfig(webhook: boolean): string {
  const receiver = webhook ? "webhook" : "null";
  return stableYaml({
    route: {
      receiver,
      group_by: ["alertname", "namespace"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
    },
    receivers: [
      { name: "null" },
      ...(webhook
        ? [
            {
              name: "webhook",
              webhook_configs: [{ url_file: `${webhookUrlDir}/${webhookUrlKey}`, send_resolved: true }],
            },
          ]
        : []),
    ],
    inhibit_rules: [
      {
        source_matchers: ['alertname="VolumeAlmostFull"'],
        target_matchers: ['alertname="VolumeFillingUp"'],
        equal: ["namespace", "persistentvolumeclaim"],
      },
    ],
  });
}
