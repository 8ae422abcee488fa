import { asNumber, specOf } from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** Hygiene: finished Jobs are garbage-collected instead of piling up with their pods. */
export const jobTtl = resourceRule({
  id: "job-ttl",
  findings: ["F20"],
  description: "Jobs set spec.ttlSecondsAfterFinished.",
  fix: "`ttlSecondsAfterFinished`",
  defaultLevel: "advisory",
  kinds: new Set(["Job"]),
  config: NO_CONFIG,
  check(obj) {
    return asNumber(specOf(obj).ttlSecondsAfterFinished) === undefined
      ? ["set spec.ttlSecondsAfterFinished (e.g. 86400) so the finished Job and its pods are deleted"]
      : [];
  },
});
