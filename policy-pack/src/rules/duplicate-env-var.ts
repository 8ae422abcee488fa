import {
  POD_WORKLOAD_KINDS,
  asString,
  describeContainer,
  isRecord,
  perContainer,
  podSpecOf,
} from "../core/k8s";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** Names that occur more than once in a container's env list, each with its 1-based positions. */
function duplicates(env: unknown): Map<string, number[]> {
  const positions = new Map<string, number[]>();
  (Array.isArray(env) ? env : []).forEach((entry, i) => {
    const name = isRecord(entry) ? asString(entry.name) : undefined;
    if (name !== undefined) {
      positions.set(name, [...(positions.get(name) ?? []), i + 1]);
    }
  });
  return new Map([...positions].filter(([, at]) => at.length > 1));
}

/** kube-score environment-variable-key-duplication, kube-linter duplicate-env-var: the last entry wins silently. */
export const duplicateEnvVar = resourceRule({
  id: "duplicate-env-var",
  findings: [],
  description:
    "No container lists the same environment variable name twice in env (Kubernetes keeps the last entry, silently).",
  fix: "one `env` entry per name",
  defaultLevel: "advisory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    return perContainer(podSpecOf(obj), (container, init) =>
      [...duplicates(container.env)].map(
        ([name, at]) =>
          `${describeContainer(container, init)} sets env ${name} ${at.length} times (entries ${at.join(", ")}); only the last one takes effect: keep one entry`,
      ),
    );
  },
});
