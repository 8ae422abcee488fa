import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../program/config";
import { deploy } from "../../program/deploy";
import { stackConfig } from "../unit/fixtures";
import { Recorded, installMocks, settle } from "../unit/harness";

// What every conformance suite shares: the real programs (scripts/conformance/ensure.sh), the objects the
// program registers for a stack, and processes on 127.0.0.1 that are always stopped.

export const root = path.resolve(__dirname, "../../..");

/** Installs (once, cached) a real program and returns the path to run it by; progress shows as it happens. */
export function ensureProgram(name: string): string {
  const r = spawnSync("bash", [path.join(root, "scripts/conformance/ensure.sh"), name], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const bin = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !bin) throw new Error(`scripts/conformance/ensure.sh ${name} failed (see above)`);
  return bin;
}

/** The version line a program prints, for the suite's output and docs/conformance.md. */
export function versionOf(bin: string, args: string[]): string {
  const r = spawnSync(bin, args, { encoding: "utf8" });
  return `${r.stdout}${r.stderr}`.split("\n").find((l) => l.trim()) ?? "(no version printed)";
}

/**
 * Every resource the program registers for a stack, with its inputs, as `pulumi up` would register them
 * (Pulumi mocks: generated secrets have stand-in values that flow through the same wiring).
 */
export async function renderStack(stack: "dev" | "prod"): Promise<Recorded[]> {
  await installMocks();
  deploy(parseStackConfig(stackConfig(stack)));
  return settle();
}

/** The resource of a type (suffix such as "ConfigMap") whose name matches. */
export function find(res: Recorded[], type: string, name: string | RegExp): Recorded {
  const r = res.find((x) => (x.type === type || x.type.endsWith(`:${type}`)) && x.name.match(name) !== null);
  if (!r) throw new Error(`no ${type} named ${name}`);
  return r;
}

/** A file of a rendered ConfigMap (data) or Secret (stringData). */
export function fileOf(
  res: Recorded[],
  type: "ConfigMap" | "Secret",
  name: string | RegExp,
  key: string,
): string {
  const r = find(res, type, name);
  const data = type === "ConfigMap" ? r.inputs.data : (r.inputs.stringData ?? r.inputs.data);
  const text = data?.[key];
  if (typeof text !== "string")
    throw new Error(`${type} ${r.name} has no ${key}: ${Object.keys(data ?? {})}`);
  return text;
}

export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `keel-conf-${prefix}-`));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A program running in the background with its output kept; `stop()` ends it (and is safe to repeat). */
export class Running {
  private out = "";
  readonly proc: ChildProcess;
  constructor(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    this.proc = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.proc.stdout?.on("data", (d) => (this.out += d));
    this.proc.stderr?.on("data", (d) => (this.out += d));
  }
  output(): string {
    return this.out;
  }
  exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }
  async stop(): Promise<void> {
    if (this.exited() || this.proc.pid === undefined) return;
    const done = new Promise((r) => this.proc.once("exit", r));
    try {
      process.kill(-this.proc.pid, "SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-this.proc.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }, 5000);
    await done;
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true; fails with `what` and the program's output after `ms`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 30_000,
  p?: Running,
) {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (p?.exited()) throw new Error(`${what}: the program exited:\n${p.output()}`);
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms\n${p?.output() ?? ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
