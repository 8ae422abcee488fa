import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { synapseWriterStreams } from "@keel/matrix";
import YAML from "yaml";
import { Recorded } from "../unit/harness";
import { ensureProgram, objectIn, renderStack, root, scratchDir } from "./harness";
import { Pod, synapsePods, writePod } from "./synapse/pods";

/*
 * Every Synapse process the dev and prod stacks render (the main Synapse, each worker pod, the
 * lawful-intercept (LI) Synapse), loaded by the pinned Synapse's own code: the pod's ConfigMap and Secret
 * files as mounted, its container command run as rendered (the worker's /bin/sh script writes
 * instance.yaml from POD_NAME), and `python` on PATH being test/conformance/synapse/shim/python, which loads
 * the `--config-path` files the way the named app does at start (test/conformance/synapse/validate_config.py):
 * config parsing and its cross-checks (synapse.config.workers: instance_map, stream_writers, …), the app's
 * create_homeserver, and its logging setup; nothing connects to PostgreSQL or Redis.
 *
 * Rewrites, and nothing else (printed with the versions):
 */
const rewrites = [
  "every volume mount path M (ConfigMap, Secret, emptyDir, PVC) → <scratch>/<pod>M: in the container command " +
    "(--config-path files, the instance file the worker script writes), in env values (PYTHONPATH) and in the " +
    "YAML config files' string values that name a path under M (log_config, signing_key_path, media_store_path, " +
    "redis.password_path, federation_custom_ca_list, worker_log_config); each rewritten value is listed below",
  "`python` in the command → test/conformance/synapse/shim/python (the pinned Synapse's venv, validate_config.py)",
  "the federation CA Secret's ca.pem: the Pulumi mocks' stand-in text (not a certificate) → a self-signed CA " +
    "generated here by openssl (cert-manager issues the real one)",
  "POD_NAME (downward API metadata.name) → <StatefulSet>-<ordinal> for each ordinal below spec.replicas",
];

const synapseDir = path.join(root, "test/conformance/synapse");

interface Loaded {
  pod: Pod;
  status: number;
  stderr: string;
  stdout: string;
  report?: any;
  files: Record<string, string>;
  podRoot: string;
}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

/**
 * Writes the pod's volumes into <scratch>/<pod>, rewrites the paths and runs its container command with
 * `python` being the config loader's shim; `edit` changes a file (as <mountPath>/<file>) before it is
 * written, for the can-fail checks.
 */
async function loadPod(
  python: string,
  scratch: string,
  pod: Pod,
  edit: (file: string, text: string) => string = (_f, t) => t,
): Promise<Loaded> {
  const w = writePod(scratch, pod, edit);
  const env = { ...w.env };
  const reportPath = path.join(scratch, `${pod.pod}.report.json`);
  env.PATH = `${path.join(synapseDir, "shim")}:/usr/local/bin:/usr/bin:/bin`;
  env.SYNAPSE_CONFORMANCE_PYTHON = python;
  env.SYNAPSE_CONFORMANCE_REPORT = reportPath;
  fs.rmSync(reportPath, { force: true });
  const r = await run(w.command[0], w.command.slice(1), env);
  const report = fs.existsSync(reportPath) ? JSON.parse(fs.readFileSync(reportPath, "utf8")) : undefined;
  process.stderr.write(
    `      ${pod.namespace}/${pod.pod}: exit ${r.status}; rewrites:\n` +
      w.applied.map((a) => `        ${a}\n`).join(""),
  );
  return { pod, ...r, report, files: w.files, podRoot: w.podRoot };
}

/** Synapse's size syntax (config/_base.py parse_size) and clamd's (K/M suffixes). */
function bytes(s: string | number): number {
  if (typeof s === "number") return s;
  const m = /^(\d+)([KMG]?)$/i.exec(s.trim());
  if (!m) throw new Error(`not a size: ${s}`);
  return Number(m[1]) * { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as ""];
}

const streams = synapseWriterStreams;

describe("conformance: Synapse loads the rendered configs (real Synapse)", function () {
  let python: string;
  const versions: string[] = [];

  before(function () {
    const bin = ensureProgram("synapse");
    const v = spawnSync(
      bin,
      ["-c", "import sys, synapse; print(synapse.__version__, sys.version.split()[0])"],
      {
        encoding: "utf8",
      },
    );
    versions.push(
      `Synapse ${v.stdout.trim().split(" ")[0]} (PyPI matrix-synapse, ${bin}); Python ${v.stdout.trim().split(" ")[1]}`,
    );
    const images = fs.readFileSync(path.join(root, "components/core/src/images.ts"), "utf8");
    const pin = /synapse: \{ repository: "[^"]*", tag: "v([0-9.]+)" \}/.exec(images)?.[1];
    versions.push(`pinned: Synapse ${pin} (components/core/src/images.ts)`);
    process.stderr.write(
      `      versions: ${versions.join("; ")}\n      rewrites:\n${rewrites.map((r) => `        - ${r}\n`).join("")}`,
    );
    expect(v.stdout.trim().split(" ")[0], "the venv runs the pinned version").to.equal(pin);
    python = bin;
    // The image installs matrix-synapse[all]; the venv has the redis extra that `redis.enabled` needs.
    const x = spawnSync(
      bin,
      ["-c", "import txredisapi, hiredis; print(txredisapi.__version__, hiredis.__version__)"],
      { encoding: "utf8" },
    );
    expect(x.status, `the venv has Synapse's redis extra: ${x.stderr}`).to.equal(0);
    const [txredisapi, hiredis] = x.stdout.trim().split(" ");
    process.stderr.write(
      `      extras (matrix-synapse[redis]): txredisapi ${txredisapi}, hiredis ${hiredis}\n`,
    );
  });

  for (const stack of ["dev", "prod"] as const) {
    describe(`${stack} stack`, function () {
      let res: Recorded[];
      let pods: Pod[];
      const loaded: Loaded[] = [];
      let scratch: string;

      before(async function () {
        res = await renderStack(stack);
        pods = synapsePods(res);
        scratch = scratchDir(`synapse-config-${stack}`);
        process.stderr.write(`      ${stack}: ${pods.length} Synapse pods, scratch ${scratch}\n`);
        for (const pod of pods) loaded.push(await loadPod(python, scratch, pod));
      });

      it("every Synapse process (main, each worker pod, LI) loads with Synapse's own config code", function () {
        expect(pods.map((p) => p.pod)).to.include.members(["synapse-main-0", "synapse-li-0"]);
        expect(pods.length, "workers besides main and LI").to.be.greaterThan(2);
        const failed = loaded.filter((l) => l.status !== 0 || !l.report);
        expect(
          failed.map(
            (l) => `${l.pod.namespace}/${l.pod.pod} exit ${l.status}:\n${l.stderr}${l.stdout.slice(-2000)}`,
          ),
        ).to.deep.equal([]);
        for (const l of loaded) expect(l.report.synapse_version).to.match(/^\d+\.\d+\.\d+/);
      });

      it("server_name and public_baseurl are the rendered ones, the same on every process of a deployment", function () {
        for (const l of loaded) {
          const hs = YAML.parse(l.files["/conf/homeserver.yaml"]);
          expect(l.report.server_name, l.pod.pod).to.equal(hs.server_name);
          expect(l.report.public_baseurl, l.pod.pod).to.equal(hs.public_baseurl);
          const main = loaded.find((m) => m.pod.namespace === l.pod.namespace && !m.report.worker_app)!;
          expect(l.report.public_baseurl, `${l.pod.pod} vs its main`).to.equal(main.report.public_baseurl);
        }
        const domain = loaded.find((l) => l.pod.pod === "synapse-main-0")!.report.server_name;
        expect(
          loaded.find((l) => l.pod.pod === "synapse-li-0")!.report.server_name,
          "LI serves the same users",
        ).to.equal(domain);
      });

      it("each worker's name is its pod, and its instance_map / stream_writers entries are its own", function () {
        // Synapse renames instance_map's `main` to `master` (its main instance name) on workers only.
        const instanceMap = (r: any) =>
          Object.fromEntries(
            Object.entries<any>(r.instance_map).map(([k, v]) => [k === "main" ? "master" : k, v]),
          );
        for (const l of loaded) {
          const r = { ...l.report, instance_map: instanceMap(l.report) };
          const others = loaded.filter((o) => o.pod.namespace === l.pod.namespace);
          if (!r.worker_app) {
            expect(r.worker_name, `${l.pod.pod}: main has no worker_name`).to.equal(null);
            expect(r.instance_name).to.equal("master");
          } else {
            expect(r.worker_name, l.pod.pod).to.equal(l.pod.pod);
            expect(r.instance_name, l.pod.pod).to.equal(l.pod.pod);
            expect(r.worker_app, l.pod.pod).to.equal(
              /-m (synapse\.app\.[a-z_]+)/.exec(l.pod.command.join(" "))![1],
            );
          }
          // Every writer of every stream (device_lists too, which Synapse 1.151's own check skipped) is a rendered
          // pod with a replication listener where instance_map sends replication.
          for (const s of streams) {
            for (const w of r.stream_writers[s]) {
              // A single process (no instance_map) is its own writer: `master`, as Synapse's default.
              if (w !== "master" || Object.keys(r.instance_map).length > 0)
                expect(r.instance_map, `${l.pod.pod}: ${s} writer ${w} in instance_map`).to.have.property(w);
              const writer = others.find((o) => o.report.instance_name === w);
              expect(writer, `${l.pod.pod}: ${s} writer ${w} is a rendered pod`).to.not.equal(undefined);
              expect(writer!.report.writes, `${w} knows it writes ${s}`).to.include(s);
            }
          }
          if (Object.keys(r.instance_map).length > 0) {
            expect(r.instance_map, `${l.pod.pod}: main is in instance_map`).to.have.property("master");
            for (const [name, loc] of Object.entries<any>(r.instance_map)) {
              const target = others.find((o) => o.report.instance_name === name);
              expect(target, `${l.pod.pod}: instance_map ${name} is a rendered pod`).to.not.equal(undefined);
              const repl = target!.report.listeners.find(
                (x: any) => x.type === "http" && x.resources.includes("replication"),
              );
              expect(repl?.port, `${name}: replication listener on instance_map's port`).to.equal(loc.port);
              expect(loc.host, `${name}: <pod>.<headless Service>`).to.equal(
                `${target!.pod.pod}.${target!.pod.statefulSet}`,
              );
            }
          }
          // Every process agrees on the shared topology.
          const main = others.find((o) => !o.report.worker_app)!;
          expect(r.instance_map, `${l.pod.pod}: instance_map as main's`).to.deep.equal(
            instanceMap(main.report),
          );
          expect(r.stream_writers, `${l.pod.pod}: stream_writers as main's`).to.deep.equal(
            main.report.stream_writers,
          );
        }
        for (const ns of new Set(loaded.map((l) => l.pod.namespace))) {
          const mine = loaded.filter((l) => l.pod.namespace === ns);
          const hs = YAML.parse(mine[0].files["/conf/homeserver.yaml"]);
          const only = (pick: (r: any) => boolean) =>
            mine.filter((l) => pick(l.report)).map((l) => l.report.instance_name);
          expect(
            only((r) => r.run_background_tasks),
            `${ns}: one process runs background tasks`,
          ).to.deep.equal([hs.run_background_tasks_on ?? "master"]);
          expect(
            only((r) => r.send_federation),
            `${ns}: federation senders`,
          ).to.deep.equal(hs.federation_sender_instances ?? ["master"]);
          expect(
            only((r) => r.start_pushers),
            `${ns}: pushers`,
          ).to.deep.equal(hs.pusher_instances ?? ["master"]);
        }
        const names = loaded.map((l) => `${l.pod.namespace}/${l.report.instance_name}`);
        expect(new Set(names).size, "instance names are unique").to.equal(names.length);
        process.stderr.write(
          loaded
            .map((l) => `      ${l.pod.pod}: ${l.report.worker_app ?? "main"} writes [${l.report.writes}]\n`)
            .join(""),
        );
      });

      it("the media store and max_upload_size agree with the pod's volume and the antivirus limits", function () {
        const clamd = secretOrConfig(res, "matrix", "clamav-config", "clamd.conf");
        const setting = (k: string) => new RegExp(`^${k}\\s+(\\S+)$`, "m").exec(clamd)![1];
        for (const l of loaded) {
          const r = l.report;
          const hs = YAML.parse(l.files["/conf/homeserver.yaml"]);
          // Synapse parses the media settings only where the media repository loads (ContentRepositoryConfig).
          if (!r.can_load_media_repo) continue;
          expect(r.max_upload_size, `${l.pod.pod}: max_upload_size`).to.equal(bytes(hs.max_upload_size));
          {
            const store: string = r.media_store_path.slice(l.podRoot.length);
            const volume = l.pod.mounts.find((m) => store.startsWith(`${m.mountPath}/`));
            expect(volume?.kind, `${l.pod.pod}: media store ${store} on a persistent volume`).to.equal("pvc");
          }
          if (l.pod.namespace !== "matrix") continue;
          expect(r.max_upload_size, `${l.pod.pod}: clamd StreamMaxLength`).to.equal(
            bytes(setting("StreamMaxLength")),
          );
          expect(r.max_upload_size, `${l.pod.pod}: clamd MaxFileSize`).to.equal(
            bytes(setting("MaxFileSize")),
          );
          expect(r.modules, `${l.pod.pod}: the antivirus module loaded`).to.include(
            "synapse_av_checker.AvChecker",
          );
          const av = hs.modules.find((m: any) => m.module === "synapse_av_checker.AvChecker").config;
          expect(av.sync_max_bytes, "synchronous scans within the upload limit").to.be.at.most(
            r.max_upload_size,
          );
        }
        const main = loaded.filter((l) => l.pod.namespace === "matrix");
        const media = main.filter((l) => l.report.can_load_media_repo);
        expect(media.length, "some process serves media").to.be.greaterThan(0);
        for (const l of media)
          expect(l.report.media_instance_running_background_jobs ?? "master").to.be.oneOf(
            media.map((m) => m.report.instance_name),
          );
        const li = loaded.find((l) => l.pod.pod === "synapse-li-0")!;
        expect(li.report.can_load_media_repo, "LI serves the replicated media").to.equal(true);
        expect(li.report.max_upload_size, "LI accepts what main stored").to.be.at.least(
          media[0].report.max_upload_size,
        );
      });

      it("the secrets file provides the registration shared secret, macaroon key and form secret", function () {
        for (const l of loaded) {
          const hs = YAML.parse(l.files["/conf/homeserver.yaml"]);
          for (const k of ["macaroon_secret_key", "form_secret", "registration_shared_secret"])
            expect(hs, `${l.pod.pod}: ${k} not in the ConfigMap`).to.not.have.property(k);
          const s = l.report.secrets;
          expect(s.macaroon_secret_key, `${l.pod.pod}: macaroon_secret_key`).to.be.at.least(16);
          expect(s.form_secret, `${l.pod.pod}: form_secret`).to.be.at.least(16);
          if (l.pod.namespace === "matrix") {
            expect(s.registration_shared_secret, `${l.pod.pod}: registration_shared_secret`).to.be.at.least(
              16,
            );
            expect(s.worker_replication_secret, `${l.pod.pod}: worker_replication_secret`).to.be.at.least(16);
          }
          expect(l.report.signing_keys, `${l.pod.pod}: signing key`).to.have.length(1);
          process.stderr.write(`      ${l.pod.pod}: secret lengths ${JSON.stringify(s)}\n`);
        }
      });

      it("can fail: a stream writer missing from instance_map is refused with Synapse's own error", async function () {
        const main = pods.find((p) => p.pod === "synapse-main-0")!;
        const broken = await loadPod(python, path.join(scratch, "broken"), main, (file, text) => {
          if (file !== "/conf/homeserver.yaml") return text;
          const doc = YAML.parse(text);
          doc.stream_writers = { ...(doc.stream_writers ?? {}), typing: ["synapse-not-in-instance-map-0"] };
          return YAML.stringify(doc, { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" });
        });
        expect(broken.status).to.equal(1);
        expect(broken.stderr).to.include(
          "Instance 'synapse-not-in-instance-map-0' is configured to write typing but does not appear in `instance_map` config.",
        );
        process.stderr.write(
          `      refused as expected:${broken.stderr.trimEnd().split("\n").slice(-3).join(" ")}\n`,
        );
      });

      it("can fail: worker_app on the main process is refused by the main app's create_homeserver", async function () {
        const main = pods.find((p) => p.pod === "synapse-main-0")!;
        const broken = await loadPod(python, path.join(scratch, "broken-app"), main, (file, text) =>
          file === "/conf/homeserver.yaml" ? `${text}worker_app: "synapse.app.generic_worker"\n` : text,
        );
        expect(broken.status).to.equal(1);
        expect(broken.stderr).to.include("You have specified `worker_app` in the config");
      });
    });
  }
});

function secretOrConfig(res: Recorded[], namespace: string, name: string, key: string): string {
  return objectIn(res, "ConfigMap", namespace, name).inputs.data[key];
}
