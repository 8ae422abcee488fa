/** Parsing of Kubernetes quantities and of the memory units of PostgreSQL, the JVM and Redis. */

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A Kubernetes quantity ("500m", "2", "4Gi", "1e3") as a number of base units, or undefined. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value !== "string") {
    return undefined;
  }
  const match =
    /^\s*([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[+-]?\.\d+)\s*(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|K|M|G|T|P|E)?\s*$/.exec(
      value,
    );
  if (!match) {
    return undefined;
  }
  const amount = Number(match[1]);
  const suffix = match[2] ?? "";
  const factor = BINARY[suffix] ?? DECIMAL[suffix];
  return factor === undefined ? undefined : amount * factor;
}

/** Bytes in a human unit for messages: "4Gi", "512Mi", "1.5Gi". */
export function formatBytes(bytes: number): string {
  const units: Array<[string, number]> = [
    ["Ti", 2 ** 40],
    ["Gi", 2 ** 30],
    ["Mi", 2 ** 20],
    ["Ki", 2 ** 10],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(bytes) >= size) {
      return `${trim(bytes / size)}${unit}`;
    }
  }
  return `${trim(bytes)}B`;
}

/** CPU cores for messages: "92", "2.5", "0.25". */
export function formatCores(cores: number): string {
  return trim(cores);
}

function trim(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/**
 * A PostgreSQL memory setting in bytes. Units are kB/MB/GB/TB (powers of 1024); a bare number is in the
 * setting's base unit (8kB pages for shared_buffers and effective_cache_size, kB for work_mem).
 */
export function parsePostgresMemory(value: string, baseUnitBytes: number): number | undefined {
  const match = /^\s*'?(\d+(?:\.\d+)?)\s*(B|kB|KB|MB|GB|TB)?'?\s*$/.exec(value);
  if (!match) {
    return undefined;
  }
  const units: Record<string, number> = {
    B: 1,
    kB: 2 ** 10,
    KB: 2 ** 10,
    MB: 2 ** 20,
    GB: 2 ** 30,
    TB: 2 ** 40,
  };
  const unit = match[2];
  return Number(match[1]) * (unit ? units[unit]! : baseUnitBytes);
}

/** A JVM size ("4g", "512m", "1024k", bytes) in bytes. */
export function parseJvmSize(value: string): number | undefined {
  const match = /^(\d+)([kKmMgGtT]?)$/.exec(value.trim());
  if (!match) {
    return undefined;
  }
  const units: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
  return Number(match[1]) * units[match[2]!.toLowerCase()]!;
}

/** A Redis memory size: 1k=1000, 1kb=1024, 1m=10^6, 1mb=2^20, 1g=10^9, 1gb=2^30, bare bytes. */
export function parseRedisMemory(value: string): number | undefined {
  const match = /^\s*"?(\d+(?:\.\d+)?)\s*(k|kb|m|mb|g|gb)?"?\s*$/i.exec(value);
  if (!match) {
    return undefined;
  }
  const units: Record<string, number> = {
    "": 1,
    k: 1e3,
    kb: 2 ** 10,
    m: 1e6,
    mb: 2 ** 20,
    g: 1e9,
    gb: 2 ** 30,
  };
  return Number(match[1]) * units[(match[2] ?? "").toLowerCase()]!;
}
