import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { parse } from "yaml";
import { Recorded } from "../unit/harness";
import {
  Running,
  ensureProgram,
  fileOf,
  find,
  freePort,
  renderStack,
  scratchDir,
  unprivileged,
  versionOf,
  waitFor,
} from "./harness";

/*
 * The Matrix antivirus's clamd with its rendered clamd.conf, run by the real clamd (Debian 12's
 * clamav-daemon 1.4.6; the pod runs docker.io/clamav/clamav:1.5.1), unprivileged like the pod. The scans go
 * through the rendered scan worker's own INSTREAM client (av_scan_worker.py, the code the Synapse module
 * embeds too), run by python3.
 *
 * What is rendered is used as rendered. Rewrites of clamd.conf, and nothing else:
 *  1. DatabaseDirectory /var/lib/clamav-db → <scratch>/db: no signature mirror is reachable, so the database
 *     is a tiny one built here (a body signature of the EICAR test string, assembled at run time)
 *  2. TemporaryDirectory /var/tmp/clamd → <scratch>/tmp
 *  3. LocalSocket /run/clamav/clamd.sock → <scratch>/run/clamd.sock
 *  4. PidFile /run/clamav/clamd.pid → <scratch>/run/clamd.pid
 *  5. TCPSocket 3310 → a free port, and `TCPAddr 127.0.0.1` added (rendered: every address of the pod)
 * The probe `clamdscan --ping=1` reads the image's default /etc/clamav/clamd.conf (the rendered file is
 * mounted there); here it is given the rewritten file with --config-file.
 */

const clamdPort = 3310;

/** The EICAR anti-virus test string, assembled so that no file of this repository contains it. */
function eicar(): Buffer {
  return Buffer.from(
    ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR", "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"].join(""),
  );
}

/** An .ndb body signature (any file type, any offset) for `body`. */
function ndb(name: string, body: Buffer): string {
  return `${name}:0:*:${body.toString("hex")}\n`;
}

/** What clamd and the probes need from a rendered stack. */
interface RenderedClamd {
  conf: string;
  runScript: string;
  worker: string;
  container: any;
  /** Synapse's max_upload_size (media repository), as homeserver.yaml has it. */
  maxUploadSize: string;
}

function rendered(res: Recorded[]): RenderedClamd {
  const deployment = find(res, "Deployment", /^matrix-av-clamav$/);
  const homeserver = parse(
    fileOf(res, "ConfigMap", /^matrix-synapse-media-repository-conf$/, "homeserver.yaml"),
  );
  return {
    conf: fileOf(res, "ConfigMap", /^matrix-av-clamav-config$/, "clamd.conf"),
    runScript: fileOf(res, "ConfigMap", /^matrix-av-clamav-scripts$/, "clamav-run.sh"),
    worker: fileOf(res, "ConfigMap", /^matrix-av-scan-worker-script$/, "av_scan_worker.py"),
    container: deployment.inputs.spec.template.spec.containers[0],
    maxUploadSize: String(homeserver.max_upload_size),
  };
}

/** The value of a clamd.conf directive that must appear exactly once. */
function directive(conf: string, key: string): string {
  const values = conf.split("\n").filter((l) => l.startsWith(`${key} `));
  expect(values, `${key} in clamd.conf`).to.have.length(1);
  return values[0].slice(key.length + 1);
}

function rewrite(conf: string, key: string, from: string, to: string): string {
  expect(directive(conf, key), key).to.equal(from);
  return conf.replace(`\n${key} ${from}\n`, `\n${key} ${to}\n`);
}

/** clamd's and Synapse's size notation: a number with an optional K or M suffix (powers of 1024). */
function bytesOf(size: string): number {
  const m = /^([0-9]+)([KM]?)$/.exec(size);
  if (!m) throw new Error(`unexpected size ${size}`);
  return Number(m[1]) * { "": 1, K: 1024, M: 1024 ** 2 }[m[2] as "" | "K" | "M"];
}

/** Imports the rendered scan worker (its main() is guarded) and scans with its instream_scan. */
const scanDriver = String.raw`
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("av_scan_worker", sys.argv[1])
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)
port, zeros, tail = int(sys.argv[2]), int(sys.argv[3]), bytes.fromhex(sys.argv[4])

def chunks():
    left = zeros
    while left > 0:
        n = min(left, worker.INSTREAM_CHUNK)
        yield bytes(n)
        left -= n
    if tail:
        yield tail

reply = worker.instream_scan("127.0.0.1", port, chunks(), 300.0)
print(json.dumps({"reply": reply, "verdict": worker.parse_verdict(reply)}))
`;

interface Scan {
  reply: string;
  verdict: [string, string | null];
}

class Clamd {
  readonly dir = scratchDir("clamav");
  port = 0;
  conf = "";
  private proc?: Running;
  constructor(
    readonly r: RenderedClamd,
    readonly clamd: string,
  ) {}

  get confPath() {
    return path.join(this.dir, "clamd.conf");
  }
  get dbDir() {
    return path.join(this.dir, "db");
  }

  async prepare(): Promise<void> {
    this.port = await freePort();
    for (const sub of ["db", "tmp", "run"]) fs.mkdirSync(path.join(this.dir, sub));
    fs.writeFileSync(path.join(this.dbDir, "keel-test.ndb"), ndb("Keel.Test.EICAR", eicar()));
    let conf = this.r.conf;
    conf = rewrite(conf, "DatabaseDirectory", "/var/lib/clamav-db", this.dbDir);
    conf = rewrite(conf, "TemporaryDirectory", "/var/tmp/clamd", path.join(this.dir, "tmp"));
    conf = rewrite(conf, "LocalSocket", "/run/clamav/clamd.sock", path.join(this.dir, "run", "clamd.sock"));
    conf = rewrite(conf, "PidFile", "/run/clamav/clamd.pid", path.join(this.dir, "run", "clamd.pid"));
    conf = rewrite(conf, "TCPSocket", String(clamdPort), String(this.port));
    expect(conf).not.to.match(/^TCPAddr /m);
    this.conf = `${conf}TCPAddr 127.0.0.1\n`;
    fs.writeFileSync(this.confPath, this.conf);
    fs.writeFileSync(path.join(this.dir, "scan.py"), scanDriver);
    fs.writeFileSync(path.join(this.dir, "av_scan_worker.py"), this.r.worker);
  }

  /** As the run script starts it, `clamd --config-file=<conf> --foreground`; unprivileged like the pod. */
  start(): void {
    const [cmd, args] = unprivileged(this.clamd, [`--config-file=${this.confPath}`, "--foreground"]);
    this.proc = new Running(cmd, args);
  }

  output(): string {
    return this.proc?.output() ?? "";
  }

  running(): Running | undefined {
    return this.proc;
  }

  /** The pod's probe: `clamdscan --ping=1` (exit 0 and PONG only once the signatures are loaded). */
  ping(): { status: number | null; output: string } {
    const clamdscan = path.join(path.dirname(this.clamd), "clamdscan");
    const r = spawnSync(clamdscan, [`--config-file=${this.confPath}`, "--ping=1"], { encoding: "utf8" });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  }

  /** A stream of `zeros` zero bytes then `tail`, through the rendered worker's INSTREAM client. */
  scan(zeros: number, tail: Buffer = Buffer.alloc(0)): Scan {
    const r = spawnSync(
      "python3",
      [
        path.join(this.dir, "scan.py"),
        path.join(this.dir, "av_scan_worker.py"),
        String(this.port),
        String(zeros),
        tail.toString("hex"),
      ],
      { encoding: "utf8", maxBuffer: 1 << 20 },
    );
    if (r.status !== 0) throw new Error(`scan failed (${r.status}): ${r.stderr}\nclamd:\n${this.output()}`);
    return JSON.parse(r.stdout);
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Sends one command on the TCP port (z-prefixed, NUL-terminated, as clamdscan does) and returns the reply. */
function command(port: number, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.end(`z${cmd}\0`));
    let reply = "";
    s.setEncoding("utf8");
    s.setTimeout(10_000, () => s.destroy(new Error(`${cmd}: no reply`)));
    s.on("data", (d) => (reply += d));
    s.on("error", reject);
    s.on("close", () => resolve(reply.replace(/\0+$/, "")));
  });
}

describe("ClamAV: the Matrix antivirus's clamd on the real clamd", function () {
  let clamd = "";
  before(function () {
    clamd = ensureProgram("clamd");
    const empty = path.join(scratchDir("clamav-version"), "empty.conf");
    fs.writeFileSync(empty, "");
    console.log(
      `      running clamd ${versionOf(clamd, [`--config-file=${empty}`, "-V"])} (Debian 12 clamav-daemon)`,
    );
    fs.rmSync(path.dirname(empty), { recursive: true });
  });

  for (const stack of ["dev", "prod"] as const) {
    describe(`${stack} stack`, () => {
      let r: RenderedClamd;
      let server: Clamd;
      before(async () => {
        r = rendered(await renderStack(stack));
        console.log(
          `      pod image ${r.container.image}; clamd.conf:\n${r.conf.replace(/^/gm, "        ")}`,
        );
        server = new Clamd(r, clamd);
        await server.prepare();
      });
      after(async () => server?.stop());

      it("the run script starts clamd with the rendered file, mounted where clamdscan looks", () => {
        expect(r.runScript).to.contain(`clamd --config-file="$conf/clamd.conf" --foreground`);
        expect(r.runScript).to.contain('conf="${CLAMAV_CONF_DIR:-/etc/clamav}"');
        const mounts = r.container.volumeMounts.map((m: any) => m.mountPath);
        expect(mounts).to.include("/etc/clamav");
      });

      it("starts with the rendered clamd.conf, and the startup and readiness probes (clamdscan --ping=1) pass", async () => {
        for (const p of [r.container.startupProbe, r.container.readinessProbe]) {
          expect(p.exec.command).to.deep.equal(["clamdscan", "--ping=1"]);
        }
        server.start();
        let last = { status: null as number | null, output: "" };
        await waitFor(
          "clamdscan --ping=1",
          () => {
            last = server.ping();
            return last.status === 0;
          },
          120_000,
          server.running(),
        );
        expect(last.output.trim()).to.equal("PONG");
        expect(server.output()).not.to.match(/ERROR|WARNING: Ignoring unsupported option/);
      });

      it("answers PING with PONG on its TCP port, and the liveness probe passes", async () => {
        expect(await command(server.port, "PING")).to.equal("PONG");
        const live = r.container.livenessProbe;
        if (live.exec) expect(server.ping().status).to.equal(0);
        else expect(live.tcpSocket.port).to.equal(clamdPort);
      });

      it("finds the test signature over INSTREAM, and passes a clean stream", () => {
        const infected = server.scan(0, eicar());
        expect(infected.verdict).to.deep.equal(["infected", "Keel.Test.EICAR.UNOFFICIAL"]);
        expect(server.scan(4096).verdict).to.deep.equal(["clean", null]);
      });

      it("scans a stream of exactly Synapse's max_upload_size to its last byte", () => {
        const limit = bytesOf(directive(r.conf, "StreamMaxLength"));
        expect(limit, "StreamMaxLength = Synapse's max_upload_size").to.equal(bytesOf(r.maxUploadSize));
        const atLimit = server.scan(limit - eicar().length, eicar());
        expect(atLimit.verdict, atLimit.reply).to.deep.equal(["infected", "Keel.Test.EICAR.UNOFFICIAL"]);
      });

      it("refuses a stream one byte larger than StreamMaxLength", () => {
        const limit = bytesOf(directive(r.conf, "StreamMaxLength"));
        const over = server.scan(limit + 1);
        expect(over.verdict).to.deep.equal(["error", "INSTREAM size limit exceeded. ERROR"]);
      });

      it("loads new signatures on RELOAD (what freshclam's NotifyClamd sends) and keeps answering", async () => {
        const marker = Buffer.from(`keel reload marker ${stack} ${Date.now()}`);
        expect(server.scan(0, marker).verdict).to.deep.equal(["clean", null]);
        fs.writeFileSync(path.join(server.dbDir, "keel-reload.ndb"), ndb("Keel.Test.Reload", marker));
        expect(await command(server.port, "RELOAD")).to.equal("RELOADING");
        await waitFor(
          "the reloaded signature",
          () => server.scan(0, marker).verdict[0] === "infected",
          60_000,
          server.running(),
        );
        expect(await command(server.port, "PING")).to.equal("PONG");
      });
    });
  }
});
