/**
 * CPU time of each process tree a `pulumi` command starts — engine, language host, program, policy pack,
 * providers — counted by the kernel in one cgroup per role (cgroup v1 `cpuacct.usage` or v2 `cpu.stat`).
 * A cgroup counts every process in it, also those that exited without being reaped by their parent (the
 * engine kills its plugins), so the split is exact, unlike getrusage of reaped children.
 */
import * as fs from "fs";
import * as path from "path";

export const CPU_GROUPS = ["engine", "langhost", "program", "pack", "providers"] as const;
export type CpuGroup = (typeof CPU_GROUPS)[number];
/** CPU seconds (user + system) per role. */
export type CpuSplit = Record<CpuGroup, number>;

export interface CgroupRoot {
  version: 1 | 2;
  /** The hierarchy's mount point, e.g. /sys/fs/cgroup/cpuacct. */
  mount: string;
}

const V1_CPUACCT = "/sys/fs/cgroup/cpuacct";
const V2_CANDIDATES = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"];

/** The first writable hierarchy that accounts CPU: cgroup v1 cpuacct, else a cgroup v2 mount. */
export function findCgroupRoot(): CgroupRoot {
  const writable = (dir: string) => {
    try {
      fs.accessSync(dir, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (fs.existsSync(path.join(V1_CPUACCT, "cpuacct.usage")) && writable(V1_CPUACCT))
    return { version: 1, mount: V1_CPUACCT };
  for (const dir of V2_CANDIDATES) {
    if (fs.existsSync(path.join(dir, "cgroup.controllers")) && writable(dir))
      return { version: 2, mount: dir };
  }
  throw new Error(
    `the bench's CPU rows need a writable cgroup hierarchy (${V1_CPUACCT} or a cgroup2 mount at ` +
      `${V2_CANDIDATES.join(" or ")}): run it as root, or in a delegated cgroup`,
  );
}

/** Seconds of CPU in a cgroup v2 `cpu.stat` (its `usage_usec` line). */
export function parseCpuStat(text: string): number {
  const m = /^usage_usec (\d+)$/m.exec(text);
  if (!m) throw new Error(`no usage_usec in cpu.stat:\n${text}`);
  return Number(m[1]) / 1e6;
}

/** Seconds of CPU in a cgroup v1 `cpuacct.usage` (nanoseconds). */
export function parseCpuacctUsage(text: string): number {
  const ns = Number(text.trim());
  if (!Number.isFinite(ns)) throw new Error(`cpuacct.usage is not a number: ${text}`);
  return ns / 1e9;
}

export function cpuDelta(before: CpuSplit, after: CpuSplit): CpuSplit {
  return Object.fromEntries(CPU_GROUPS.map((g) => [g, after[g] - before[g]])) as CpuSplit;
}

export function cpuTotal(split: CpuSplit): number {
  return CPU_GROUPS.reduce((sum, g) => sum + split[g], 0);
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** One cgroup per role under `<mount>/<name>`; created by the constructor, removed by `remove`. */
export class CpuAccounting {
  readonly dir: string;

  constructor(
    readonly root: CgroupRoot,
    name: string,
  ) {
    this.dir = path.join(root.mount, name);
    for (const g of CPU_GROUPS) fs.mkdirSync(path.join(this.dir, g), { recursive: true });
  }

  read(): CpuSplit {
    const file = this.root.version === 1 ? "cpuacct.usage" : "cpu.stat";
    const parse = this.root.version === 1 ? parseCpuacctUsage : parseCpuStat;
    return Object.fromEntries(
      CPU_GROUPS.map((g) => [g, parse(fs.readFileSync(path.join(this.dir, g, file), "utf8"))]),
    ) as CpuSplit;
  }

  /** Processes still in the groups (plugins the engine has not finished stopping). */
  live(): number[] {
    return CPU_GROUPS.flatMap((g) =>
      fs
        .readFileSync(path.join(this.dir, g, "cgroup.procs"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map(Number),
    );
  }

  /** Waits (up to `timeoutMs`) until every process of the last command has exited, so its CPU is complete. */
  settle(timeoutMs = 10000): void {
    const until = Date.now() + timeoutMs;
    while (this.live().length > 0) {
      if (Date.now() > until)
        throw new Error(`processes still running in ${this.dir}: ${this.live().join(", ")}`);
      sleepMs(20);
    }
  }

  remove(): void {
    for (const g of CPU_GROUPS) fs.rmdirSync(path.join(this.dir, g));
    fs.rmdirSync(this.dir);
  }
}
