import { expect } from "chai";
import { imageCatalog } from "@keel/core";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { kubectlJson, must, prepareEnvironment, root, run, tempDir } from "./harness";
import { Offline, minimalPath, runOffline, runStreaming, startOfflineSite } from "./offline-site";

// Issue #7: one artifact in, a running stack out, no network. The dev stack (its config, made air-gapped) is
// bundled on this connected machine, unpacked into an empty folder and deployed from a namespace with only
// loopback, the repository, the toolchain cache and npm hidden; then a config change travels in a second
// bundle that carries the site's state to a fresh site folder. Runs in order; each step builds on the last.
describe("an air-gapped deployment from a bundle", function () {
  this.timeout(40 * 60 * 1000);
  const stack = "airgap-e2e";
  const registry = "registry.site.local:5000/mirror";
  const passphrase = `keel-e2e-bundle-${process.pid}-passphrase`;
  const work = tempDir("keel-e2e-bundle-");
  const carry = path.join(work, "carried"); // what an operator carries between the two machines
  const stackConfig = path.join(work, `Pulumi.${stack}.yaml`);
  let env: NodeJS.ProcessEnv;
  let site: Offline | undefined;
  let sitePath: string;
  let kubeconfig: string;
  let hidden: string[];
  let probeTargets: string[];
  /** Folders the bundles were unpacked into, newest last (for cleanup). */
  const unpacked: string[] = [];
  let destroyed = false;

  /** Dev's config with the air-gapped settings: private registry, the site's ClamAV mirror, no salt. */
  function writeStackConfig(extra: Record<string, unknown> = {}): void {
    const dev = parse(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as {
      config: Record<string, unknown>;
    };
    const config = {
      ...dev.config,
      "keel:airGapped": true,
      "keel:imageRegistry": registry,
      "keel:matrix": { signatureMirror: "http://clamav-mirror.site.local" },
      ...extra,
    };
    fs.writeFileSync(stackConfig, stringify({ config }));
  }

  async function bundle(out: string, extraArgs: string[] = []): Promise<{ bytes: number; seconds: number }> {
    const r = await runStreaming(
      "npm",
      [
        "run",
        "-s",
        "bundle",
        "--",
        "--stack",
        stack,
        "--stack-config",
        stackConfig,
        "--out",
        out,
        ...extraArgs,
      ],
      { env: { ...env, PULUMI_CONFIG_PASSPHRASE: passphrase }, cwd: root, timeoutSeconds: 15 * 60 },
    );
    expect(r.status, "npm run bundle").to.equal(0);
    const result = JSON.parse(r.stdout.trim().split("\n").pop()!);
    process.stderr.write(
      `      bundle: ${(result.bytes / 1024 / 1024).toFixed(1)} MiB, ${result.seconds.toFixed(1)} s, ${result.files} files\n`,
    );
    return result;
  }

  function listing(archive: string): { path: string; type: string }[] {
    const r = spawnSync("tar", ["-tvzf", archive], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    expect(r.status).to.equal(0);
    return r.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => ({
        type: l[0],
        path: l
          .split(/\s+/)
          .slice(5)
          .join(" ")
          .replace(/ -> .*$/, ""),
      }));
  }

  function unpack(archive: string, name: string): string {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    expect(fs.readdirSync(dir)).to.deep.equal([]);
    expect(run(env, "tar", ["-xzf", archive, "-C", dir]).status).to.equal(0);
    unpacked.push(dir);
    return path.join(dir, `keel-${stack}`);
  }

  /** deploy.sh inside the offline namespace, from an empty HOME, with a PATH of coreutils only. */
  function deploy(bundleDir: string, args: string[], timeoutSeconds = 20 * 60) {
    const home = fs.mkdtempSync(path.join(work, "home-"));
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const command = [
      `cd ${q(path.dirname(bundleDir))}`,
      `command -v npm node pulumi >/dev/null 2>&1 && { echo "PATH still offers a tool it must not"; exit 97; }`,
      `env -i HOME=${q(home)} PATH=${q(sitePath)} KUBECONFIG=${q(kubeconfig)} ` +
        `PULUMI_CONFIG_PASSPHRASE=${q(passphrase)} ./keel-${stack}/deploy.sh ${args.map(q).join(" ")}`,
    ].join("\n");
    return runOffline(site!, {
      command: `PATH=${q(sitePath)}\n${command}`,
      probeTargets,
      hidden,
      timeoutSeconds,
    });
  }

  function expectOffline(probe: Awaited<ReturnType<typeof runOffline>>["probe"]): void {
    expect(probe.interfaces, "interfaces in the namespace").to.deep.equal(["lo"]);
    const outside = probe.attempts.filter((a) => !a.target.startsWith("127.0.0.1:"));
    expect(outside.length).to.be.greaterThan(0);
    for (const a of outside) {
      expect(a.connected, `TCP connect to ${a.target}`).to.equal(false);
      expect(a.error, a.target).to.equal("ENETUNREACH");
    }
    expect(
      probe.attempts.find((a) => a.target.startsWith("127.0.0.1:"))?.connected,
      "API server bridge",
    ).to.equal(true);
    expect(probe.lookup.address, "DNS lookup of registry.npmjs.org").to.equal(undefined);
  }

  /** Kind/namespace/name -> uid of every object the stack manages. */
  function uids(): Record<string, string> {
    const kinds = "namespaces,deployments,statefulsets,services,secrets,persistentvolumeclaims,configmaps";
    const items = kubectlJson(env, ["get", kinds, "-A", "-l", "app.kubernetes.io/managed-by=keel"]).items;
    return Object.fromEntries(
      items.map((o: any) => [`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o.metadata.uid]),
    );
  }

  function postgresPassword(): string {
    const secret = kubectlJson(env, ["get", "secret", "postgres-credentials", "-n", "ai-core"]);
    return Buffer.from(secret.data.password, "base64").toString("utf8");
  }

  function newestStateExport(dir: string): string {
    const files = fs
      .readdirSync(dir)
      .filter((f) => new RegExp(`^keel-${stack}-state-.*\\.json$`).test(f))
      .sort();
    expect(files, `state exports in ${dir}`).to.have.length.greaterThan(0);
    return path.join(dir, files[files.length - 1]);
  }

  before(async () => {
    env = prepareEnvironment({
      PULUMI_BACKEND_URL: `file://${path.join(work, "builder-backend")}`,
      PULUMI_CONFIG_PASSPHRASE: passphrase,
      KEEL_USE_OWN: "0",
    });
    fs.mkdirSync(carry);
    kubeconfig = path.join(work, "site-kubeconfig");
    fs.copyFileSync(env.KUBECONFIG!, kubeconfig);
    const server = (parse(fs.readFileSync(kubeconfig, "utf8")) as any).clusters[0].cluster.server as string;
    const apiPort = Number(new URL(server).port);
    expect(new URL(server).hostname).to.equal("127.0.0.1");
    site = await startOfflineSite(path.join(work, "offline"), apiPort);
    sitePath = minimalPath(site.dir);
    // Every npm on PATH (the pinned one under the cache, the machine's), each as its package folder.
    const npms = spawnSync("bash", ["-c", 'for n in $(which -a npm); do readlink -f "$n"; done'], {
      encoding: "utf8",
    })
      .stdout.split("\n")
      .filter(Boolean)
      .map((n) => n.replace(/\/bin\/npm-cli\.js$/, ""));
    hidden = [
      root,
      env.KEEL_CACHE ?? path.join(os.homedir(), ".cache", "keel"),
      path.join(os.homedir(), ".npm"),
      ...npms,
    ];
    const hostAddresses = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && a.family === "IPv4" && !a.internal)
      .map((a) => `${a!.address}:${apiPort}`);
    probeTargets = [...hostAddresses, "1.1.1.1:443", "104.16.0.35:443", `127.0.0.1:${apiPort}`];
    writeStackConfig();
  });

  after(async () => {
    // Whatever happened above, take the stack down from the newest site that holds it.
    if (!destroyed && site) {
      for (const dir of [...unpacked].reverse()) {
        const backend = path.join(dir, "keel-site", "backend", ".pulumi", "stacks", "keel", `${stack}.json`);
        if (!fs.existsSync(backend)) continue;
        const r = await deploy(path.join(dir, `keel-${stack}`), ["--destroy", "--yes"]);
        if (r.status === 0) break;
      }
    }
    site?.stop();
    if (!process.env.KEEL_E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
  });

  let first: string;
  it("bundles the stack on the connected machine: program, modules, pack, plugins, CLI, images, checksums", async () => {
    first = path.join(carry, `keel-${stack}-1.tar.gz`);
    await bundle(first);
    const entries = listing(first);
    const files = new Set(
      entries.filter((e) => e.type === "-").map((e) => e.path.replace(`keel-${stack}/`, "")),
    );
    expect(entries.filter((e) => e.type === "l" || e.type === "h").map((e) => e.path)).to.deep.equal([]);
    for (const f of [
      "deploy.sh",
      "SHA256SUMS",
      "BUNDLE.json",
      "images.txt",
      "images-mirror.txt",
      "policy-config.json",
      "tools/site.js",
      "project/Pulumi.yaml",
      `project/Pulumi.${stack}.yaml`,
      "project/bin/index.js",
      "project/node_modules/@keel/core/package.json",
      "project/node_modules/@keel/core/dist/index.js",
      "project/node_modules/@pulumi/kubernetes/package.json",
      "policy-pack/PulumiPolicy.yaml",
      "policy-pack/bin/src/index.js",
      "policy-pack/node_modules/@pulumi/policy/package.json",
      "pulumi-home/plugins/resource-kubernetes-v4.25.0/pulumi-resource-kubernetes",
      "pulumi-home/plugins/resource-random-v4.21.1/pulumi-resource-random",
      "pulumi-home/plugins/resource-tls-v5.5.1/pulumi-resource-tls",
      "toolchain/bin/pulumi",
      "toolchain/bin/pulumi-language-nodejs",
      "toolchain/bin/node",
    ]) {
      expect(files.has(f), f).to.equal(true);
    }
    expect(
      [...files].filter((f) => f.startsWith("state/")),
      "a first bundle carries no state",
    ).to.deep.equal([]);
    expect(
      [...files].some((f) => /node_modules\/(typescript|mocha|eslint)\//.test(f)),
      "dev dependencies",
    ).to.equal(false);
    // The passphrase protects the site's secrets: it must not travel with the bundle.
    const grep = spawnSync("bash", ["-c", `gzip -dc '${first}' | grep -c -F '${passphrase}'`], {
      encoding: "utf8",
    });
    expect(grep.stdout.trim()).to.equal("0");
  });

  let siteA: string;
  it("refuses a changed or extended bundle and missing images, before touching the cluster", async () => {
    siteA = unpack(first, "site-a");
    const index = path.join(siteA, "project", "bin", "index.js");
    const original = fs.readFileSync(index);
    fs.appendFileSync(index, "\n// tampered\n");
    fs.writeFileSync(path.join(siteA, "project", "node_modules", "extra.js"), "module.exports = 1;\n");
    try {
      const tampered = await deploy(siteA, ["--preview-only"], 300);
      expect(tampered.status).to.not.equal(0);
      expect(tampered.output).to.match(/changed \(1\):\s+project\/bin\/index\.js/);
      expect(tampered.output).to.match(/not in the manifest \(1\):\s+project\/node_modules\/extra\.js/);
    } finally {
      fs.writeFileSync(index, original);
      fs.rmSync(path.join(siteA, "project", "node_modules", "extra.js"));
    }
    const images = fs.readFileSync(path.join(siteA, "images.txt"), "utf8").trim().split("\n");
    const partial = path.join(work, "catalog-partial.txt");
    fs.writeFileSync(partial, images.slice(1).join("\n") + "\n");
    // Compared before and after: a dev stack deployed on the same cluster (npm start) already has its namespaces.
    const namespaces = () => must(env, "kubectl", ["get", "namespaces", "-o", "name"]).stdout;
    const before = namespaces();
    const missing = await deploy(siteA, ["--registry-catalog", partial], 300);
    expect(missing.status).to.not.equal(0);
    expect(missing.output).to.contain(`missing (1):\n    ${images[0]}`);
    expect(missing.output).to.contain("nothing was changed");
    expect(namespaces(), "nothing created").to.equal(before);
  });

  it("deploys it with only loopback, without the repository, the toolchain cache or npm", async () => {
    const images = fs.readFileSync(path.join(siteA, "images.txt"), "utf8").trim().split("\n");
    expect(images.length).to.be.greaterThan(20);
    for (const i of images) expect(i.startsWith(`${registry}/`), i).to.equal(true);
    const pairs = fs.readFileSync(path.join(siteA, "images-mirror.txt"), "utf8").trim().split("\n");
    expect(pairs.map((l) => l.split(" ")[1])).to.deep.equal(images);
    // Each site image is paired with its source in the pinned catalog's registries.
    const upstream = new Set(Object.values(imageCatalog).map((i) => i.repository.split("/")[0]));
    for (const l of pairs) expect(upstream.has(l.split(" ")[0].split("/")[0]), l).to.equal(true);
    const catalog = path.join(work, "catalog.txt");
    fs.writeFileSync(catalog, `# what the site registry holds\n${images.join("\n")}\n`);
    const r = await deploy(siteA, ["--registry-catalog", catalog]);
    expectOffline(r.probe);
    expect(r.status, "deploy.sh").to.equal(0);
    for (const s of ["(1/7) verifying", "(3/7) checking the images", "(5/7) previewing", "(6/7) pulumi up"]) {
      expect(r.output).to.contain(s);
    }
    expect(r.output).to.contain(`${images.length} of ${images.length} images are in the registry catalog`);
    expect(r.output).to.contain("new stack (the bundle carries no state)");

    const workloads = [
      ...kubectlJson(env, ["get", "deployments", "-A", "-l", "app.kubernetes.io/managed-by=keel"]).items,
      ...kubectlJson(env, ["get", "statefulsets", "-A", "-l", "app.kubernetes.io/managed-by=keel"]).items,
    ];
    expect(workloads.length).to.be.greaterThan(10);
    for (const w of workloads) {
      const name = `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`;
      expect(w.status.readyReplicas ?? 0, name).to.equal(w.spec.replicas);
      for (const c of [...w.spec.template.spec.containers, ...(w.spec.template.spec.initContainers ?? [])]) {
        expect(images, `${name} ${c.name}`).to.include(c.image);
      }
    }
    // No external STUN: LiveKit hands clients the stack's own STUNner listener.
    const livekit = kubectlJson(env, ["get", "configmaps", "-n", "webrtc"]).items.find((c: any) =>
      Object.keys(c.data ?? {}).includes("livekit.yaml"),
    );
    expect(parse(livekit.data["livekit.yaml"]).rtc.stun_servers).to.deep.equal(["turn.dev.keel.test:3478"]);

    const parent = path.dirname(siteA);
    const state = JSON.parse(fs.readFileSync(newestStateExport(parent), "utf8"));
    expect(state.deployment.resources.length).to.be.greaterThan(100);
    expect(JSON.stringify(state)).not.to.contain(postgresPassword());
    expect(fs.readFileSync(path.join(parent, `keel-${stack}-ca.crt`), "utf8")).to.match(
      /^-----BEGIN CERTIFICATE-----/,
    );
  });

  it("carries the state forward: a second bundle with a config change updates a fresh site, recreating nothing", async () => {
    const before = uids();
    const password = postgresPassword();
    const returned = newestStateExport(path.dirname(siteA));
    // Back on the connected machine: the config changes, and the state the site wrote goes into the bundle.
    const carried = path.join(carry, path.basename(returned));
    fs.copyFileSync(returned, carried);
    writeStackConfig({ "keel:aiCore": { sessionTimeoutHours: 12 } });
    const second = path.join(carry, `keel-${stack}-2.tar.gz`);
    await bundle(second, ["--state", carried]);

    // A fresh site folder (a new machine): its only state is the one the bundle carries.
    const siteB = unpack(second, "site-b");
    expect(fs.existsSync(path.join(siteB, "state", `${stack}.json`))).to.equal(true);
    expect(fs.readFileSync(path.join(siteB, "ca.crt"), "utf8")).to.equal(
      fs.readFileSync(path.join(path.dirname(siteA), `keel-${stack}-ca.crt`), "utf8"),
    );
    const catalog = path.join(work, "catalog.txt");
    const r = await deploy(siteB, ["--registry-catalog", catalog]);
    expectOffline(r.probe);
    expect(r.status, "deploy.sh").to.equal(0);
    expect(r.output).to.contain("new site backend: imported the state the bundle carries");
    expect(r.output).to.match(/~ \d+ updated/);
    expect(r.output).not.to.match(/replaced|\+-|to replace/);
    expect(r.output).not.to.match(/\+ \d+ created/);

    const orchestrator = kubectlJson(env, ["get", "deployment", "orchestrator", "-n", "ai-core"]);
    const envVars = orchestrator.spec.template.spec.containers[0].env;
    expect(envVars.find((e: any) => e.name === "SESSION_TIMEOUT_HOURS").value).to.equal("12");
    expect(uids()).to.deep.equal(before);
    expect(postgresPassword()).to.equal(password);
    expect(newestStateExport(path.dirname(siteB))).to.not.equal(undefined);
  });

  it("destroys the stack from the site, offline", async () => {
    const latest = unpacked[unpacked.length - 1];
    const r = await deploy(path.join(latest, `keel-${stack}`), ["--destroy", "--yes"]);
    expect(r.status, "deploy.sh --destroy").to.equal(0);
    destroyed = true;
    expect(run(env, "kubectl", ["get", "namespace", "ai-core"]).status).to.not.equal(0);
    const state = JSON.parse(fs.readFileSync(newestStateExport(latest), "utf8"));
    expect(state.deployment.resources ?? []).to.have.length.at.most(1);
  });
});
