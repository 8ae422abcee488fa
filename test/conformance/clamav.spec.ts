import { expect } from "chai";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { ensureProgram, renderStack, scratchDir, versionOf, waitFor } from "./harness";
import { Clamd, RenderedClamd, bytesOf, clamdPort, directive, eicar, ndb, rendered } from "./clamav/clamd";

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
            // Just after start-up one of clamd's two sockets (TCP, local) can be missing: clamdscan answers PONG
            // over the other and prints an error for it. A clean PONG, soon after, is the steady state.
            return last.status === 0 && last.output.trim() === "PONG";
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
