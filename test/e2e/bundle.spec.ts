import { expect } from "chai";
import { imageCatalog } from "@keel/core";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { installCrane } from "../../scripts/bundle/image-copy";
import { LocalRegistry, buildTestImage, startRegistry } from "../../scripts/bundle/local-registry";
import { buildManifest } from "../../scripts/bundle/site/checksums";
import { BundleImages, readBundleImages } from "../../scripts/bundle/site/image-layout";
import { registryDigest } from "../../scripts/bundle/site/push-images";
import { kubectlJson, must, prepareEnvironment, root, run, tempDir } from "./harness";
import { Offline, minimalPath, runOffline, runStreaming, startOfflineSite } from "./offline-site";

// Issue #7: one artifact in, a running stack out, no network. The dev stack (its config, made air-gapped) is
// bundled on this connected machine, unpacked into an empty folder and deployed from a namespace with only
// loopback, the repository, the toolchain cache and npm hidden; then a config change travels in a second
// bundle that carries the site's state to a fresh site folder. Runs in order; each step builds on the last.
// Issue #21: the bundles carry the images (copied from a source registry on 127.0.0.1 holding small images
// this test builds under the catalog's paths), are signed, and hold a CycloneDX bill of materials; deploy.sh
// pushes the images into the site registry (a second registry on the host's 127.0.0.1, bridged into the
// namespace like the API server) and the update bundle carries only the image that changed.
describe("an air-gapped deployment from a bundle", function () {
  this.timeout(40 * 60 * 1000);
  const stack = "airgap-e2e";
  let registry: string; // the site registry: 127.0.0.1:<port>/mirror
  let crane: string;
  let source: LocalRegistry;
  let siteRegistry: LocalRegistry;
  let signKey: string;
  let publicKey: string;
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

  async function bundle(
    out: string,
    extraArgs: string[] = [],
  ): Promise<{ bytes: number; seconds: number; output: string }> {
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
        "--images",
        "--image-mirror",
        source.address,
        "--sign-key",
        signKey,
        ...extraArgs,
      ],
      { env: { ...env, PULUMI_CONFIG_PASSPHRASE: passphrase }, cwd: root, timeoutSeconds: 15 * 60 },
    );
    expect(r.status, "npm run bundle").to.equal(0);
    const result = JSON.parse(r.stdout.trim().split("\n").pop()!);
    process.stderr.write(
      `      bundle: ${(result.bytes / 1024 / 1024).toFixed(1)} MiB, ${result.seconds.toFixed(1)} s, ${result.files} files\n`,
    );
    return { ...result, output: r.output };
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
        `PULUMI_CONFIG_PASSPHRASE=${q(passphrase)} ./keel-${stack}/deploy.sh ` +
        [...args, "--public-key", publicKey].map(q).join(" "),
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

  /** The source registry with a small image for every catalog entry, the site registry, the signing key. */
  async function startRegistries(): Promise<void> {
    crane = installCrane(root);
    source = await startRegistry(crane);
    for (const [key, i] of Object.entries(imageCatalog)) {
      buildTestImage(crane, sourceOf(i.repository, i.tag), `keel e2e test image ${key}\n`);
    }
    siteRegistry = await startRegistry(crane, { disk: path.join(work, "site-registry") });
    registry = `${siteRegistry.address}/mirror`;
    signKey = path.join(work, "builder.key");
    publicKey = path.join(work, "builder.pub"); // what the site holds
    must(env, "openssl", ["genpkey", "-algorithm", "ed25519", "-out", signKey]);
    must(env, "openssl", ["pkey", "-in", signKey, "-pubout", "-out", publicKey]);
  }

  /** A catalog image's reference in the source registry: the same path, the registry's host. */
  function sourceOf(repository: string, tag: string): string {
    return `${source.address}/${repository.slice(repository.indexOf("/") + 1)}:${tag}`;
  }

  /** Every workload container's image is one the bundle names, and the site registry serves its digest. */
  function expectImagesServed(images: string[], digests: Map<string, string>): number {
    const workloads = [
      ...kubectlJson(env, ["get", "deployments", "-A", "-l", "app.kubernetes.io/managed-by=keel"]).items,
      ...kubectlJson(env, ["get", "statefulsets", "-A", "-l", "app.kubernetes.io/managed-by=keel"]).items,
    ];
    let checked = 0;
    for (const w of workloads) {
      for (const c of [...w.spec.template.spec.containers, ...(w.spec.template.spec.initContainers ?? [])]) {
        const what = `${w.kind} ${w.metadata.namespace}/${w.metadata.name} ${c.name}`;
        expect(images, what).to.include(c.image);
        const served = registryDigest({ crane, insecure: false, say: () => undefined }, c.image);
        expect(served, `${what}: ${c.image} in the site registry`).to.equal(digests.get(c.image));
        checked++;
      }
    }
    return checked;
  }

  function digestsOf(doc: BundleImages): Map<string, string> {
    return new Map([...doc.images, ...doc.leftOut].map((i) => [i.reference, i.digest]));
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
    await startRegistries();
    kubeconfig = path.join(work, "site-kubeconfig");
    fs.copyFileSync(env.KUBECONFIG!, kubeconfig);
    const server = (parse(fs.readFileSync(kubeconfig, "utf8")) as any).clusters[0].cluster.server as string;
    const apiPort = Number(new URL(server).port);
    expect(new URL(server).hostname).to.equal("127.0.0.1");
    const registryPort = Number(siteRegistry.address.split(":")[1]);
    site = await startOfflineSite(path.join(work, "offline"), apiPort, [registryPort]);
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
    source?.stop();
    siteRegistry?.stop();
    if (!process.env.KEEL_E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
  });

  let first: string;
  it("bundles the stack on the connected machine: program, modules, pack, plugins, CLI, images, checksums, signature, SBOM", async () => {
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
      "SHA256SUMS.sig",
      "sbom.cdx.json",
      "images/oci-layout",
      "images/index.json",
      "images/images.json",
      "toolchain/bin/crane",
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

  function bundleFile(archive: string, file: string): string {
    return must(env, "tar", ["-xzOf", archive, `keel-${stack}/${file}`]).stdout;
  }

  let siteA: string;
  it("refuses a changed or extended bundle, a changed image and a re-made manifest, before touching the cluster", async () => {
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
    // Compared before and after: a dev stack deployed on the same cluster (npm start) already has its namespaces.
    const namespaces = () => must(env, "kubectl", ["get", "namespaces", "-o", "name"]).stdout;
    const before = namespaces();
    // A changed image: one of its blobs.
    const blobs = path.join(siteA, "images", "blobs", "sha256");
    const blob = fs.readdirSync(blobs).sort()[0];
    const blobBytes = fs.readFileSync(path.join(blobs, blob));
    fs.appendFileSync(path.join(blobs, blob), "x");
    try {
      const changedImage = await deploy(siteA, ["--preview-only"], 300);
      expect(changedImage.status).to.not.equal(0);
      expect(changedImage.output).to.contain(`changed (1):\n    images/blobs/sha256/${blob}`);
      // SHA256SUMS made again over the changed blob: its signature no longer verifies.
      const sums = path.join(siteA, "SHA256SUMS");
      const signed = fs.readFileSync(sums);
      fs.writeFileSync(sums, buildManifest(siteA));
      const remade = await deploy(siteA, ["--preview-only"], 300);
      fs.writeFileSync(sums, signed);
      expect(remade.status).to.not.equal(0);
      expect(remade.output).to.contain("signature does not verify");
    } finally {
      fs.writeFileSync(path.join(blobs, blob), blobBytes);
    }
    expect(namespaces(), "nothing created").to.equal(before);
    expect(must(env, crane, ["catalog", siteRegistry.address]).stdout.trim(), "nothing pushed").to.equal("");
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
    const carried = readBundleImages(siteA)!;
    expect(carried.images.map((i) => i.reference).sort()).to.deep.equal(images);
    expect(carried.leftOut).to.deep.equal([]);
    const r = await deploy(siteA, []);
    expectOffline(r.probe);
    expect(r.status, "deploy.sh").to.equal(0);
    for (const s of [
      "(1/7) verifying the bundle's signature",
      "SHA256SUMS is signed by the holder of",
      "(3/7) pushing the bundle's images",
      "(5/7) previewing",
      "(6/7) pulumi up",
    ]) {
      expect(r.output).to.contain(s);
    }
    expect(r.output).to.contain(
      `${images.length} pushed, 0 already there, ${images.length} held by the registry`,
    );
    expect(r.output).to.contain("new stack (the bundle carries no state)");
    expect(expectImagesServed(images, digestsOf(carried))).to.be.greaterThan(10);
    const record = fs.readFileSync(path.join(path.dirname(siteA), `keel-${stack}-images.txt`), "utf8");
    expect(record.trim().split("\n")).to.have.length(images.length);

    const workloads = [
      ...kubectlJson(env, ["get", "deployments", "-A", "-l", "app.kubernetes.io/managed-by=keel"]).items,
      ...kubectlJson(env, ["get", "statefulsets", "-A", "-l", "app.kubernetes.io/managed-by=keel"]).items,
    ];
    expect(workloads.length).to.be.greaterThan(10);
    for (const w of workloads) {
      const name = `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`;
      expect(w.status.readyReplicas ?? 0, name).to.equal(w.spec.replicas);
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

  it("carries the state forward: a second bundle with a config change and one new image updates a fresh site, recreating nothing", async () => {
    const before = uids();
    const password = postgresPassword();
    const returned = newestStateExport(path.dirname(siteA));
    // Back on the connected machine: the config changes, and the state the site wrote goes into the bundle.
    const carried = path.join(carry, path.basename(returned));
    fs.copyFileSync(returned, carried);
    const siteImages = path.join(carry, `keel-${stack}-images.txt`);
    fs.copyFileSync(path.join(path.dirname(siteA), `keel-${stack}-images.txt`), siteImages);
    // A new build of the orchestrator under the same tag, pinned by digest in the stack config.
    const { repository, tag } = imageCatalog.orchestrator;
    const newDigest = buildTestImage(
      crane,
      sourceOf(repository, tag),
      "keel e2e test image orchestrator v2\n",
    );
    writeStackConfig({
      "keel:aiCore": { sessionTimeoutHours: 12 },
      "keel:images": { orchestrator: { digest: newDigest } },
    });
    const second = path.join(carry, `keel-${stack}-2.tar.gz`);
    const built = await bundle(second, ["--state", carried, "--site-images", siteImages]);
    const pinned = `${registry}/${repository.slice(repository.indexOf("/") + 1)}:${tag}@${newDigest}`;
    const doc: BundleImages = JSON.parse(bundleFile(second, "images/images.json"));
    expect(doc.images.map((i) => [i.reference, i.digest])).to.deep.equal([[pinned, newDigest]]);
    const all = bundleFile(second, "images.txt").trim().split("\n");
    expect(doc.leftOut.map((i) => i.reference).sort()).to.deep.equal(all.filter((i) => i !== pinned));
    expect(built.output).to.contain(`1 images copied, ${all.length - 1} left out`);
    expect(built.output).to.contain("left out (the site's registry holds them at these digests");
    const sbom = JSON.parse(bundleFile(second, "sbom.cdx.json"));
    const sbomImages = sbom.components.filter((c: any) => c.type === "container");
    expect(sbomImages).to.have.length(all.length);
    expect(sbomImages.every((c: any) => /^[0-9a-f]{64}$/.test(c.hashes[0].content))).to.equal(true);

    // A fresh site folder (a new machine): its only state is the one the bundle carries.
    const siteB = unpack(second, "site-b");
    expect(fs.existsSync(path.join(siteB, "state", `${stack}.json`))).to.equal(true);
    expect(fs.readFileSync(path.join(siteB, "ca.crt"), "utf8")).to.equal(
      fs.readFileSync(path.join(path.dirname(siteA), `keel-${stack}-ca.crt`), "utf8"),
    );
    const r = await deploy(siteB, []);
    expectOffline(r.probe);
    expect(r.status, "deploy.sh").to.equal(0);
    expect(r.output).to.contain(`1 pushed, 0 already there, ${all.length} held by the registry`);
    expect(r.output).to.contain("new site backend: imported the state the bundle carries");
    expect(r.output).to.match(/~ \d+ updated/);
    expect(r.output).not.to.match(/replaced|\+-|to replace/);
    expect(r.output).not.to.match(/\+ \d+ created/);

    const orchestrator = kubectlJson(env, ["get", "deployment", "orchestrator", "-n", "ai-core"]);
    const envVars = orchestrator.spec.template.spec.containers[0].env;
    expect(envVars.find((e: any) => e.name === "SESSION_TIMEOUT_HOURS").value).to.equal("12");
    expect(orchestrator.spec.template.spec.containers[0].image).to.equal(pinned);
    expectImagesServed(all, digestsOf(doc));
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
