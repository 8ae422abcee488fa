import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { must, prepareEnvironment, root, run, tempDir } from "./harness";
import {
  Packed,
  copyFixture,
  countByType,
  engineEvents,
  expectedTarballFiles,
  installedCopies,
  mapsWithoutSources,
  mustIn,
  namesOfType,
  outsidePackageJson,
  pulumiPackages,
  workspacePackages,
} from "./packages/project";

// The published shape: every @keel/* package packed with `npm pack`, installed with plain npm into a project
// outside the repository (no workspace links), type-checked against the packed declarations and previewed
// with the real engine, the local cluster and the policy pack.
describe("the packed @keel/* packages in a project outside the repository", function () {
  this.timeout(20 * 60 * 1000);
  const stack = "outside";
  const rootPackage = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  const workspaces = workspacePackages(root);
  const timings: Record<string, number> = {};
  let env: NodeJS.ProcessEnv;
  let packDir: string;
  let project: string;
  let packed: Packed[];

  const timed = <T>(label: string, f: () => T): T => {
    const started = Date.now();
    try {
      return f();
    } finally {
      timings[label] = (Date.now() - started) / 1000;
    }
  };

  before(() => {
    expect(
      fs.existsSync(path.join(root, "policy-pack/bin/src/index.js")),
      "build the policy pack first",
    ).to.equal(true);
    env = prepareEnvironment({
      PULUMI_BACKEND_URL: `file://${tempDir("keel-e2e-packages-state-")}`,
      PULUMI_CONFIG_PASSPHRASE: "keel-e2e-passphrase",
      KEEL_USE_OWN: "0",
    });
    packDir = tempDir("keel-e2e-packs-");
    project = tempDir("keel-e2e-outside-");
    expect(path.relative(root, project).startsWith("..")).to.equal(true);
  });

  after(() => {
    if (env && project) {
      run(env, "pulumi", ["stack", "rm", stack, "--yes", "--force", "--non-interactive", "--cwd", project]);
    }
    for (const dir of [packDir, project, env?.PULUMI_BACKEND_URL?.replace(/^file:\/\//, "")]) {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
    process.stderr.write(`      timings (s): ${JSON.stringify(timings)}\n`);
  });

  it("npm pack builds every package: exactly its compiled sources and maps, README and package.json", () => {
    const r = timed("pack", () =>
      must(env, "npm", ["pack", "--workspaces", "--pack-destination", packDir, "--json"]),
    );
    packed = JSON.parse(r.stdout);
    expect(packed.map((p) => p.name).sort()).to.deep.equal([...workspaces.keys()].sort());
    for (const p of packed) {
      expect(p.files.map((f) => f.path).sort(), p.name).to.deep.equal(
        expectedTarballFiles(workspaces.get(p.name)!),
      );
      expect(fs.existsSync(path.join(packDir, p.filename)), p.filename).to.equal(true);
      process.stderr.write(`      ${p.filename}: ${p.size} B packed, ${p.unpackedSize} B unpacked\n`);
    }
  });

  it("installs with plain npm: peers satisfied, one @pulumi/pulumi, every @keel/* from its tarball", () => {
    const tarballs = new Map(packed.map((p) => [p.name, path.join(packDir, p.filename)]));
    fs.writeFileSync(
      path.join(project, "package.json"),
      JSON.stringify(outsidePackageJson(rootPackage, tarballs), null, 2) + "\n",
    );
    copyFixture(path.join(root, "test/e2e/fixtures/outside-project"), project, stack);
    // No install scripts: @pulumi/kubernetes's would fetch its plugin; the toolchain provides the plugins.
    timed("install", () =>
      mustIn(env, project, "npm", [
        "install",
        "--prefer-offline",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
      ]),
    );
    mustIn(env, project, "npm", ["ls", "--all"]);
    for (const name of pulumiPackages) {
      expect(installedCopies(project, name), name).to.deep.equal([path.join(project, "node_modules", name)]);
    }
    const lock = JSON.parse(fs.readFileSync(path.join(project, "package-lock.json"), "utf8"));
    for (const [name] of tarballs) {
      expect(installedCopies(project, name), name).to.have.length(1);
      expect(lock.packages[`node_modules/${name}`].resolved, name).to.match(/^file:.*\.tgz$/);
    }
  });

  it("each installed package.json pins @keel/* and Pulumi peers exactly, asks for Node.js 24, maps carry their sources", () => {
    for (const name of workspaces.keys()) {
      const installed = JSON.parse(
        fs.readFileSync(path.join(project, "node_modules", name, "package.json"), "utf8"),
      );
      expect(installed.engines, name).to.deep.equal({ node: ">=24" });
      for (const [dep, version] of Object.entries(installed.dependencies ?? {})) {
        expect(dep, name).to.match(/^@keel\//);
        expect(version, `${name} → ${dep}`).to.equal(
          JSON.parse(fs.readFileSync(path.join(workspaces.get(dep)!, "package.json"), "utf8")).version,
        );
      }
      for (const [peer, version] of Object.entries(installed.peerDependencies)) {
        expect(version, `${name} → ${peer}`).to.equal(rootPackage.dependencies[peer]);
      }
      expect(installed.peerDependencies, name).to.have.property("@pulumi/pulumi");
      expect(mapsWithoutSources(path.join(project, "node_modules", name, "dist")), name).to.deep.equal([]);
    }
  });

  it("the program type-checks against the packed declarations (skipLibCheck off)", () => {
    timed("tsc", () =>
      mustIn(env, project, process.execPath, ["node_modules/typescript/bin/tsc", "-p", "."]),
    );
    expect(fs.existsSync(path.join(project, "bin/index.js"))).to.equal(true);
  });

  it("previews two platforms with the real engine and the policy pack: no mandatory violation", () => {
    must(env, "pulumi", ["login", env.PULUMI_BACKEND_URL!]);
    mustIn(env, project, "pulumi", [
      "stack",
      "init",
      stack,
      "--secrets-provider",
      "passphrase",
      "--non-interactive",
    ]);
    const r = timed("preview", () =>
      mustIn({ ...env, PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true" }, project, "pulumi", [
        "preview",
        "--stack",
        stack,
        "--non-interactive",
        "--json",
        "--policy-pack",
        path.join(root, "policy-pack"),
        "--policy-pack-config",
        path.join(root, "policy-pack/config/dev.json"),
      ]),
    );
    const events = engineEvents(r.stdout);
    const summary = events.find((e) => e.summaryEvent)?.summaryEvent;
    expect(summary?.result).to.equal("succeeded");
    expect(Object.keys(summary.PolicyPacks)).to.deep.equal([`keel|local|${path.join(root, "policy-pack")}`]);

    const mandatory = events
      .filter((e) => e.policyEvent && e.policyEvent.enforcementLevel !== "advisory")
      .map((e) => `${e.policyEvent.policyName}: ${e.policyEvent.resourceUrn}`);
    expect(mandatory).to.deep.equal([]);
    const policies = events.find((e) => e.policyAnalyzeStackSummaryEvent)?.policyAnalyzeStackSummaryEvent;
    expect(policies?.policyPackName).to.equal("keel");
    expect(policies.passed).to.include.members([
      "container-resources",
      "mutable-image-tag",
      "pod-network-policy",
    ]);

    const counts = countByType(events);
    expect(summary.resourceChanges).to.deep.equal({
      create: Object.values(counts).reduce((a, b) => a + b, 0),
    });
    expect(counts).to.include({
      "keel:media:Media": 1,
      "keel:webrtc:WebRtc": 1,
      "keel:core:CertificateAuthority": 1,
      "kubernetes:core/v1:Namespace": 3,
      "kubernetes:networking.k8s.io/v1:Ingress": 8,
    });
    expect(counts["random:index/randomPassword:RandomPassword"]).to.be.greaterThan(0);
    expect(counts["tls:index/locallySignedCert:LocallySignedCert"]).to.equal(8);
    const mediaApps = ["jellyfin", "lidarr", "prowlarr", "qbittorrent", "radarr", "seerr", "sonarr"];
    expect(namesOfType(events, "kubernetes:apps/v1:Deployment")).to.deep.equal([
      ...mediaApps.map((a) => `media-${a}`),
      "webrtc-coturn",
      "webrtc-livekit",
      "webrtc-stunner-stunnerd",
    ]);
    expect(namesOfType(events, "kubernetes:apps/v1:StatefulSet")).to.deep.equal(["webrtc-redis"]);
  });
});
