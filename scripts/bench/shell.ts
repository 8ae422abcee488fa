/** Running commands for the benchmark: the toolchain environment, timed runs, peak memory. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { toolchainEnvironment } from "../env";

export function say(text: string): void {
  process.stderr.write(`[bench ${new Date().toTimeString().slice(0, 8)}] ${text}\n`);
}

/** The environment scripts/env.sh prepares (toolchain, cluster, offline switches), captured once. */
export function benchEnvironment(root: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env, ...extra };
  // Our own passphrase and backend must win over whatever the caller's shell points at.
  delete base.PULUMI_CONFIG_PASSPHRASE_FILE;
  return toolchainEnvironment(root, base);
}

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  input?: string;
}

/** Runs a command to completion and measures its wall time; output is captured, not streamed. */
export function run(cmd: string, args: readonly string[], opts: RunOptions): Run {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    encoding: "utf8",
    input: opts.input,
    maxBuffer: 512 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "", seconds };
}

/** Like run, but throws with the end of the command's output when it exits non-zero. */
export function must(cmd: string, args: readonly string[], opts: RunOptions): Run {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${r.status}) in ${opts.cwd}:\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-6000)}`,
    );
  }
  return r;
}

export interface Measured extends Run {
  /** Peak resident set size of the command, in MiB (GNU time's %M). */
  maxRssMiB: number;
  /** User + system CPU seconds. */
  cpuSeconds: number;
}

/** Runs a command under GNU time (`/usr/bin/time`) to learn its peak memory and CPU time as well. */
export function runMeasured(cmd: string, args: readonly string[], opts: RunOptions, tmp: string): Measured {
  if (!fs.existsSync("/usr/bin/time")) {
    throw new Error("/usr/bin/time (GNU time) is needed to measure peak memory: apt-get install time");
  }
  const out = path.join(tmp, `time-${process.pid}-${Date.now()}.txt`);
  const r = run("/usr/bin/time", ["-f", "%e %U %S %M", "-o", out, cmd, ...args], opts);
  const fields = fs.readFileSync(out, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  fs.rmSync(out, { force: true });
  const [, user, sys, maxRssKiB] = fields as [number, number, number, number];
  return { ...r, cpuSeconds: user + sys, maxRssMiB: maxRssKiB / 1024 };
}
