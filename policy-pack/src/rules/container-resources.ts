import { POD_WORKLOAD_KINDS, describeContainer, isRecord, perContainer, podSpecOf } from "../core/k8s";
import { resourceRule } from "../core/rule";

interface Settings {
  requireCpuLimit: boolean;
}

/** F1: every container states what it needs and what it may use. */
export const containerResources = resourceRule<Settings>({
  id: "container-resources",
  findings: ["F1"],
  description: "Every container (init containers included) sets CPU and memory requests and limits.",
  fix: "set `resources.requests`/`limits` `cpu` and `memory`",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: {
    schema: {
      requireCpuLimit: { type: "boolean", description: "Also require resources.limits.cpu (default true)." },
    },
    defaults: { requireCpuLimit: true },
  },
  check(obj, settings) {
    return perContainer(podSpecOf(obj), (container, init) => {
      const resources = isRecord(container.resources) ? container.resources : {};
      const missing: string[] = [];
      for (const [section, fields] of [
        ["requests", ["cpu", "memory"]],
        ["limits", settings.requireCpuLimit ? ["cpu", "memory"] : ["memory"]],
      ] as const) {
        const list = isRecord(resources[section]) ? resources[section]! : {};
        for (const field of fields) {
          const value = list[field];
          if (value === undefined || value === null || value === "") {
            missing.push(`resources.${section}.${field}`);
          }
        }
      }
      return missing.length > 0 ? [`set ${missing.join(", ")} on ${describeContainer(container, init)}`] : [];
    });
  },
});
