// The policy pack's configuration for a bundled stack, derived from the stack config so the pack enforces
// what the stack promises: its capacity, no ACME when air-gapped, and images only from the private registry.
import { parseImage } from "@keel/core";
import { StackConfig } from "../../program/config";
import { stackImages } from "../../program/deploy";

export type PolicyConfig = Record<string, unknown>;

function entry(base: PolicyConfig, id: string): Record<string, unknown> {
  const e = base[id];
  if (typeof e === "string") return { enforcementLevel: e };
  return e && typeof e === "object" && !Array.isArray(e) ? { ...(e as Record<string, unknown>) } : {};
}

/**
 * `base` is the stack's own pack config (policy-pack/config/<stack>.json) when there is one. Returns the
 * config to bundle and a note for every value it changed.
 */
export function policyConfigFor(
  cfg: StackConfig,
  base: PolicyConfig = {},
): { config: PolicyConfig; notes: string[] } {
  const config: PolicyConfig = { ...base };
  const notes: string[] = [];
  const set = (id: string, values: Record<string, unknown>) => {
    const before = entry(base, id);
    const after = { ...before, ...values };
    for (const [k, v] of Object.entries(values)) {
      if (k in before && JSON.stringify(before[k]) !== JSON.stringify(v)) {
        notes.push(
          `${id}.${k}: ${JSON.stringify(before[k])} -> ${JSON.stringify(v)} (from the stack config)`,
        );
      }
    }
    config[id] = after;
  };

  const cpu = cfg.capacity.nodes.reduce((s, n) => s + n.cpu * n.count, 0);
  const memoryGi = cfg.capacity.nodes.reduce((s, n) => s + n.memoryGi * n.count, 0);
  set("capacity-fit", {
    clusterCpu: cpu,
    clusterMemory: `${memoryGi}Gi`,
    headroomPercent: cfg.capacity.headroomPercent,
    limitOvercommit: cfg.capacity.limitOvercommit,
  });
  const mandatory = cfg.airGapped ? { enforcementLevel: "mandatory" } : {};
  set("acme-air-gapped", { airGapped: cfg.airGapped, ...mandatory });
  if (cfg.imageRegistry) {
    set("image-registry", { allowedRegistries: [cfg.imageRegistry.replace(/\/+$/, "")], ...mandatory });
  } else {
    // Without a private registry, the registries the stack's own images come from.
    const registries = [...new Set(stackImages(cfg).map((i) => parseImage(i).registry))].sort();
    set("image-registry", { allowedRegistries: registries });
  }
  return { config, notes };
}
