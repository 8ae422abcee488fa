import { renderAlertmanagerConfig, webhookUrlDir, webhookUrlKey } from "@keel/monitoring";
import { expect } from "chai";
import { spawnSync } from "child_process";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import * as path from "path";
import { parse, stringify } from "yaml";
import { Recorded } from "../unit/harness";
import {
  Running,
  ensureProgram,
  find,
  fileOf,
  freePort,
  renderStack,
  root,
  scratchDir,
  versionOf,
  waitFor,
} from "./harness";

// The monitoring platform's configs as the program renders them for the dev and prod stacks, checked and run
// by the real Prometheus tools (promtool), Alertmanager (amtool, alertmanager) and blackbox exporter. Only
// file paths are rewritten: a path the container reads from a mounted ConfigMap or Secret, or from the
// service-account token Kubernetes mounts, becomes the same path under a scratch folder holding those files.

const ruleTestsDir = path.join(root, "test/conformance/monitoring");
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

interface Tools {
  promtool: string;
  alertmanager: string;
  amtool: string;
  blackbox: string;
}

interface Result {
  status: number | null;
  out: string;
}

/** Scratch folders of this suite, removed after it. */
const scratches: string[] = [];
function scratch(prefix: string): string {
  const dir = scratchDir(prefix);
  scratches.push(dir);
  return dir;
}

function run(bin: string, args: string[], cwd?: string): Result {
  const r = spawnSync(bin, args, { encoding: "utf8", cwd });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function expectSuccess(what: string, r: Result): void {
  expect(r.status, `${what} failed:\n${r.out}`).to.equal(0);
}

// ---------------------------------------------------------------------------------------------------------
// What a container sees: its ConfigMap and Secret mounts, copied under a scratch root.

interface Pod {
  namespace: string;
  spec: Record<string, any>;
  container: Record<string, any>;
}

function podOf(res: Recorded[], kind: "StatefulSet" | "Deployment", name: RegExp): Pod {
  const w = find(res, kind, name);
  const spec = w.inputs.spec.template.spec;
  return { namespace: w.inputs.metadata.namespace, spec, container: spec.containers[0] };
}

/** The ConfigMap or Secret a volume names, by its Kubernetes name and namespace. */
function objectNamed(res: Recorded[], type: "ConfigMap" | "Secret", ns: string, name: string): Recorded {
  const r = res.find(
    (x) =>
      x.type.endsWith(`:${type}`) && x.inputs.metadata?.name === name && x.inputs.metadata?.namespace === ns,
  );
  if (!r) throw new Error(`no ${type} ${ns}/${name}`);
  return r;
}

/** Every mount of the container by path: the files of a ConfigMap or Secret, none for other volumes. */
function mountedFiles(res: Recorded[], pod: Pod): Map<string, Record<string, string>> {
  const mounts = new Map<string, Record<string, string>>();
  for (const m of pod.container.volumeMounts ?? []) {
    const v = (pod.spec.volumes ?? []).find((x: { name: string }) => x.name === m.name);
    if (v?.configMap) {
      mounts.set(m.mountPath, objectNamed(res, "ConfigMap", pod.namespace, v.configMap.name).inputs.data);
    } else if (v?.secret) {
      const s = objectNamed(res, "Secret", pod.namespace, v.secret.secretName).inputs;
      mounts.set(m.mountPath, s.stringData ?? s.data);
    } else {
      mounts.set(m.mountPath, {}); // emptyDir or a claim template's volume
    }
  }
  return mounts;
}

/**
 * A scratch root where `<root><path>` holds what the container reads at `<path>`. Paths outside every mount
 * are refused: a config that reads a file no volume provides would fail in the cluster too.
 */
class Sandbox {
  readonly root: string;
  readonly rewrites: string[] = [];
  private readonly dirs: string[];
  constructor(prefix: string, mounts: Map<string, Record<string, string>>, extraDirs: string[] = []) {
    this.root = scratch(prefix);
    this.dirs = [...mounts.keys(), ...extraDirs];
    for (const [dir, files] of mounts) {
      fs.mkdirSync(path.join(this.root, dir), { recursive: true });
      for (const [name, text] of Object.entries(files)) {
        if (typeof text !== "string") throw new Error(`${dir}/${name} is not rendered as text`);
        this.write(path.posix.join(dir, name), text);
      }
    }
  }
  write(containerPath: string, text: string): string {
    const p = path.join(this.root, containerPath);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  }
  /** The local path of a container path; `where` names the setting, for the list of rewrites. */
  rewrite(where: string, containerPath: string): string {
    const inside = this.dirs.some((d) => containerPath === d || containerPath.startsWith(`${d}/`));
    if (!inside) throw new Error(`${where} reads ${containerPath}, which no volume of the pod provides`);
    const local = path.join(this.root, containerPath);
    this.rewrites.push(`${where}: ${containerPath} -> ${local}`);
    return local;
  }
}

/** Rewrites every file path of a Prometheus-style config: `rule_files` entries and `*_file` settings. */
function rewriteFilePaths(node: unknown, box: Sandbox, where = ""): unknown {
  if (Array.isArray(node)) return node.map((x, i) => rewriteFilePaths(x, box, `${where}[${i}]`));
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    const at = where ? `${where}.${k}` : k;
    if (k === "rule_files" && Array.isArray(v)) out[k] = v.map((p, i) => box.rewrite(`${at}[${i}]`, p));
    else if (k.endsWith("_file") && typeof v === "string") out[k] = box.rewrite(at, v);
    else out[k] = rewriteFilePaths(v, box, at);
  }
  return out;
}

/** The container's args for a local run: absolute paths into the sandbox, listen addresses on 127.0.0.1. */
function localArgs(args: string[], box: Sandbox, port: number): string[] {
  return args.map((a) => {
    const m = /^(--[\w.-]+)=(.*)$/.exec(a);
    if (!m) return a;
    const [, flag, value] = m;
    if (flag === "--web.listen-address") {
      box.rewrites.push(`${flag}: ${value} -> 127.0.0.1:${port}`);
      return `${flag}=127.0.0.1:${port}`;
    }
    if (!value.startsWith("/")) return a;
    return `${flag}=${box.rewrite(flag, value)}`;
  });
}

function configFileOf(args: string[]): string {
  const a = args.find((x) => x.startsWith("--config.file="));
  if (!a) throw new Error(`no --config.file in ${args.join(" ")}`);
  return a.slice("--config.file=".length);
}

/**
 * The module version ensure.sh built (its folder is `<name>-<version>`, checked against the pinned h1 sum) and
 * the version line the program prints, which is empty: the build sets no `-X .../version.Version`.
 */
function builtVersion(bin: string): string {
  const built = /\/([\w-]+)-(v[\d.]+)\//.exec(bin);
  const says = versionOf(bin, ["--version"]);
  return `${built ? `${built[1]} built from module version ${built[2]}` : bin} (it prints: "${says}")`;
}

function printRewrites(what: string, box: Sandbox): void {
  console.log(`      ${what}, rewritten (file paths and listen address only):`);
  for (const r of box.rewrites) console.log(`        ${r}`);
}

// ---------------------------------------------------------------------------------------------------------
// Rules and their tests.

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string }[] }[];
}

interface ExpAlert {
  exp_labels?: Record<string, string>;
  exp_annotations?: Record<string, string>;
}

interface RuleTestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts?: ExpAlert[] }[] }[];
}

/** The rule files Prometheus loads: every file of the mount its `rule_files` glob points into. */
function ruleFiles(promCfg: { rule_files?: string[] }, mounts: Map<string, Record<string, string>>) {
  const files: Record<string, string> = {};
  for (const glob of promCfg.rule_files ?? []) {
    const dir = path.posix.dirname(glob);
    const re = new RegExp(`^${path.posix.basename(glob).replace(/\./g, "\\.").replace(/\*/g, "[^/]*")}$`);
    for (const [name, text] of Object.entries(mounts.get(dir) ?? {})) if (re.test(name)) files[name] = text;
  }
  return files;
}

function alertNames(rules: Record<string, string>): string[] {
  return Object.values(rules).flatMap((t) =>
    (parse(t) as RuleFile).groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : []))),
  );
}

function ruleTestFiles(): string[] {
  return fs
    .readdirSync(ruleTestsDir)
    .filter((f) => f.endsWith(".rules-test.yaml"))
    .sort();
}

function ruleTests(): { file: string; doc: RuleTestFile }[] {
  return ruleTestFiles().map((file) => ({
    file,
    doc: parse(fs.readFileSync(path.join(ruleTestsDir, file), "utf8")) as RuleTestFile,
  }));
}

/** A folder with the rule tests and, in rules/, the rendered rule files they name. */
function ruleTestFolder(rules: Record<string, string>): string {
  const dir = scratch("rule-tests");
  fs.mkdirSync(path.join(dir, "rules"));
  for (const [name, text] of Object.entries(rules)) fs.writeFileSync(path.join(dir, "rules", name), text);
  for (const f of ruleTestFiles()) fs.copyFileSync(path.join(ruleTestsDir, f), path.join(dir, f));
  return dir;
}

// ---------------------------------------------------------------------------------------------------------
// Local servers and certificates.

function openssl(args: string[], cwd: string): void {
  expectSuccess(`openssl ${args.join(" ")}`, run("openssl", args, cwd));
}

interface Pki {
  caCrt: string;
  serverCrt: string;
  serverKey: string;
  /** A certificate for the same names, signed by a CA the probe does not trust. */
  strangerCrt: string;
  strangerKey: string;
}

/** A test CA with a server certificate for localhost and 127.0.0.1, and one from an unknown CA. */
function makePki(dir: string): Pki {
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  fs.writeFileSync(path.join(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  for (const ca of ["ca", "stranger-ca"]) {
    openssl(["req", "-x509", ...key, "-keyout", `${ca}.key`, "-out", `${ca}.crt`, "-days", "30", "-subj", `/CN=keel conformance ${ca}`], dir); // prettier-ignore
  }
  for (const [leaf, ca] of [
    ["server", "ca"],
    ["stranger", "stranger-ca"],
  ]) {
    openssl(["req", ...key, "-keyout", `${leaf}.key`, "-out", `${leaf}.csr`, "-subj", "/CN=localhost"], dir);
    openssl(["x509", "-req", "-in", `${leaf}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${leaf}.crt`, "-days", "10", "-extfile", "san.ext"], dir); // prettier-ignore
  }
  const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
  return {
    caCrt: read("ca.crt"),
    serverCrt: read("server.crt"),
    serverKey: read("server.key"),
    strangerCrt: read("stranger.crt"),
    strangerKey: read("stranger.key"),
  };
}

type Server = http.Server | https.Server;

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
}

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

async function answers200(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).status === 200;
  } catch {
    return false;
  }
}

/** The value of an unlabelled sample in Prometheus text format. */
function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

// ---------------------------------------------------------------------------------------------------------

describe("conformance: monitoring configs run by promtool, Alertmanager and the blackbox exporter", function () {
  const tools = {} as Tools;
  const running: Running[] = [];
  const servers: Server[] = [];

  before(function () {
    tools.promtool = ensureProgram("promtool");
    tools.alertmanager = ensureProgram("alertmanager");
    tools.amtool = ensureProgram("amtool");
    tools.blackbox = ensureProgram("blackbox_exporter");
    for (const bin of Object.values(tools)) console.log(`      running ${builtVersion(bin)}`);
  });

  after(() => {
    for (const dir of scratches.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    await Promise.all(servers.splice(0).map((s) => close(s)));
  });

  function start(cmd: string, args: string[]): Running {
    const p = new Running(cmd, args);
    running.push(p);
    return p;
  }

  async function serve(server: Server): Promise<number> {
    servers.push(server);
    return listen(server);
  }

  for (const stack of ["dev", "prod"] as const) {
    describe(`${stack} stack`, () => {
      let res: Recorded[];
      let prometheus: Pod;
      let promMounts: Map<string, Record<string, string>>;
      let promCfg: Record<string, any>;
      let rules: Record<string, string>;

      before(async () => {
        res = await renderStack(stack);
        prometheus = podOf(res, "StatefulSet", /-prometheus$/);
        promMounts = mountedFiles(res, prometheus);
        promCfg = parse(fileOf(res, "ConfigMap", /-prometheus-config$/, "prometheus.yml"));
        rules = ruleFiles(promCfg, promMounts);
      });

      it("promtool check config accepts prometheus.yml with its rule files beside it", () => {
        expect(prometheus.spec.automountServiceAccountToken, "the token the kubelet jobs read").to.equal(
          true,
        );
        const box = new Sandbox("prometheus", promMounts, [serviceAccountDir]);
        // What Kubernetes mounts into every pod with a token: a stand-in token and a CA certificate.
        box.write(`${serviceAccountDir}/token`, "stand-in-service-account-token\n");
        box.write(`${serviceAccountDir}/ca.crt`, makePki(box.root).caCrt);
        const cfgPath = box.write("/local/prometheus.yml", stringify(rewriteFilePaths(promCfg, box)));
        printRewrites("prometheus.yml", box);
        expect(box.rewrites.some((r) => r.startsWith("rule_files"))).to.equal(true);
        const r = run(tools.promtool, ["check", "config", "--lint=all", "--lint-fatal", cfgPath]);
        expectSuccess("promtool check config", r);
        for (const name of Object.keys(rules)) expect(r.out).to.contain(name);
        console.log(r.out.replace(/^/gm, "        ").trimEnd());
      });

      it("promtool check rules accepts every rendered rule file", () => {
        expect(Object.keys(rules)).to.not.be.empty;
        const dir = scratch("rules");
        const files = Object.entries(rules).map(([n, t]) => {
          fs.writeFileSync(path.join(dir, n), t);
          return path.join(dir, n);
        });
        const r = run(tools.promtool, ["check", "rules", "--lint=all", "--lint-fatal", ...files]);
        expectSuccess("promtool check rules", r);
        console.log(r.out.replace(/^/gm, "        ").trimEnd());
      });

      it("every rendered alert has a rule test where it fires (labels and annotations) and one where it does not", () => {
        const alerts = alertNames(rules);
        const cases = ruleTests().flatMap(({ file, doc }) =>
          doc.tests.flatMap((t) => (t.alert_rule_test ?? []).map((a) => ({ file, test: t.name, ...a }))),
        );
        for (const c of cases) {
          expect(alerts, `${c.file} "${c.test}" tests an alert the program does not render`).to.include(
            c.alertname,
          );
          for (const e of c.exp_alerts ?? []) {
            expect(e.exp_labels?.severity, `${c.file} "${c.test}": severity`).to.be.a("string");
            expect(Object.keys(e.exp_annotations ?? {}).sort(), `${c.file} "${c.test}"`).to.deep.equal([
              "description",
              "summary",
            ]);
          }
        }
        const untested = alerts.filter(
          (a) =>
            !cases.some((c) => c.alertname === a && (c.exp_alerts ?? []).length > 0) ||
            !cases.some((c) => c.alertname === a && (c.exp_alerts ?? []).length === 0),
        );
        expect(untested, "alerts without a firing and a silent rule test").to.deep.equal([]);
        console.log(
          `      ${alerts.length} alerts, ${cases.length} alert checks in ${ruleTestFiles().length} files`,
        );
      });

      it("promtool test rules passes every rule test against the rendered rules, and fails a wrong one", () => {
        const dir = ruleTestFolder(rules);
        const r = run(tools.promtool, ["test", "rules", ...ruleTestFiles()], dir);
        expectSuccess("promtool test rules", r);
        console.log(r.out.replace(/^/gm, "        ").trimEnd());
        // The same tests with one expected description changed must fail: the comparison is real.
        const f = path.join(dir, "keel-targets.rules-test.yaml");
        const text = fs.readFileSync(f, "utf8");
        fs.writeFileSync(f, text.replace("has not answered a scrape.", "has not answered."));
        const wrong = run(tools.promtool, ["test", "rules", "keel-targets.rules-test.yaml"], dir);
        expect(wrong.status, wrong.out).to.not.equal(0);
        expect(wrong.out).to.contain("TargetDown");
      });

      describe("Alertmanager", () => {
        let box: Sandbox;
        let args: string[];
        let port: number;
        let cfg: string;

        before(async () => {
          const pod = podOf(res, "StatefulSet", /-alertmanager$/);
          box = new Sandbox("alertmanager", mountedFiles(res, pod));
          port = await freePort();
          args = localArgs(pod.container.args, box, port);
          cfg = configFileOf(args);
          fs.writeFileSync(cfg, stringify(rewriteFilePaths(parse(fs.readFileSync(cfg, "utf8")), box)));
          printRewrites("alertmanager args and alertmanager.yml", box);
        });

        it("amtool check-config accepts alertmanager.yml (with its secrets as rendered)", () => {
          const r = run(tools.amtool, ["check-config", cfg]);
          expectSuccess("amtool check-config", r);
          console.log(r.out.replace(/^/gm, "        ").trimEnd());
        });

        it("alertmanager runs it on 127.0.0.1: /-/ready answers, VolumeAlmostFull inhibits VolumeFillingUp", async () => {
          const am = start(tools.alertmanager, args);
          const base = `http://127.0.0.1:${port}`;
          await waitFor("alertmanager /-/ready", () => answers200(`${base}/-/ready`), 30_000, am);
          const labels = { namespace: "matrix", persistentvolumeclaim: "data-synapse-postgres-0" };
          const post = await fetch(`${base}/api/v2/alerts`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(
              ["VolumeAlmostFull", "VolumeFillingUp"].map((alertname) => ({
                labels: { alertname, ...labels },
              })),
            ),
          });
          expect(post.status, await post.text()).to.equal(200);
          const alerts = JSON.parse((await httpGet(`${base}/api/v2/alerts`)).body) as {
            labels: Record<string, string>;
            status: { state: string; inhibitedBy: string[] };
          }[];
          const state = (n: string) => alerts.find((a) => a.labels.alertname === n)?.status;
          expect(state("VolumeAlmostFull")?.state).to.equal("active");
          expect(state("VolumeFillingUp")?.state).to.equal("suppressed");
          expect(state("VolumeFillingUp")?.inhibitedBy).to.have.length(1);
        });
      });

      describe("blackbox exporter", () => {
        let box: Sandbox;
        let args: string[];
        let port: number;
        let modules: Record<string, { prober: string; tcp?: { tls?: boolean }; http?: unknown }>;
        let pki: Pki;

        before(async () => {
          const pod = podOf(res, "Deployment", /-blackbox-exporter$/);
          box = new Sandbox("blackbox", mountedFiles(res, pod));
          port = await freePort();
          args = localArgs(pod.container.args, box, port);
          const cfg = configFileOf(args);
          const doc = parse(fs.readFileSync(cfg, "utf8"));
          fs.writeFileSync(cfg, stringify(rewriteFilePaths(doc, box)));
          modules = doc.modules;
          // The mocks render a stand-in CA; the probes trust a test CA that signed the local server instead.
          pki = makePki(box.root);
          for (const r of box.rewrites.filter((x) => /ca_file/.test(x))) {
            fs.writeFileSync(r.split(" -> ")[1], pki.caCrt);
            box.rewrites.push(`${r.split(":")[0]}: contents replaced by the test CA`);
          }
          printRewrites("blackbox exporter args and blackbox.yml", box);
        });

        it("every module prometheus.yml asks the blackbox exporter for is rendered", () => {
          const wanted = (promCfg.scrape_configs as { params?: { module?: string[] } }[]).flatMap(
            (j) => j.params?.module ?? [],
          );
          expect(wanted).to.not.be.empty;
          for (const m of wanted) expect(Object.keys(modules)).to.include(m);
        });

        it("each module probes a live local server with success 1, a dead port and an untrusted certificate with 0", async () => {
          const bb = start(tools.blackbox, args);
          const base = `http://127.0.0.1:${port}`;
          await waitFor("blackbox_exporter /-/healthy", () => answers200(`${base}/-/healthy`), 30_000, bb);
          const ok = (_: http.IncomingMessage, r: http.ServerResponse) => r.end("ok\n");
          const tlsPort = await serve(https.createServer({ cert: pki.serverCrt, key: pki.serverKey }, ok));
          const strangerPort = await serve(
            https.createServer({ cert: pki.strangerCrt, key: pki.strangerKey }, ok),
          );
          const plainPort = await serve(http.createServer(ok));
          const deadPort = await freePort();
          const probe = async (module: string, target: string) => {
            const r = await httpGet(`${base}/probe?module=${module}&target=${encodeURIComponent(target)}`);
            expect(r.status, r.body).to.equal(200);
            return r.body;
          };
          let probed = 0;
          for (const [name, m] of Object.entries(modules)) {
            if (m.prober !== "tcp" && m.prober !== "http") {
              console.log(`      module ${name}: prober ${m.prober} has no local case, not probed`);
              continue;
            }
            const tls = m.prober === "tcp" && m.tcp?.tls === true;
            const scheme = m.prober === "http" ? "http://" : "";
            const live = await probe(name, `${scheme}localhost:${tls ? tlsPort : plainPort}`);
            expect(sample(live, "probe_success"), `${name} against a live server:\n${live}`).to.equal(1);
            if (tls) {
              const notAfter = Date.parse(new X509Certificate(pki.serverCrt).validTo) / 1000;
              expect(sample(live, "probe_ssl_earliest_cert_expiry"), live).to.equal(notAfter);
              const stranger = await probe(name, `${scheme}localhost:${strangerPort}`);
              expect(sample(stranger, "probe_success"), `${name}, untrusted:\n${stranger}`).to.equal(0);
            }
            const dead = await probe(name, `${scheme}localhost:${deadPort}`);
            expect(sample(dead, "probe_success"), `${name} against a dead port:\n${dead}`).to.equal(0);
            probed++;
          }
          expect(probed).to.be.greaterThan(0);
        });
      });
    });
  }

  describe("Alertmanager with a webhook (keel:monitoring alertWebhookUrl set)", () => {
    it("amtool accepts the config, alertmanager reads the URL from the Secret file and delivers to it", async () => {
      const hook: { path?: string; body: string }[] = [];
      const hookPort = await serve(
        http.createServer((req, r) => {
          let body = "";
          req.on("data", (d) => (body += d));
          req.on("end", () => {
            hook.push({ path: req.url, body });
            r.end();
          });
        }),
      );
      const configDir = "/etc/alertmanager/config";
      const rendered = renderAlertmanagerConfig(true);
      const box = new Sandbox(
        "alertmanager-webhook",
        new Map<string, Record<string, string>>([
          [configDir, { "alertmanager.yml": rendered }],
          // The Secret the program creates from alertWebhookUrl, as mounted.
          [webhookUrlDir, { [webhookUrlKey]: `http://127.0.0.1:${hookPort}/hook` }],
        ]),
      );
      const cfg = box.write("/local/alertmanager.yml", stringify(rewriteFilePaths(parse(rendered), box)));
      printRewrites("alertmanager.yml", box);
      expectSuccess("amtool check-config", run(tools.amtool, ["check-config", cfg]));
      const port = await freePort();
      const args = [`--config.file=${cfg}`, `--storage.path=${box.root}/data`, "--cluster.listen-address="];
      const am = start(tools.alertmanager, [...args, `--web.listen-address=127.0.0.1:${port}`]);
      const base = `http://127.0.0.1:${port}`;
      await waitFor("alertmanager /-/ready", () => answers200(`${base}/-/ready`), 30_000, am);
      const post = await fetch(`${base}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([{ labels: { alertname: "TargetDown", namespace: "matrix" } }]),
      });
      expect(post.status).to.equal(200);
      // group_wait is 30 s.
      await waitFor("a webhook delivery", () => hook.length > 0, 60_000, am);
      expect(hook[0].path).to.equal("/hook");
      expect(JSON.parse(hook[0].body).alerts[0].labels.alertname).to.equal("TargetDown");
    });
  });
});
