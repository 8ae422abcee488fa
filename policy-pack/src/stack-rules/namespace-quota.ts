import { asString, isRecord, specOf } from "../core/k8s";
import { footprints, namespaceSubject, total } from "../core/capacity";
import { formatBytes, formatCores, parseQuantity } from "../core/quantity";
import { checkEach } from "../core/unknown";
import { Violation, stackRule } from "../core/rule";

interface Settings {
  daemonSetNodes: number;
}

const REQUIRED: Array<{
  keys: string[];
  field: "requestsCpu" | "requestsMemory" | "limitsCpu" | "limitsMemory";
  cpu: boolean;
}> = [
  { keys: ["requests.cpu", "cpu"], field: "requestsCpu", cpu: true },
  { keys: ["requests.memory", "memory"], field: "requestsMemory", cpu: false },
  { keys: ["limits.cpu"], field: "limitsCpu", cpu: true },
  { keys: ["limits.memory"], field: "limitsMemory", cpu: false },
];

/** F12: every namespace with workloads has a ResourceQuota that bounds CPU and memory and that its workloads fit in. */
export const namespaceQuota = stackRule<Settings>({
  id: "namespace-quota",
  findings: ["F12"],
  description:
    "Every namespace with workloads has a ResourceQuota setting requests.cpu, requests.memory, limits.cpu and limits.memory, large enough for the workloads at max replicas.",
  fix: "ResourceQuota with requests/limits cpu/memory large enough for the workloads",
  defaultLevel: "mandatory",
  config: {
    schema: {
      daemonSetNodes: {
        type: "integer",
        minimum: 1,
        description: "Nodes a DaemonSet runs on, for totals (default 1).",
      },
    },
    defaults: { daemonSetNodes: 1 },
  },
  check(stack, settings) {
    const violations: Violation[] = [];
    checkEach(
      stack.workloadNamespaces(),
      violations,
      (namespace) => {
        const quotas = stack.inNamespace(namespace, "ResourceQuota");
        if (quotas.length === 0) {
          violations.push({
            subject: namespaceSubject(stack, namespace),
            message: `add a ResourceQuota to namespace ${namespace} with spec.hard requests.cpu, requests.memory, limits.cpu and limits.memory`,
          });
          return;
        }
        const used = footprints(stack, stack.workloadsIn(namespace), settings.daemonSetNodes, violations);
        for (const { keys, field, cpu } of REQUIRED) {
          const limits = quotas
            .map((q) => ({ quota: q, hard: specOf(q).hard }))
            .flatMap(({ quota, hard }) =>
              keys.map((k) => ({ quota, value: isRecord(hard) ? parseQuantity(hard[k]) : undefined })),
            )
            .filter((e): e is { quota: typeof e.quota; value: number } => e.value !== undefined);
          if (limits.length === 0) {
            violations.push({
              subject: quotas[0],
              message: `set spec.hard['${keys[0]}'] in a ResourceQuota of namespace ${namespace}`,
            });
            continue;
          }
          const tightest = limits.reduce((a, b) => (b.value < a.value ? b : a));
          const needed = total(used, field);
          if (needed > tightest.value) {
            const fmt = cpu ? (n: number) => `${formatCores(n)} cores` : formatBytes;
            violations.push({
              subject: tightest.quota,
              message: `workloads in namespace ${namespace} need ${fmt(needed)} of ${keys[0]} at max replicas but ResourceQuota '${asString(tightest.quota.metadata?.name) ?? "?"}' allows ${fmt(tightest.value)}: raise spec.hard['${keys[0]}'] or lower the workloads' resources`,
            });
          }
        }
      },
      (namespace) => namespaceSubject(stack, namespace),
    );
    return violations;
  },
});
