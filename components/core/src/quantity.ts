import { ValidationError } from "./errors";

const memoryUnits: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Parses a Kubernetes memory quantity ("512Mi", "2Gi", "1G") into bytes. */
export function parseMemory(quantity: string, field = "memory"): number {
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(quantity.trim());
  if (!m) throw new ValidationError(field, `"${quantity}" is not a memory quantity (e.g. 512Mi, 2Gi)`);
  return Math.round(Number(m[1]) * memoryUnits[m[2] ?? ""]);
}

/** Parses a Kubernetes CPU quantity ("500m", "2", "0.5") into cores. */
export function parseCpu(quantity: string, field = "cpu"): number {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity.trim());
  if (!m) throw new ValidationError(field, `"${quantity}" is not a CPU quantity (e.g. 250m, 2)`);
  return m[2] ? Number(m[1]) / 1000 : Number(m[1]);
}

/** Formats bytes as whole mebibytes ("768Mi"), the unit the program emits. */
export function formatMemory(bytes: number): string {
  return `${Math.max(1, Math.floor(bytes / 1024 ** 2))}Mi`;
}

/** Formats cores as millicores ("1500m"). */
export function formatCpu(cores: number): string {
  return `${Math.max(1, Math.round(cores * 1000))}m`;
}
