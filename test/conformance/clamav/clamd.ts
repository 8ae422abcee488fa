import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { Recorded } from "../../unit/harness";
import { Running, fileOf, find, freePort, scratchDir, unprivileged } from "../harness";

/*
 * The Matrix antivirus's clamd on its rendered clamd.conf, run by the real clamd with a test signature
 * database (see clamav.spec.ts for the rewrites). Shared by the ClamAV conformance suite and the Matrix
 * end-to-end test (test/matrix).
 */

/** The port the rendered clamd.conf listens on. */
export const clamdPort = 3310;

/** The EICAR anti-virus test string, assembled so that no file of this repository contains it. */
export function eicar(): Buffer {
  return Buffer.from(
    ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR", "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"].join(""),
  );
}

/** An .ndb body signature (any file type, any offset) for `body`. */
export function ndb(name: string, body: Buffer): string {
  return `${name}:0:*:${body.toString("hex")}\n`;
}

/** What clamd and the probes need from a rendered stack. */
export interface RenderedClamd {
  conf: string;
  runScript: string;
  worker: string;
  container: any;
  /** Synapse's max_upload_size (media repository), as homeserver.yaml has it. */
  maxUploadSize: string;
}

export function rendered(res: Recorded[]): RenderedClamd {
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
export function directive(conf: string, key: string): string {
  const values = conf.split("\n").filter((l) => l.startsWith(`${key} `));
  expect(values, `${key} in clamd.conf`).to.have.length(1);
  return values[0].slice(key.length + 1);
}

export function rewrite(conf: string, key: string, from: string, to: string): string {
  expect(directive(conf, key), key).to.equal(from);
  return conf.replace(`\n${key} ${from}\n`, `\n${key} ${to}\n`);
}

/** clamd's and Synapse's size notation: a number with an optional K or M suffix (powers of 1024). */
export function bytesOf(size: string): number {
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

export interface Scan {
  reply: string;
  verdict: [string, string | null];
}

export class Clamd {
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
