import { asNumber, specOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** Hygiene: a CronJob that missed its slot (controller down, cluster full) does not start hours late or stop scheduling. */
export const cronjobStartingDeadline = resourceRule({
  id: "cronjob-starting-deadline",
  findings: ["F20"],
  description: "CronJobs set spec.startingDeadlineSeconds.",
  fix: "`startingDeadlineSeconds: 600`",
  defaultLevel: "advisory",
  kinds: new Set(["CronJob"]),
  config: NO_CONFIG,
  check(obj) {
    return asNumber(specOf(obj).startingDeadlineSeconds) === undefined
      ? ["set spec.startingDeadlineSeconds (e.g. 600) so missed runs are skipped instead of piling up"]
      : [];
  },
});
