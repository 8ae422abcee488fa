import { SpawnSyncReturns, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { repoRoot } from "../unit/fixtures";

export const root = repoRoot;

/** The environment scripts/env.sh prepares (toolchain, cluster, offline switches), captured once. */
export function prepareEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const r = spawnSync("bash", ["-c", ". scripts/env.sh && env -0"], {
    cwd: root,
    env: { ...process.env, ...extra },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error("scripts/env.sh failed: see the output above");
  return Object.fromEntries(
    r.stdout
      .split("\0")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command, echoing a progress line and its elapsed time; output is returned, not streamed. */
export function run(env: NodeJS.ProcessEnv, cmd: string, args: string[], opts: { input?: string } = {}): Run {
  const started = Date.now();
  process.stderr.write(`      $ ${cmd} ${args.join(" ")}\n`);
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd: root,
    env,
    encoding: "utf8",
    input: opts.input,
    maxBuffer: 256 * 1024 * 1024,
  });
  process.stderr.write(`        (${((Date.now() - started) / 1000).toFixed(1)} s, exit ${r.status})\n`);
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Like run, but throws with the command's output when it fails. */
export function must(
  env: NodeJS.ProcessEnv,
  cmd: string,
  args: string[],
  opts: { input?: string } = {},
): Run {
  const r = run(env, cmd, args, opts);
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout.slice(-8000)}\n${r.stderr.slice(-8000)}`,
    );
  }
  return r;
}

export function kubectlJson(env: NodeJS.ProcessEnv, args: string[]): any {
  return JSON.parse(must(env, "kubectl", [...args, "-o", "json"]).stdout);
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
