import * as pulumi from "@pulumi/pulumi";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../program/config";
import { deploy } from "../../program/deploy";
import { asPostgresUser, freePort } from "../e2e/postgres";
import { stackConfig } from "../unit/fixtures";
import { Recorded, installMocks, settle } from "../unit/harness";

// What every conformance suite shares: the real programs (scripts/conformance/ensure.sh), the objects the
// program registers for a stack, and processes on 127.0.0.1 that are always stopped.

export const root = path.resolve(__dirname, "../../..");

/** Installs (once, cached) a real program and returns the path to run it by; progress shows as it happens. */
export function ensureProgram(name: string, ...args: string[]): string {
  const r = spawnSync("bash", [path.join(root, "scripts/conformance/ensure.sh"), name, ...args], {
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

/** A file of a rendered ConfigMap or Secret (what `dataOf` gives). */
export function fileOf(
  res: Recorded[],
  type: "ConfigMap" | "Secret",
  name: string | RegExp,
  key: string,
): string {
  const r = find(res, type, name);
  const data = dataOf(r);
  const text = data?.[key];
  if (typeof text !== "string")
    throw new Error(`${type} ${r.name} has no ${key}: ${Object.keys(data ?? {})}`);
  return text;
}

/**
 * A value as the program gave it, without Pulumi's secret envelope (`{[specialSigKey]: specialSecretSig,
 * value}`), which the mocks keep on secret inputs such as a generated Secret's `stringData`.
 */
export function unsecret(v: any): any {
  return v?.[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig ? unsecret(v.value) : v;
}

/** The ConfigMap or Secret of a Kubernetes name and namespace, as a pod's volume or env names it. */
export function objectIn(
  res: Recorded[],
  kind: "ConfigMap" | "Secret",
  namespace: string,
  name: string,
): Recorded {
  const r = res.find(
    (x) =>
      x.type === `kubernetes:core/v1:${kind}` &&
      x.inputs.metadata?.name === name &&
      x.inputs.metadata?.namespace === namespace,
  );
  if (!r) throw new Error(`no ${kind} ${namespace}/${name}`);
  return r;
}

/**
 * The keys and values of a rendered ConfigMap (`data`) or Secret as a pod sees them: a Secret's `stringData`
 * over its base64-decoded `data`, with the secret envelope taken off (whole or per value).
 */
export function dataOf(r: Recorded): Record<string, string> {
  if (!r.type.endsWith(":Secret")) return r.inputs.data;
  const entries = (v: any): [string, any][] => Object.entries(unsecret(v) ?? {});
  return Object.fromEntries([
    ...entries(r.inputs.data).map(([k, v]) => [k, Buffer.from(unsecret(v), "base64").toString("utf8")]),
    ...entries(r.inputs.stringData).map(([k, v]) => [k, unsecret(v)]),
  ]);
}

/**
 * A container's env as the kubelet resolves it: values, and Secret and ConfigMap keys of `namespace`;
 * `fields` stands in for the downward API (fieldRef paths such as "status.hostIP"). Anything else fails.
 */
export function containerEnv(
  res: Recorded[],
  namespace: string,
  container: any,
  fields: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const from = e.valueFrom;
    const ref = from?.secretKeyRef ?? from?.configMapKeyRef;
    const field = from?.fieldRef?.fieldPath;
    const value = ref
      ? dataOf(objectIn(res, from.secretKeyRef ? "Secret" : "ConfigMap", namespace, ref.name))[ref.key]
      : field !== undefined && Object.hasOwn(fields, field)
        ? fields[field]
        : e.value;
    if (typeof value !== "string")
      throw new Error(`env ${e.name}: source not resolved here: ${JSON.stringify(from ?? e.value)}`);
    env[e.name] = value;
  }
  return env;
}

/** The kubelet's expansion of `$(VAR)` in command and args (`$$` escapes; an unknown VAR stays as it is). */
export function expand(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string) =>
    m === "$$" ? "$" : Object.hasOwn(env, name) ? env[name] : m,
  );
}

/**
 * As root, a command run as `nobody` (uid/gid 65534) in a user namespace, so that a server runs
 * unprivileged as in its pod (and one that refuses root starts); files keep their real owner. As any other
 * user, the command as it is. The same helper as test/e2e/postgres.ts's asPostgresUser.
 */
export { freePort };

export const unprivileged: (cmd: string, args: string[]) => [string, string[]] = asPostgresUser;

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  /** "user:password" for basic authentication. */
  auth?: string;
  /** A request body (sent as given). */
  body?: string;
  /** Fail when the socket is idle this long; without it, no limit. */
  timeout?: number;
  /** `false`: a connection of its own (no keep-alive agent). */
  agent?: false;
}

/** One HTTP request to 127.0.0.1 (GET unless told), answered with its status, headers and body. */
export function httpRequest(port: number, urlPath: string, opts: HttpOptions = {}): Promise<HttpAnswer> {
  const { method = "GET", headers, auth, body, timeout, agent } = opts;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path: urlPath, headers, auth, agent },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    if (timeout !== undefined)
      req.setTimeout(timeout, () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.end(body);
  });
}

export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `keel-conf-${prefix}-`));
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
