import { asString, specOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** Hygiene: two runs of the same backup or sync never overlap. */
export const cronjobConcurrencyPolicy = resourceRule({
  id: "cronjob-concurrency-policy",
  findings: ["F20"],
  description:
    "CronJobs set spec.concurrencyPolicy to Forbid or Replace (the default Allow lets runs overlap).",
  fix: "`concurrencyPolicy: Forbid`",
  defaultLevel: "advisory",
  kinds: new Set(["CronJob"]),
  config: NO_CONFIG,
  check(obj) {
    const policy = asString(specOf(obj).concurrencyPolicy);
    return policy === "Forbid" || policy === "Replace"
      ? []
      : [`set spec.concurrencyPolicy: Forbid (it is ${policy ?? "unset, i.e. Allow"}) so runs never overlap`];
  },
});
