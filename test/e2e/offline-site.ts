import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

// A site with no network, on this machine: a network namespace holding only loopback (`unshare --net`) and a
// mount namespace in which the repository, the toolchain cache and npm are hidden under empty folders. The
// local API server (and the site's registry, when the test has one) listens on 127.0.0.1 of the HOST
// namespace, so each is bridged over a unix socket (files are shared between network namespaces): a host
// process forwards the socket to 127.0.0.1:<port>, and inside the namespace a forwarder listens on
// 127.0.0.1:<port> and forwards to the socket.

/** `node bridge.js unix-to-tcp <socket> <port>` (host) or `node bridge.js tcp-to-unix <port> <socket>` (inside). */
const bridgeSource = `
const net = require("net");
const fs = require("fs");
const [mode, a, b] = process.argv.slice(2);
const pipe = (client, connect) => {
  const upstream = connect();
  client.pipe(upstream).pipe(client);
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on("error", close);
  upstream.on("error", close);
};
let server;
if (mode === "unix-to-tcp") {
  try { fs.unlinkSync(a); } catch {}
  server = net.createServer((c) => pipe(c, () => net.connect(Number(b), "127.0.0.1"))).listen(a);
} else {
  server = net.createServer((c) => pipe(c, () => net.connect(b))).listen(Number(a), "127.0.0.1");
}
server.on("listening", () => process.stdout.write("ready\\n"));
`;

/**
 * Prints what the namespace offers as JSON: its interfaces, TCP connections to each target (host:port) and a
 * DNS lookup. Connections to non-loopback addresses must fail for the namespace to count as offline.
 */
const probeSource = `
const net = require("net");
const os = require("os");
const dns = require("dns");
const targets = JSON.parse(process.argv[2]);
const tryConnect = (t) => new Promise((resolve) => {
  const [host, port] = [t.slice(0, t.lastIndexOf(":")), Number(t.slice(t.lastIndexOf(":") + 1))];
  const s = net.connect({ host, port, timeout: 3000 });
  s.on("connect", () => { s.destroy(); resolve({ target: t, connected: true }); });
  s.on("timeout", () => { s.destroy(); resolve({ target: t, connected: false, error: "timeout" }); });
  s.on("error", (e) => resolve({ target: t, connected: false, error: e.code }));
});
(async () => {
  const attempts = [];
  for (const t of targets) attempts.push(await tryConnect(t));
  const lookup = await new Promise((r) => dns.lookup("registry.npmjs.org", (e, addr) => r(e ? { error: e.code } : { address: addr })));
  process.stdout.write(JSON.stringify({ interfaces: Object.keys(os.networkInterfaces()), attempts, lookup }));
})();
`;

export interface Offline {
  /** Runs `script` (bash) in a fresh offline namespace; see `runOffline`. */
  dir: string;
  /** A Node.js for the bridge and the probe inside the namespace, where the host's may be hidden. */
  node: string;
  /** The bridged loopback ports (the API server's first) and their sockets. */
  bridges: { port: number; socket: string }[];
  apiPort: number;
  stop(): void;
}

/**
 * Writes the helper scripts and starts the host side of the bridges to 127.0.0.1:apiPort (the API server)
 * and to each of `otherPorts` (e.g. the site registry).
 */
export async function startOfflineSite(
  dir: string,
  apiPort: number,
  otherPorts: number[] = [],
): Promise<Offline> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "bridge.js"), bridgeSource);
  fs.writeFileSync(path.join(dir, "probe.js"), probeSource);
  fs.mkdirSync(path.join(dir, "empty"), { recursive: true });
  const node = path.join(dir, "node");
  if (!fs.existsSync(node)) linkOrCopy(process.execPath, node);
  const bridges = [apiPort, ...otherPorts].map((port) => ({
    port,
    socket: path.join(dir, `port-${port}.sock`),
  }));
  const hosts: ChildProcess[] = [];
  for (const b of bridges) hosts.push(await hostBridge(dir, b.socket, b.port));
  return { dir, node, bridges, apiPort, stop: () => hosts.forEach((h) => h.kill()) };
}

async function hostBridge(dir: string, socket: string, port: number): Promise<ChildProcess> {
  const host: ChildProcess = spawn(
    process.execPath,
    [path.join(dir, "bridge.js"), "unix-to-tcp", socket, String(port)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    host.stdout!.on("data", (d) => (String(d).includes("ready") ? resolve() : undefined));
    host.on("exit", (code) => reject(new Error(`the host bridge to ${port} exited (${code})`)));
  });
  return host;
}

function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
    fs.chmodSync(to, 0o755);
  }
}

/** The folders to cover, without those inside another one (covered with it, and no mount point any more). */
export function outermost(folders: readonly string[]): string[] {
  const existing = [...new Set(folders.map((f) => path.resolve(f)))].filter((f) => fs.existsSync(f));
  return existing.filter((f) => !existing.some((o) => o !== f && f.startsWith(o + path.sep)));
}

/** A folder with only the commands deploy.sh uses (links), so PATH holds no node, npm or pulumi. */
export function minimalPath(dir: string): string {
  const bin = path.join(dir, "site-bin");
  fs.mkdirSync(bin, { recursive: true });
  const tools = [
    "bash",
    "env",
    "dirname",
    "basename",
    "date",
    "mkdir",
    "cp",
    "ln",
    "rm",
    "cat",
    "grep",
    "sha256sum",
    "tee",
    "tr",
    "diff",
    "ls",
    "openssl",
  ];
  for (const t of tools) {
    const found = ["/usr/bin", "/bin"].map((d) => path.join(d, t)).find((p) => fs.existsSync(p));
    if (!found) throw new Error(`${t} not found in /usr/bin or /bin`);
    const link = path.join(bin, t);
    if (!fs.existsSync(link)) fs.symlinkSync(found, link);
  }
  return bin;
}

export interface OfflineRun {
  status: number;
  output: string;
  probe: {
    interfaces: string[];
    attempts: { target: string; connected: boolean; error?: string }[];
    lookup: any;
  };
}

/** Runs a command with its output streamed (indented) as it comes, and returned. */
export async function runStreaming(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutSeconds: number },
): Promise<{ status: number; stdout: string; output: string }> {
  process.stderr.write(`      $ ${cmd} ${args.join(" ").slice(0, 300)}\n`);
  const started = Date.now();
  const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let output = "";
  const echo = (d: Buffer) => {
    output += d;
    process.stderr.write(
      String(d)
        .split("\n")
        .filter(Boolean)
        .map((l) => `        | ${l}\n`)
        .join(""),
    );
  };
  child.stdout.on("data", (d) => {
    stdout += d;
    echo(d);
  });
  child.stderr.on("data", echo);
  const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutSeconds * 1000);
  const status = await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  clearTimeout(timer);
  process.stderr.write(`        (${((Date.now() - started) / 1000).toFixed(1)} s, exit ${status})\n`);
  return { status, stdout, output };
}

/**
 * Runs `command` in a new network namespace with only loopback up and the API server bridged in, with
 * `hidden` folders covered by empty ones (a new mount namespace), after probing the network from inside.
 * The command's output is streamed (indented) and returned.
 */
export async function runOffline(
  site: Offline,
  opts: { command: string; probeTargets: string[]; hidden: string[]; timeoutSeconds: number },
): Promise<OfflineRun> {
  const probeFile = path.join(site.dir, `probe-${Date.now()}.json`);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    "set -uo pipefail",
    "ip link set lo up",
    ...outermost(opts.hidden).map((h) => `mount --bind ${q(path.join(site.dir, "empty"))} ${q(h)}`),
    "bridges=()",
    ...site.bridges.flatMap((b) => [
      `${q(site.node)} ${q(path.join(site.dir, "bridge.js"))} tcp-to-unix ${b.port} ${q(b.socket)} > ${q(probeFile)}.${b.port} &`,
      "bridges+=($!)",
      `for i in $(seq 100); do grep -q ready ${q(probeFile)}.${b.port} 2>/dev/null && break; sleep 0.1; done`,
    ]),
    `trap 'kill "\${bridges[@]}" 2>/dev/null' EXIT`,
    `${q(site.node)} ${q(path.join(site.dir, "probe.js"))} ${q(JSON.stringify(opts.probeTargets))} > ${q(probeFile)}`,
    opts.command,
  ].join("\n");
  const { status, output } = await runStreaming("unshare", ["--net", "--mount", "--", "bash", "-c", script], {
    timeoutSeconds: opts.timeoutSeconds,
  });
  const probe = fs.existsSync(probeFile)
    ? JSON.parse(fs.readFileSync(probeFile, "utf8"))
    : { interfaces: [], attempts: [], lookup: {} };
  return { status, output, probe };
}
