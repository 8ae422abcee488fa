import { renderAvCheckerModule, renderClamdRunScript, renderScanWorkerScript } from "@keel/matrix";
import { expect } from "chai";
import { ChildProcess, execFile, spawn, spawnSync } from "child_process";
import { createHmac } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";

// The scripts run for real: Python 3 against fake clamd, Redis and Synapse servers speaking the real wire
// protocols (INSTREAM, RESP2, HTTP), and the clamd run script under dash and BusyBox ash with fake daemons.

const python = spawnSync("python3", ["--version"], { encoding: "utf8" });
const hasPython = python.status === 0;
const shells = [["sh"], ["busybox", "sh"]].filter(
  ([cmd, ...rest]) => spawnSync(cmd, [...rest, "-c", "exit 0"]).status === 0,
);

/** The EICAR test string, assembled at run time so this file itself is not flagged by scanners. */
const eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function runPython(dir: string, code: string, env: Record<string, string> = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    execFile(
      "python3",
      ["-c", code],
      { cwd: dir, env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...env }, timeout: 15000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`python failed: ${err.message}\n${stderr}`));
        const last = stdout.trim().split("\n").pop() ?? "";
        try {
          resolve(JSON.parse(last));
        } catch {
          reject(new Error(`no JSON on python's last line:\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)),
  );
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

/** clamd's INSTREAM: `zINSTREAM\0`, then <4-byte big-endian length><data> chunks, a zero length to finish. */
class FakeClamd {
  readonly scans: { chunks: number[]; data: Buffer }[] = [];
  connections = 0;
  delayMs = 0;
  /** Reply with clamd's size-limit error once this many bytes arrived. */
  limitBytes = Infinity;
  private server = net.createServer((sock) => this.serve(sock));
  port = 0;

  async start() {
    this.port = await listen(this.server);
    return this;
  }

  close() {
    this.server.close();
  }

  private serve(sock: net.Socket) {
    this.connections++;
    let buf = Buffer.alloc(0);
    let command: string | undefined;
    const chunks: number[] = [];
    const data: Buffer[] = [];
    let done = false;
    sock.on("error", () => undefined);
    sock.on("data", (more) => {
      if (done) return;
      buf = Buffer.concat([buf, more]);
      if (command === undefined) {
        const end = buf.indexOf(0);
        if (end < 0) return;
        command = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 1);
        if (command !== "zINSTREAM") {
          done = true;
          sock.end(command === "zPING" ? "PONG\0" : "UNKNOWN COMMAND\0");
          return;
        }
      }
      while (buf.length >= 4) {
        const size = buf.readUInt32BE(0);
        if (size === 0) {
          done = true;
          const all = Buffer.concat(data);
          this.scans.push({ chunks, data: all });
          const reply = all.includes("EICAR-STANDARD-ANTIVIRUS-TEST-FILE")
            ? "stream: Eicar-Signature FOUND\0"
            : "stream: OK\0";
          setTimeout(() => sock.end(reply), this.delayMs);
          return;
        }
        if (buf.length < 4 + size) return;
        chunks.push(size);
        data.push(Buffer.from(buf.subarray(4, 4 + size)));
        buf = buf.subarray(4 + size);
        if (chunks.reduce((a, b) => a + b, 0) > this.limitBytes) {
          done = true;
          sock.end("INSTREAM size limit exceeded. ERROR\0");
          return;
        }
      }
    });
  }
}

type Reply = string | number | null | Reply[] | { ok: string } | { err: string } | { nullArray: true };

function encodeReply(r: Reply): string {
  if (r === null) return "$-1\r\n";
  if (typeof r === "number") return `:${r}\r\n`;
  if (typeof r === "string") return `$${Buffer.byteLength(r)}\r\n${r}\r\n`;
  if (Array.isArray(r)) return `*${r.length}\r\n${r.map(encodeReply).join("")}`;
  if ("ok" in r) return `+${r.ok}\r\n`;
  if ("err" in r) return `-${r.err}\r\n`;
  return "*-1\r\n";
}

/** Parses one RESP array of bulk strings (a client command) or returns undefined when incomplete. */
function parseCommand(buf: Buffer): [string[], number] | undefined {
  let pos = 0;
  const line = () => {
    const end = buf.indexOf("\r\n", pos);
    if (end < 0) return undefined;
    const s = buf.subarray(pos, end).toString();
    pos = end + 2;
    return s;
  };
  const head = line();
  if (head === undefined) return undefined;
  if (!head.startsWith("*")) throw new Error(`not a RESP array: ${head}`);
  const args: string[] = [];
  for (let i = 0; i < Number(head.slice(1)); i++) {
    const len = line();
    if (len === undefined) return undefined;
    const n = Number(len.slice(1));
    if (buf.length < pos + n + 2) return undefined;
    args.push(buf.subarray(pos, pos + n).toString());
    pos += n + 2;
  }
  return [args, pos];
}

interface Pending {
  consumer: string;
  deliveredAt: number;
  deliveries: number;
}

/** Just enough of Redis 7 streams and consumer groups, over real RESP2 on TCP. */
class FakeRedis {
  readonly log: string[][] = [];
  readonly streams = new Map<string, Map<number, string[]>>();
  readonly groups = new Map<string, { last: number; pending: Map<number, Pending> }>();
  private seq = 0;
  private server = net.createServer((sock) => this.serve(sock));
  port = 0;

  constructor(private readonly password: string) {}

  async start() {
    this.port = await listen(this.server);
    return this;
  }

  close() {
    this.server.close();
  }

  entries(stream: string): Record<string, string>[] {
    return [...(this.streams.get(stream)?.values() ?? [])].map((f) => {
      const o: Record<string, string> = {};
      for (let i = 0; i < f.length; i += 2) o[f[i]] = f[i + 1];
      return o;
    });
  }

  add(stream: string, fields: string[]): string {
    const id = ++this.seq;
    if (!this.streams.has(stream)) this.streams.set(stream, new Map());
    this.streams.get(stream)!.set(id, fields);
    return `${id}-0`;
  }

  /** Drops every connection and all data, as a Redis restart without persistence would. */
  restart() {
    for (const sock of this.sockets) sock.destroy();
    this.streams.clear();
    this.groups.clear();
  }

  private readonly sockets = new Set<net.Socket>();

  private serve(sock: net.Socket) {
    this.sockets.add(sock);
    sock.on("close", () => this.sockets.delete(sock));
    let buf = Buffer.alloc(0);
    let authed = false;
    sock.on("error", () => undefined);
    sock.on("data", (more) => {
      buf = Buffer.concat([buf, more]);
      for (;;) {
        const parsed = parseCommand(buf);
        if (!parsed) return;
        const [args, used] = parsed;
        buf = buf.subarray(used);
        this.log.push(args);
        let reply: Reply;
        if (args[0].toUpperCase() === "AUTH") {
          authed = args[1] === this.password;
          reply = authed ? { ok: "OK" } : { err: "WRONGPASS invalid username-password pair" };
        } else if (!authed) {
          reply = { err: "NOAUTH Authentication required." };
        } else {
          reply = this.handle(args);
        }
        if (
          args[0].toUpperCase() === "XREADGROUP" &&
          typeof reply === "object" &&
          reply &&
          "nullArray" in reply
        ) {
          // BLOCK: nothing new, answer when the block time is over (capped to keep tests fast).
          const block = Number(args[args.indexOf("BLOCK") + 1]);
          setTimeout(() => sock.writable && sock.write(encodeReply(reply)), Math.min(block, 100));
          return;
        }
        sock.write(encodeReply(reply));
      }
    });
  }

  private handle(a: string[]): Reply {
    const cmd = a[0].toUpperCase();
    const id = (s: string) => Number(s.split("-")[0]);
    const group = (stream: string, name: string) => this.groups.get(`${stream}/${name}`);
    if (cmd === "XADD") {
      const star = a.indexOf("*");
      return this.add(a[1], a.slice(star + 1));
    }
    if (cmd === "XGROUP" && a[1].toUpperCase() === "CREATE") {
      if (!this.streams.has(a[2])) {
        if (!a.includes("MKSTREAM")) return { err: "ERR The XGROUP subcommand requires the key to exist." };
        this.streams.set(a[2], new Map());
      }
      if (group(a[2], a[3])) return { err: "BUSYGROUP Consumer Group name already exists" };
      this.groups.set(`${a[2]}/${a[3]}`, { last: a[4] === "$" ? this.seq : id(a[4]), pending: new Map() });
      return { ok: "OK" };
    }
    if (cmd === "XREADGROUP") {
      const [, , name, consumer] = a;
      const stream = a[a.indexOf("STREAMS") + 1];
      const count = Number(a[a.indexOf("COUNT") + 1]);
      const g = group(stream, name);
      if (!g) return { err: "NOGROUP No such key or consumer group" };
      const fresh = [...(this.streams.get(stream) ?? new Map<number, string[]>()).entries()]
        .filter(([n]) => n > g.last)
        .slice(0, count);
      if (fresh.length === 0) return { nullArray: true };
      for (const [n] of fresh) {
        g.last = n;
        g.pending.set(n, { consumer, deliveredAt: Date.now(), deliveries: 1 });
      }
      return [[stream, fresh.map(([n, f]) => [`${n}-0`, f])]];
    }
    if (cmd === "XPENDING") {
      const g = group(a[1], a[2])!;
      const idle = Number(a[a.indexOf("IDLE") + 1]);
      const now = Date.now();
      return [...g.pending.entries()]
        .filter(([, p]) => now - p.deliveredAt >= idle)
        .map(([n, p]) => [`${n}-0`, p.consumer, now - p.deliveredAt, p.deliveries]);
    }
    if (cmd === "XCLAIM") {
      const [, stream, name, consumer, minIdle, ...ids] = a;
      const g = group(stream, name)!;
      const out: Reply[] = [];
      for (const s of ids) {
        const p = g.pending.get(id(s));
        if (!p || Date.now() - p.deliveredAt < Number(minIdle)) continue;
        const fields = this.streams.get(stream)?.get(id(s));
        if (!fields) {
          g.pending.delete(id(s));
          continue;
        }
        Object.assign(p, { consumer, deliveredAt: Date.now(), deliveries: p.deliveries + 1 });
        out.push([s, fields]);
      }
      return out;
    }
    if (cmd === "XACK") {
      const g = group(a[1], a[2])!;
      return a.slice(3).filter((s) => g.pending.delete(id(s))).length;
    }
    if (cmd === "XDEL") {
      return a.slice(2).filter((s) => this.streams.get(a[1])?.delete(id(s))).length;
    }
    return { err: `ERR unknown command '${a[0]}'` };
  }
}

/** Synapse's authenticated media download and the quarantine admin API. */
class FakeSynapse {
  readonly requests: { method: string; url: string; auth?: string }[] = [];
  readonly media = new Map<string, Buffer>();
  private server = http.createServer((req, res) => {
    this.requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization });
    const download = /^\/_matrix\/client\/v1\/media\/download\/example\.org\/([^/?]+)$/.exec(req.url!);
    if (req.method === "GET" && download && this.media.has(download[1])) {
      res.writeHead(200, { "Content-Type": "application/octet-stream" });
      res.end(this.media.get(download[1]));
      return;
    }
    if (req.method === "POST" && req.url!.startsWith("/_synapse/admin/v1/media/quarantine/example.org/")) {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end("{}");
      return;
    }
    res.writeHead(404, { "Content-Type": "application/json" });
    res.end('{"errcode":"M_NOT_FOUND"}');
  });
  port = 0;

  async start() {
    this.port = await listen(this.server);
    return this;
  }

  close() {
    this.server.close();
  }

  quarantined(): string[] {
    return this.requests
      .filter((r) => r.method === "POST" && r.url.startsWith("/_synapse/admin/v1/media/quarantine/"))
      .map((r) => r.url.split("/").pop()!);
  }
}

function workerEnv(
  redis: FakeRedis,
  clamd: FakeClamd,
  synapse: FakeSynapse,
  extra: Record<string, string> = {},
) {
  return {
    AV_REDIS_HOST: "127.0.0.1",
    AV_REDIS_PORT: String(redis.port),
    AV_REDIS_PASSWORD: "queue-secret",
    AV_CLAMD_HOST: "127.0.0.1",
    AV_CLAMD_PORT: String(clamd.port),
    AV_SYNAPSE_MEDIA_URL: `http://127.0.0.1:${synapse.port}`,
    // Main: no media admin API there (Synapse answers 404 "Unrecognized request" with a media worker).
    AV_SYNAPSE_ADMIN_URL: `http://127.0.0.1:${synapse.port}/main-without-media-admin/`,
    AV_SYNAPSE_ADMIN_TOKEN: "admin-token",
    AV_CONSUMER: "worker-1",
    AV_BLOCK_MS: "50",
    ...extra,
  };
}

describe("the Matrix antivirus: Python scripts, run for real", function () {
  let dir: string;
  before(function () {
    if (!hasPython) {
      console.log("    python3 is not installed: the antivirus Python suites are skipped (not passed)");
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-av-"));
    fs.writeFileSync(path.join(dir, "av_scan_worker.py"), renderScanWorkerScript());
    fs.writeFileSync(path.join(dir, "synapse_av_checker.py"), renderAvCheckerModule());
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("compiles both scripts (py_compile) with the machine's Python 3", () => {
    const r = spawnSync("python3", ["-m", "py_compile", "av_scan_worker.py", "synapse_av_checker.py"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    // Only the standard library: nothing to pip-install at an air-gapped site.
    const imports = [renderScanWorkerScript(), renderAvCheckerModule()]
      .flatMap((s) => s.match(/^(?:import|from) [\w.]+/gm) ?? [])
      .map((l) => l.split(" ")[1].split(".")[0]);
    const stdlib = [
      "hashlib",
      "hmac",
      "http",
      "json",
      "logging",
      "os",
      "re",
      "signal",
      "socket",
      "struct",
      "threading",
      "time",
      "urllib",
    ];
    expect(imports.filter((m) => m !== "synapse" && !stdlib.includes(m))).to.deep.equal([]);
  });

  it("signs shared-secret admin registration exactly as Synapse verifies it (HMAC-SHA1, NUL-separated)", async () => {
    const out = await runPython(
      dir,
      String.raw`
import json
import av_scan_worker as w
print(json.dumps([w.registration_mac("reg-secret", "n0nce", "av-quarantine", "pa55", True),
                  w.registration_mac("reg-secret", "n0nce", "av-quarantine", "pa55", False)]))
`,
    );
    const mac = (admin: string) =>
      createHmac("sha1", "reg-secret")
        .update(["n0nce", "av-quarantine", "pa55", admin].join("\0"))
        .digest("hex");
    expect(out).to.deep.equal([mac("admin"), mac("notadmin")]);
  });

  it("encodes and decodes RESP2 exactly (both scripts carry the same protocol code)", async () => {
    const out = await runPython(
      dir,
      String.raw`
import io, json
import av_scan_worker as w, synapse_av_checker as m
res = {}
res["encoded"] = w.encode_command("XADD", "av:scan", "*", b"\x00\xff", 42).decode("latin-1")
res["same"] = m.encode_command("SET", "k", 1) == w.encode_command("SET", "k", 1)
def rd(raw):
    try:
        v = w.read_reply(io.BytesIO(raw))
        return ["ok", v.decode("latin-1") if isinstance(v, bytes) else v] if not isinstance(v, list) else ["ok", repr(v)]
    except w.RespError as e:
        return ["resp-error", str(e)]
    except w.ProtocolError as e:
        return ["protocol-error", str(e)]
cases = {"simple": b"+OK\r\n", "error": b"-BUSYGROUP Consumer Group name already exists\r\n", "int": b":-7\r\n",
         "bulk": b"$5\r\nhe\r\no\r\n", "nullbulk": b"$-1\r\n", "nullarray": b"*-1\r\n",
         "nested": b"*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n:3\r\n", "empty": b"*0\r\n",
         "truncated": b"$10\r\nabc\r\n", "closed": b"", "garbage": b"?what\r\n"}
res["replies"] = {k: rd(v) for k, v in cases.items()}
res["pairs"] = w.pairs([b"media_id", b"abc", b"origin", b"example.org"])
try:
    w.encode_command(True)
    res["bool"] = "accepted"
except TypeError:
    res["bool"] = "refused"
print(json.dumps(res))
`,
    );
    expect(out.encoded).to.equal(
      "*5\r\n$4\r\nXADD\r\n$7\r\nav:scan\r\n$1\r\n*\r\n$2\r\n\u0000\u00ff\r\n$2\r\n42\r\n",
    );
    expect(out.same).to.equal(true);
    expect(out.replies).to.deep.equal({
      simple: ["ok", "OK"],
      error: ["resp-error", "BUSYGROUP Consumer Group name already exists"],
      int: ["ok", -7],
      bulk: ["ok", "he\r\no"],
      nullbulk: ["ok", null],
      nullarray: ["ok", null],
      nested: ["ok", "[[b'1-0', [b'a', b'b']], 3]"],
      empty: ["ok", "[]"],
      truncated: ["protocol-error", "short bulk string"],
      closed: ["protocol-error", "connection closed mid-reply"],
      garbage: ["protocol-error", "unexpected RESP type b'?'"],
    });
    expect(out.pairs).to.deep.equal({ media_id: "abc", origin: "example.org" });
    expect(out.bool).to.equal("refused");
  });

  describe("INSTREAM against a fake clamd", () => {
    let clamd: FakeClamd;
    before(async () => {
      clamd = await new FakeClamd().start();
    });
    after(() => clamd?.close());

    it("frames data in ≤ 64 KiB chunks with a zero-length terminator and reads clean and infected verdicts", async () => {
      const out = await runPython(
        dir,
        String.raw`
import json, os
import av_scan_worker as w
port = int(os.environ["CLAMD_PORT"])
big = bytes(range(256)) * 800  # 204800 bytes
clean = w.instream_scan("127.0.0.1", port, [big, b"tail"], 5)
evil = w.instream_scan("127.0.0.1", port, [os.environ["EICAR"].encode()], 5)
print(json.dumps({"clean": clean, "evil": evil, "verdicts": [w.parse_verdict(clean), w.parse_verdict(evil)],
                  "error": w.parse_verdict("INSTREAM size limit exceeded. ERROR")}))
`,
        { CLAMD_PORT: String(clamd.port), EICAR: eicar },
      );
      expect(out.clean).to.equal("stream: OK");
      expect(out.evil).to.equal("stream: Eicar-Signature FOUND");
      expect(out.verdicts).to.deep.equal([
        ["clean", null],
        ["infected", "Eicar-Signature"],
      ]);
      expect(out.error).to.deep.equal(["error", "INSTREAM size limit exceeded. ERROR"]);
      const [first, second] = clamd.scans;
      expect(first.chunks).to.deep.equal([65536, 65536, 65536, 8192, 4]);
      expect(first.data.length).to.equal(204804);
      expect(first.data.subarray(0, 256)).to.deep.equal(Buffer.from([...Array(256).keys()]));
      expect(second.data.toString()).to.equal(eicar);
    });

    it("returns clamd's error when it cuts the stream at its size limit", async () => {
      clamd.limitBytes = 100000;
      try {
        const out = await runPython(
          dir,
          String.raw`
import json, os
import av_scan_worker as w
reply = w.instream_scan("127.0.0.1", int(os.environ["CLAMD_PORT"]), [b"x" * 3000000], 5)
print(json.dumps(w.parse_verdict(reply)))
`,
          { CLAMD_PORT: String(clamd.port) },
        );
        expect(out).to.deep.equal(["error", "INSTREAM size limit exceeded. ERROR"]);
      } finally {
        clamd.limitBytes = Infinity;
      }
    });
  });

  describe("the Synapse module", () => {
    let clamd: FakeClamd;
    let redis: FakeRedis;
    before(async () => {
      clamd = await new FakeClamd().start();
      redis = await new FakeRedis("queue-secret").start();
    });
    after(() => {
      clamd?.close();
      redis?.close();
    });

    it("scans small, remote and preview media now, rejects infected ones, queues large uploads, skips thumbnails", async () => {
      const before = clamd.scans.length;
      const out = await runPython(
        dir,
        String.raw`
import asyncio, json, os, tempfile
from types import SimpleNamespace as NS
import synapse_av_checker as m

class Api:
    def __init__(self):
        self.callbacks = {}
    def register_spam_checker_callbacks(self, **kw):
        self.callbacks.update(kw)
    async def defer_to_thread(self, f, *args, **kwargs):
        return f(*args, **kwargs)

raw = {"server_name": "example.org", "clamd_host": "127.0.0.1", "clamd_port": int(os.environ["CLAMD_PORT"]),
       "sync_max_bytes": 1000, "fail_closed": True, "redis_host": "127.0.0.1",
       "redis_port": int(os.environ["REDIS_PORT"]), "redis_password_env": "AV_QUEUE_PASSWORD", "stream": "av:scan"}
api = Api()
checker = m.AvChecker(m.AvChecker.parse_config(raw), api)
check = api.callbacks["check_media_file_for_spam"]
d = tempfile.mkdtemp()
def file(name, data):
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write(data)
    return NS(path=p)
info = lambda **kw: NS(**{"server_name": None, "file_id": "abcDEF123", "thumbnail": None, "url_cache": False, **kw})
eicar = os.environ["EICAR"].encode()
async def run():
    return {
        "small_clean": await check(file("a", b"hello"), info()),
        "small_evil": await check(file("b", eicar), info()),
        "thumbnail": await check(file("c", eicar), info(thumbnail=NS(width=32))),
        "remote_big_evil": await check(file("d", eicar + b" " * 5000), info(server_name="remote.org")),
        "preview_big_evil": await check(file("e", eicar + b" " * 5000), info(url_cache=True)),
        "local_big": await check(file("f", b"y" * 5000), info(file_id="bigFILE_1")),
    }
res = asyncio.run(run())
try:
    m.AvChecker.parse_config({**raw, "colour": "blue"})
    res["unknown_key"] = "accepted"
except ValueError as e:
    res["unknown_key"] = str(e)
print(json.dumps(res))
`,
        {
          CLAMD_PORT: String(clamd.port),
          REDIS_PORT: String(redis.port),
          AV_QUEUE_PASSWORD: "queue-secret",
          EICAR: eicar,
        },
      );
      expect(out).to.deep.equal({
        small_clean: "NOT_SPAM",
        small_evil: "M_FORBIDDEN",
        thumbnail: "NOT_SPAM",
        remote_big_evil: "M_FORBIDDEN",
        preview_big_evil: "M_FORBIDDEN",
        local_big: "NOT_SPAM",
        unknown_key: "synapse_av_checker: unknown config keys ['colour']",
      });
      // Four synchronous scans (not the thumbnail, not the queued upload).
      expect(clamd.scans.length - before).to.equal(4);
      const queued = redis.entries("av:scan");
      expect(queued).to.have.length(1);
      expect(queued[0]).to.deep.include({ media_id: "bigFILE_1", origin: "example.org", size: "5000" });
      expect(Number(queued[0].enqueued_at)).to.be.closeTo(Date.now(), 60000);
      expect(redis.log[0]).to.deep.equal(["AUTH", "queue-secret"]);
    });

    it("fails closed (refuses) or open (accepts) when clamd or the queue is unreachable, as configured", async () => {
      const down = await freePort();
      const out = await runPython(
        dir,
        String.raw`
import json, os, tempfile
import synapse_av_checker as m
down = int(os.environ["DOWN"])
base = {"server_name": "example.org", "clamd_host": "127.0.0.1", "clamd_port": down, "clamd_timeout_seconds": 2,
        "sync_max_bytes": 10, "redis_host": "127.0.0.1", "redis_port": down}
f = tempfile.NamedTemporaryFile(delete=False)
f.write(b"x")
f.close()
g = tempfile.NamedTemporaryFile(delete=False)
g.write(b"y" * 100)
g.close()
res = {}
for mode in (True, False):
    c = m.CheckerConfig({**base, "fail_closed": mode})
    res["closed" if mode else "open"] = [m.decide(c, f.name, None, "small"), m.decide(c, g.name, None, "large")]
print(json.dumps(res))
`,
        { DOWN: String(down) },
      );
      expect(out).to.deep.equal({
        closed: ["M_FORBIDDEN", "M_FORBIDDEN"],
        open: ["NOT_SPAM", "NOT_SPAM"],
      });
    });
  });

  describe("the scan worker", () => {
    let clamd: FakeClamd;
    let redis: FakeRedis;
    let synapse: FakeSynapse;
    beforeEach(async () => {
      clamd = await new FakeClamd().start();
      redis = await new FakeRedis("queue-secret").start();
      synapse = await new FakeSynapse().start();
    });
    afterEach(() => {
      clamd?.close();
      redis?.close();
      synapse?.close();
    });

    it("scans queued media, quarantines infected media, records verdicts, then acknowledges and deletes jobs", async () => {
      synapse.media.set("evilMedia", Buffer.from(eicar));
      synapse.media.set("fineMedia", Buffer.alloc(150000, 7));
      redis.add("av:scan", ["media_id", "evilMedia", "origin", "example.org", "size", "68"]);
      redis.add("av:scan", ["media_id", "fineMedia", "origin", "example.org", "size", "150000"]);
      const out = await runPython(
        dir,
        String.raw`
import json, os
import av_scan_worker as w
worker = w.Worker(w.Config(os.environ))
handled = [worker.run_once() for _ in range(3)]
print(json.dumps({"handled": handled, "ready": worker.ready(), "alive": worker.alive()}))
`,
        workerEnv(redis, clamd, synapse),
      );
      expect(out).to.deep.equal({ handled: [1, 1, 0], ready: true, alive: true });
      expect(synapse.quarantined()).to.deep.equal(["evilMedia"]);
      for (const r of synapse.requests) expect(r.auth).to.equal("Bearer admin-token");
      expect(synapse.requests.filter((r) => r.method === "GET").map((r) => r.url)).to.deep.equal([
        "/_matrix/client/v1/media/download/example.org/evilMedia",
        "/_matrix/client/v1/media/download/example.org/fineMedia",
      ]);
      const results = redis.entries("av:results");
      expect(results.map((r) => [r.media_id, r.verdict, r.signature, r.attempts, r.worker])).to.deep.equal([
        ["evilMedia", "infected", "Eicar-Signature", "1", "worker-1"],
        ["fineMedia", "clean", "", "1", "worker-1"],
      ]);
      expect(clamd.scans[1].data.length).to.equal(150000);
      expect(redis.entries("av:scan")).to.deep.equal([]);
      expect(redis.groups.get("av:scan/av-workers")!.pending.size).to.equal(0);
      const commands = redis.log.map((c) => c[0]);
      expect(commands.slice(0, 2)).to.deep.equal(["AUTH", "XGROUP"]);
      expect(redis.log[1]).to.deep.equal(["XGROUP", "CREATE", "av:scan", "av-workers", "0", "MKSTREAM"]);
      const xadd = redis.log.find((c) => c[0] === "XADD")!;
      expect(xadd.slice(0, 5)).to.deep.equal(["XADD", "av:results", "MAXLEN", "~", "100000"]);
    });

    it("retries failed jobs through XPENDING/XCLAIM and dead-letters them after max attempts (quarantined when failing closed)", async () => {
      // Never stored: the download keeps answering 404.
      redis.add("av:scan", ["media_id", "goneMedia", "origin", "example.org", "size", "10"]);
      redis.add("av:scan", ["media_id", "../etc/passwd", "origin", "example.org", "size", "10"]);
      const out = await runPython(
        dir,
        String.raw`
import json, os
import av_scan_worker as w
worker = w.Worker(w.Config(os.environ))
print(json.dumps([worker.run_once() for _ in range(5)]))
`,
        workerEnv(redis, clamd, synapse, { AV_MAX_ATTEMPTS: "3", AV_CLAIM_IDLE_MS: "0" }),
      );
      // Round 1: the 404 job is read and left pending. Rounds 2-3: reclaimed and retried (deliveries 2, 3)
      // while the malformed job is read and dead-lettered at once. Round 4: the 404 job gives up.
      expect(out).to.deep.equal([1, 2, 1, 1, 0]);
      const downloads = synapse.requests.filter((r) => r.method === "GET");
      expect(downloads).to.have.length(3);
      const dead = redis.entries("av:dead");
      expect(dead.map((d) => [d.media_id, d.reason, d.quarantined])).to.deep.equal([
        ["../etc/passwd", "malformed job", "no"],
        ["goneMedia", "gave up after 3 attempts", "yes"],
      ]);
      expect(synapse.quarantined()).to.deep.equal(["goneMedia"]);
      expect(redis.entries("av:results")).to.deep.equal([]);
      expect(redis.entries("av:scan")).to.deep.equal([]);
      expect(redis.groups.get("av:scan/av-workers")!.pending.size).to.equal(0);
      expect(redis.log.filter((c) => c[0] === "XCLAIM").map((c) => c.slice(3, 5))).to.deep.equal([
        ["worker-1", "0"],
        ["worker-1", "0"],
        ["worker-1", "0"],
      ]);
    });

    it("serves /healthz and /readyz, and on SIGTERM finishes the job in hand before exiting 0", async function () {
      this.timeout(20000);
      synapse.media.set("slowMedia", Buffer.from("plain text"));
      clamd.delayMs = 1500;
      const healthPort = await freePort();
      const proc: ChildProcess = spawn("python3", [path.join(dir, "av_scan_worker.py")], {
        env: { ...process.env, ...workerEnv(redis, clamd, synapse, { AV_HEALTH_PORT: String(healthPort) }) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let logs = "";
      proc.stdout!.on("data", (d) => (logs += d));
      proc.stderr!.on("data", (d) => (logs += d));
      const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
      try {
        const get = (p: string) =>
          new Promise<number>((resolve) => {
            http
              .get({ host: "127.0.0.1", port: healthPort, path: p }, (res) => {
                res.resume();
                resolve(res.statusCode!);
              })
              .on("error", () => resolve(0));
          });
        let ready = 0;
        for (let i = 0; i < 50 && ready !== 200; i++) {
          await wait(100);
          ready = await get("/readyz");
        }
        expect(ready, logs).to.equal(200);
        expect(await get("/healthz")).to.equal(200);
        expect(await get("/nope")).to.equal(404);

        redis.add("av:scan", ["media_id", "slowMedia", "origin", "example.org", "size", "10"]);
        for (let i = 0; i < 50 && clamd.scans.length === 0; i++) await wait(100);
        expect(clamd.scans, logs).to.have.length(1); // clamd holds its verdict for 1.5 s
        proc.kill("SIGTERM");
        const code = await Promise.race([exited, wait(10000).then(() => "timeout")]);
        expect(code, logs).to.equal(0);
        expect(redis.entries("av:results").map((r) => [r.media_id, r.verdict])).to.deep.equal([
          ["slowMedia", "clean"],
        ]);
        expect(redis.groups.get("av:scan/av-workers")!.pending.size).to.equal(0);
        expect(logs).to.contain("stopping after the current job");
      } finally {
        proc.kill("SIGKILL");
      }
    });

    it("reconnects and re-creates its consumer group after Redis loses everything", async function () {
      this.timeout(20000);
      synapse.media.set("afterRestart", Buffer.from("plain text"));
      const proc = spawn("python3", [path.join(dir, "av_scan_worker.py")], {
        env: {
          ...process.env,
          ...workerEnv(redis, clamd, synapse, { AV_HEALTH_PORT: String(await freePort()) }),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let logs = "";
      proc.stdout!.on("data", (d) => (logs += d));
      proc.stderr!.on("data", (d) => (logs += d));
      try {
        for (let i = 0; i < 50 && !redis.groups.has("av:scan/av-workers"); i++) await wait(100);
        expect(redis.groups.has("av:scan/av-workers"), logs).to.equal(true);
        redis.restart();
        redis.add("av:scan", ["media_id", "afterRestart", "origin", "example.org", "size", "10"]);
        for (let i = 0; i < 80 && redis.entries("av:results").length === 0; i++) await wait(100);
        expect(
          redis.entries("av:results").map((r) => r.media_id),
          logs,
        ).to.deep.equal(["afterRestart"]);
        expect(logs).to.contain("queue unavailable");
        expect(logs.split("created consumer group av-workers on av:scan").length - 1).to.equal(2);
      } finally {
        proc.kill("SIGKILL");
      }
    });
  });
});

describe("the clamd run script, with fake daemons", function () {
  for (const shell of shells) {
    describe(`under ${shell.join(" ")}`, () => {
      let dir: string;
      let env: Record<string, string>;
      beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-clamd-run-"));
        for (const d of ["bin", "conf", "live", "seed"]) fs.mkdirSync(path.join(dir, d));
        fs.writeFileSync(path.join(dir, "run.sh"), renderClamdRunScript());
        const fake = (name: string, body: string) => {
          const f = path.join(dir, "bin", name);
          fs.writeFileSync(f, `#!/bin/sh\necho "${name} $*" >> "$LOG"\n${body}\n`);
          fs.chmodSync(f, 0o755);
        };
        fake(
          "freshclam",
          `case "$*" in *--daemon*) trap 'echo freshclam-term >> "$LOG"; exit 0' TERM; while :; do sleep 0.1; done;; esac
touch "$CLAMAV_DB_DIR/main.cvd"`,
        );
        fake(
          "clamd",
          `trap 'echo clamd-term >> "$LOG"; exit 0' TERM
if [ -n "\${CLAMD_EXIT_AFTER:-}" ]; then sleep "$CLAMD_EXIT_AFTER"; exit 3; fi
while :; do sleep 0.1; done`,
        );
        env = {
          ...(process.env as Record<string, string>),
          PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
          LOG: path.join(dir, "log"),
          CLAMAV_CONF_DIR: path.join(dir, "conf"),
          CLAMAV_DB_DIR: path.join(dir, "live"),
          CLAMAV_SEED_DIR: path.join(dir, "seed"),
        };
      });
      afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

      const start = (extra: Record<string, string> = {}) => {
        const proc = spawn(shell[0], [...shell.slice(1), path.join(dir, "run.sh")], {
          env: { ...env, ...extra },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        proc.stdout!.on("data", (d) => (out += d));
        proc.stderr!.on("data", (d) => (out += d));
        const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
        return { proc, exited, output: () => out };
      };
      const log = () => fs.readFileSync(path.join(dir, "log"), "utf8");

      it("seeds the live signatures from the image and exits non-zero when clamd dies, stopping freshclam", async function () {
        this.timeout(10000);
        for (const f of ["main.cvd", "daily.cld", "bytecode.cvd", "freshclam.dat"]) {
          fs.writeFileSync(path.join(dir, "seed", f), f);
        }
        const run = start({ CLAMD_EXIT_AFTER: "0.5" });
        const code = await Promise.race([run.exited, wait(8000).then(() => "timeout")]);
        expect(code, run.output()).to.equal(1);
        expect(fs.readdirSync(path.join(dir, "live")).sort()).to.deep.equal([
          "bytecode.cvd",
          "daily.cld",
          "main.cvd",
        ]);
        expect(log()).not.to.contain("freshclam-bootstrap.conf");
        expect(log()).to.contain(
          `freshclam --config-file=${dir}/conf/freshclam.conf --daemon --foreground --stdout`,
        );
        expect(log()).to.contain(`clamd --config-file=${dir}/conf/clamd.conf --foreground`);
        expect(log()).to.contain("freshclam-term");
        expect(run.output()).to.contain("clamd or freshclam exited");
      });

      it("downloads the initial set when the image has none, and stops both daemons cleanly on SIGTERM", async function () {
        this.timeout(10000);
        const run = start();
        for (let i = 0; i < 50 && !(fs.existsSync(path.join(dir, "log")) && log().includes("clamd ")); i++) {
          await wait(100);
        }
        expect(log()).to.contain(
          `freshclam --config-file=${dir}/conf/freshclam-bootstrap.conf --foreground --stdout`,
        );
        expect(fs.existsSync(path.join(dir, "live", "main.cvd"))).to.equal(true);
        await wait(300);
        run.proc.kill("SIGTERM");
        const code = await Promise.race([run.exited, wait(8000).then(() => "timeout")]);
        expect(code, run.output()).to.equal(0);
        expect(log()).to.contain("clamd-term");
        expect(log()).to.contain("freshclam-term");
      });
    });
  }
});
