import { SpawnSyncReturns, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { toolchainEnvironment } from "../../scripts/env";
import { repoRoot } from "../unit/fixtures";

export const root = repoRoot;

/** The environment scripts/env.sh prepares (toolchain, cluster, offline switches), captured once. */
export function prepareEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  return toolchainEnvironment(root, { ...process.env, ...extra });
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

/** Starts a command in the background; `finished` waits for it (killing it after `timeoutSeconds`). */
export function runAsync(env: NodeJS.ProcessEnv, cmd: string, args: string[]) {
  process.stderr.write(`      $ ${cmd} ${args.join(" ")} &\n`);
  const child = spawn(cmd, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  return {
    async finished(timeoutSeconds: number): Promise<Run> {
      const timer = setTimeout(() => child.kill("SIGINT"), timeoutSeconds * 1000);
      const status = await done;
      clearTimeout(timer);
      return { status, stdout, stderr };
    },
  };
}

/** Polls `check` every second until it holds or `seconds` pass. */
export async function waitFor(check: () => boolean, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`condition not met within ${seconds} s`);
}

/** Kills the local cluster's kube-apiserver (SIGKILL), as a crash would. */
export function killApiServer(env: NodeJS.ProcessEnv): void {
  const cache = env.KEEL_CACHE ?? path.join(os.homedir(), ".cache", "keel");
  const state = env.KEEL_CLUSTER_DIR ?? path.join(cache, "cluster", "state");
  const pid = Number(fs.readFileSync(path.join(state, "run", "kube-apiserver.pid"), "utf8").trim());
  process.stderr.write(`      kill -9 kube-apiserver (pid ${pid})\n`);
  process.kill(pid, "SIGKILL");
}
