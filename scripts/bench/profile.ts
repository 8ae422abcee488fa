/**
 * Where a Node.js process's CPU goes, by owner, from a V8 CPU profile (`node --cpu-prof`): keel's own
 * functions, the Pulumi SDKs, gRPC and protobuf, module loading, garbage collection, the rest. (c) profiles
 * the program's process in one more preview of the program and of the skeleton per run: keel's share of
 * the program's samples, and which owners the program's cost over the skeleton (c.code) falls to.
 * Profiling slows a process down unevenly, so these are shares and differences, not CPU times.
 */
import * as fs from "fs";
import * as path from "path";
import { Row, measured } from "./report";

export const PROFILE_PARTS = ["keel", "sdk", "rpc", "load", "gc", "other"] as const;
export type ProfilePart = (typeof PROFILE_PARTS)[number];
/** Self time per owner, in seconds; idle time is left out. */
export type ProfileSplit = Record<ProfilePart, number>;

interface CallFrame {
  functionName: string;
  url: string;
}
export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  /** Microseconds since the previous sample. */
  timeDeltas: number[];
}

/** Which owner a function belongs to; undefined for idle time. `keelDirs`: the program's own folders. */
export function profilePart(frame: CallFrame, keelDirs: readonly string[]): ProfilePart | undefined {
  const url = frame.url.replace(/^file:\/\//, "");
  if (frame.functionName === "(idle)") return undefined;
  if (frame.functionName === "(garbage collector)") return "gc";
  if (!url.includes("/node_modules/") && keelDirs.some((d) => url.startsWith(d + path.sep))) return "keel";
  if (/\/node_modules\/@pulumi\//.test(url)) return "sdk";
  if (/\/node_modules\/(@grpc\/|google-protobuf\/)|^node:internal\/http2\//.test(url)) return "rpc";
  if (
    url.startsWith("node:internal/modules/") ||
    /^\((internalModuleStat|readFileUtf8)\)$/.test(frame.functionName)
  )
    return "load";
  return "other";
}

/** The profile's self time per owner, in seconds. */
export function profileSplit(profile: CpuProfile, keelDirs: readonly string[]): ProfileSplit {
  const split = Object.fromEntries(PROFILE_PARTS.map((p) => [p, 0])) as ProfileSplit;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  profile.samples.forEach((id, i) => {
    const part = profilePart(frames.get(id)!, keelDirs);
    if (part) split[part] += (profile.timeDeltas[i] ?? 0) / 1e6;
  });
  return split;
}

export function profileTotal(split: ProfileSplit): number {
  return PROFILE_PARTS.reduce((sum, p) => sum + split[p], 0);
}

/** The split of the busiest profile in `dir` (a preview's program process; the language host starts others). */
export function busiestProfile(dir: string, keelDirs: readonly string[]): ProfileSplit {
  const splits = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => profileSplit(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as CpuProfile, keelDirs));
  if (splits.length === 0) throw new Error(`no CPU profile was written to ${dir}`);
  return splits.reduce((a, b) => (profileTotal(b) > profileTotal(a) ? b : a));
}

/** Rows from one profiled program preview and one profiled skeleton preview per run. */
export function profileRows(program: readonly ProfileSplit[], skeleton: readonly ProfileSplit[]): Row[] {
  const share = measured(
    "c.keel-share",
    "keel's own functions, in % of the program process's CPU samples (profiled prod preview)",
    "%",
    program.map((s) => (100 * s.keel) / profileTotal(s)),
  );
  const parts = PROFILE_PARTS.map((p) =>
    measured(
      `c.code-${p}`,
      `program over skeleton, profiled self time: ${PART_NAMES[p]}`,
      "s",
      program.map((s, i) => s[p] - skeleton[i]![p]),
    ),
  );
  return [share, ...parts];
}

const PART_NAMES: Record<ProfilePart, string> = {
  keel: "keel's own functions (bin/, components/*/dist)",
  sdk: "the Pulumi SDKs (@pulumi/*)",
  rpc: "gRPC, protobuf, HTTP/2",
  load: "loading modules",
  gc: "garbage collection",
  other: "the rest (Node.js, microtasks, V8)",
};
