// `npm run bundle -- --stack <name> --out <file.tar.gz>`: one archive that deploys the stack on a machine with
// no network. See docs/air-gapped.md for the operator's side and the archive's layout.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDocument } from "yaml";
import { stackImages } from "../../program/deploy";
import { BundleArgs, UsageError, parseBundleArgs, usage } from "./args";
import { copyFile, copyMatching, dirSize, mib } from "./files";
import { checkImages, imagesInPreview, imagesKeptFromState, mergeImageUses, mirrorPairs } from "./images";
import {
  copyProductionTree,
  installedPackages,
  productionPlan,
  unresolvedDependencies,
} from "./node-modules";
import { locatePlugins, mergePlugins, pluginDirName, pluginsFromPackages } from "./plugins";
import { policyConfigFor } from "./policy-config";
import { previewProblems, run, toolchainEnv, which } from "./pulumi";
import { buildManifest, manifestName } from "./site/checksums";
import { formatImageList } from "./site/registry";
import { PluginRef, StateSummary, stateProblems, summarizeState } from "./site/state";
import { BundleError, readStackFile, stackConfigOf, stackTextFor } from "./stack-file";
import { nodeToShipProblem, pinnedNodeVersion } from "./node-pin";
import {
  ImagesResult,
  readSiteImages,
  sbomImages,
  stageImages,
  writeSbom,
  writeSignature,
} from "./build-extras";
import { loadSigningKey, publicKeyFingerprint } from "./sign";

/** The repository: the nearest folder up from here with a Pulumi.yaml (this file runs compiled, from bin/). */
const repo = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`Pulumi.yaml not found above ${__dirname}`);
    dir = up;
  }
  return dir;
})();

// Counted from the process start: loading the program and its SDKs is part of the build time.
const started = Date.now() - process.uptime() * 1000;
let totalSteps = 12;
let stepNo = 0;

function say(line: string): void {
  process.stderr.write(`[bundle ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
}

function step(line: string): void {
  say(`(${++stepNo}/${totalSteps}) ${line}`);
}

function gitDescription(): string {
  const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: repo, encoding: "utf8" });
  if (head.status !== 0) return "unknown";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], {
    cwd: repo,
    encoding: "utf8",
  });
  return `${head.stdout.trim()}${dirty.stdout.trim() ? " (with uncommitted changes)" : ""}`;
}

export function build(args: BundleArgs): void {
  if (args.images) totalSteps++;
  const project = (
    parseDocument(fs.readFileSync(path.join(repo, "Pulumi.yaml"), "utf8")).toJS() as { name: string }
  ).name;

  // ---------------------------------------------------------------------------------------------------------
  step(`checking the inputs of stack ${args.stack}`);
  const configFile = args.stackConfig ?? path.join(repo, `Pulumi.${args.stack}.yaml`);
  const sf = readStackFile(configFile);
  const cfg = stackConfigOf(configFile, sf);
  if (!process.env.PULUMI_CONFIG_PASSPHRASE && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    throw new BundleError(
      "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE to the stack's passphrase " +
        "(the site deploys with the same one; it is never written into the bundle)",
    );
  }
  const nodeProblem = args.node ? nodeToShipProblem(process.version, pinnedNodeVersion(repo)) : undefined;
  if (nodeProblem) throw new BundleError(nodeProblem);
  let stateFile = args.state;
  if (stateFile && !fs.existsSync(stateFile)) throw new BundleError(`--state ${stateFile} not found`);
  const signingKey = args.signKey
    ? loadSigningKey(args.signKey, process.env.KEEL_BUNDLE_KEY_PASSPHRASE)
    : undefined;
  readSiteImages(args.siteImages);
  if (!signingKey) say("  WARNING: no --sign-key: the site can deploy the bundle only with --allow-unsigned");
  if (!cfg.airGapped) {
    say("  WARNING: keel:airGapped is false: the site must reach the public registries the images come from");
  }
  for (const f of ["bin/index.js", "policy-pack/bin/src/index.js"]) {
    if (!fs.existsSync(path.join(repo, f))) throw new BundleError(`${f} is missing: run \`npm run build\``);
  }
  say(
    `  config ${configFile}: platforms ${cfg.platforms.join(", ")}; registry ${cfg.imageRegistry ?? "(none)"}`,
  );

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "keel-bundle-"));
  const top = `keel-${args.stack}`;
  const stage = path.join(tmp, top);
  const projectDir = path.join(stage, "project");
  try {
    // -------------------------------------------------------------------------------------------------------
    step("building (or reusing) the Pulumi toolchain");
    const tc = toolchainEnv(repo);
    const pulumiBin = which(tc, "pulumi");
    if (!pulumiBin || !tc.PULUMI_HOME)
      throw new BundleError("the toolchain environment has no pulumi or PULUMI_HOME");
    const toolBin = path.join(stage, "toolchain", "bin");
    copyFile(pulumiBin, path.join(toolBin, "pulumi"));
    const langhost = path.join(path.dirname(pulumiBin), "pulumi-language-nodejs");
    if (fs.existsSync(langhost)) copyFile(langhost, path.join(toolBin, "pulumi-language-nodejs"));
    else say("  WARNING: no pulumi-language-nodejs next to pulumi: the site needs its own");
    if (args.node) copyFile(process.execPath, path.join(toolBin, "node"));
    const pulumiVersion = run(path.join(toolBin, "pulumi"), ["version"], {
      cwd: repo,
      what: "pulumi version",
    }).stdout.trim();
    say(`  pulumi ${pulumiVersion}${args.node ? `, node ${process.version}` : " (node left out)"}`);

    // -------------------------------------------------------------------------------------------------------
    step("staging the compiled program and its production node_modules");
    copyFile(path.join(repo, "Pulumi.yaml"), path.join(projectDir, "Pulumi.yaml"));
    copyFile(path.join(repo, "bin", "index.js"), path.join(projectDir, "bin", "index.js"));
    const programFiles = copyMatching(
      path.join(repo, "bin", "program"),
      path.join(projectDir, "bin", "program"),
      (f) => f.endsWith(".js"),
    );
    const rootPkg = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8"));
    fs.writeFileSync(
      path.join(projectDir, "package.json"),
      JSON.stringify(
        { name: rootPkg.name, version: rootPkg.version, private: true, dependencies: rootPkg.dependencies },
        null,
        2,
      ) + "\n",
    );
    const lock = JSON.parse(fs.readFileSync(path.join(repo, "package-lock.json"), "utf8"));
    const copied = copyProductionTree(repo, projectDir, productionPlan(lock));
    const unresolved = unresolvedDependencies(projectDir);
    if (unresolved.length > 0) {
      throw new BundleError(`the staged node_modules is incomplete: ${unresolved.slice(0, 10).join("; ")}`);
    }
    say(
      `  ${programFiles + 1} program files; ${copied.packages} packages (${copied.files} files), workspaces materialized`,
    );

    // -------------------------------------------------------------------------------------------------------
    step("staging the policy pack and its node_modules");
    const packSrc = path.join(repo, "policy-pack");
    const packDir = path.join(stage, "policy-pack");
    for (const f of ["PulumiPolicy.yaml", "package.json"])
      copyFile(path.join(packSrc, f), path.join(packDir, f));
    const packFiles = copyMatching(path.join(packSrc, "bin", "src"), path.join(packDir, "bin", "src"), (f) =>
      f.endsWith(".js"),
    );
    const packLock = JSON.parse(fs.readFileSync(path.join(packSrc, "package-lock.json"), "utf8"));
    const packCopied = copyProductionTree(packSrc, packDir, productionPlan(packLock));
    const packUnresolved = unresolvedDependencies(packDir);
    if (packUnresolved.length > 0) {
      throw new BundleError(
        `the policy pack's node_modules is incomplete: ${packUnresolved.slice(0, 10).join("; ")}`,
      );
    }
    say(`  ${packFiles} compiled files; ${packCopied.packages} packages`);

    // -------------------------------------------------------------------------------------------------------
    step("bringing the stack's state into a scratch backend");
    const scratch = path.join(tmp, "scratch");
    const scratchHome = path.join(scratch, "pulumi-home");
    const offlineKubeconfig = path.join(scratch, "kubeconfig");
    fs.mkdirSync(path.join(scratch, "backend"), { recursive: true });
    fs.mkdirSync(path.join(scratchHome, "plugins"), { recursive: true });
    // No cluster at bundling time: the kubernetes provider previews without one (nothing is read or changed).
    fs.writeFileSync(
      offlineKubeconfig,
      "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    );
    const env: NodeJS.ProcessEnv = {
      ...tc,
      PATH: `${toolBin}:${tc.PATH}`,
      PULUMI_HOME: scratchHome,
      PULUMI_BACKEND_URL: `file://${path.join(scratch, "backend")}`,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
      KUBECONFIG: offlineKubeconfig,
    };
    if (args.backend) {
      stateFile = path.join(scratch, "from-backend.json");
      run("pulumi", ["stack", "export", "--stack", args.stack, "--file", stateFile, "--non-interactive"], {
        cwd: projectDir,
        env: { ...env, PULUMI_BACKEND_URL: args.backend },
        what: `exporting stack ${args.stack} from ${args.backend}`,
      });
    }
    let state: StateSummary | undefined;
    if (stateFile) {
      state = summarizeState(JSON.parse(fs.readFileSync(stateFile, "utf8")));
      const problems = stateProblems(state, project, args.stack);
      if (problems.length > 0) throw new BundleError(`${stateFile}: ${problems.join("; ")}`);
    }
    const { text: stackText, note } = stackTextFor(sf, state?.salt);
    if (note) say(`  ${note}`);
    fs.writeFileSync(path.join(projectDir, `Pulumi.${args.stack}.yaml`), stackText);
    run("pulumi", ["stack", "init", args.stack, "--secrets-provider", "passphrase", "--non-interactive"], {
      cwd: projectDir,
      env,
      what: "pulumi stack init (is the passphrase the stack's?)",
    });
    if (stateFile && state) {
      run("pulumi", ["stack", "import", "--stack", args.stack, "--file", stateFile, "--non-interactive"], {
        cwd: projectDir,
        env,
        what: "pulumi stack import",
      });
      fs.mkdirSync(path.join(stage, "state"));
      run(
        "pulumi",
        ["stack", "export", "--stack", args.stack, "--file", path.join(stage, "state", `${args.stack}.json`)],
        {
          cwd: projectDir,
          env,
          what: "pulumi stack export",
        },
      );
      say(`  state of ${state.time ?? "unknown time"}: ${state.resources} resources, carried forward`);
    } else {
      say("  no state: the bundle creates the stack (first deployment)");
    }

    // -------------------------------------------------------------------------------------------------------
    step("staging the resource plugins the stack needs");
    const plugins: PluginRef[] = mergePlugins(
      pluginsFromPackages(installedPackages(projectDir)),
      state?.providers ?? [],
    );
    const located = locatePlugins(tc.PULUMI_HOME, plugins);
    for (const [p, dir] of located) {
      const dest = path.join(stage, "pulumi-home", "plugins", pluginDirName(p));
      copyMatching(dir, dest, () => true);
      // The scratch PULUMI_HOME gets the same binaries (hard links), so the preview below proves they suffice.
      const scratchDir = path.join(scratchHome, "plugins", pluginDirName(p));
      fs.mkdirSync(scratchDir, { recursive: true });
      for (const f of fs.readdirSync(dest)) fs.linkSync(path.join(dest, f), path.join(scratchDir, f));
    }
    say(`  ${plugins.map((p) => `${p.name} ${p.version}`).join(", ")}`);

    // -------------------------------------------------------------------------------------------------------
    step("writing the policy pack config for the stack");
    const basePolicy = path.join(packSrc, "config", `${args.stack}.json`);
    const { config: policyConfig, notes } = policyConfigFor(
      cfg,
      fs.existsSync(basePolicy) ? JSON.parse(fs.readFileSync(basePolicy, "utf8")) : {},
    );
    fs.writeFileSync(path.join(stage, "policy-config.json"), JSON.stringify(policyConfig, null, 2) + "\n");
    for (const n of notes) say(`  ${n}`);
    say(
      `  ${fs.existsSync(basePolicy) ? `from policy-pack/config/${args.stack}.json and` : "from"} the stack config` +
        (cfg.imageRegistry ? `; registry allow-list ${cfg.imageRegistry}` : ""),
    );

    // -------------------------------------------------------------------------------------------------------
    step("previewing the staged bundle with the policy pack (no cluster; ~30 s)");
    const previewArgs = [
      "preview",
      "--non-interactive",
      "--stack",
      args.stack,
      "--policy-pack",
      packDir,
      "--policy-pack-config",
      path.join(stage, "policy-config.json"),
    ];
    const preview = spawnSync("pulumi", [...previewArgs, "--json"], {
      cwd: projectDir,
      env,
      encoding: "utf8",
      maxBuffer: 512 * 1024 * 1024,
    });
    if (preview.status !== 0) {
      // The JSON names neither the policy violations nor the errors: the readable output does.
      const readable = spawnSync("pulumi", [...previewArgs, "--diff=false"], {
        cwd: projectDir,
        env,
        encoding: "utf8",
        maxBuffer: 512 * 1024 * 1024,
      });
      const text = `${readable.stdout}\n${readable.stderr}`;
      const problems = previewProblems(text);
      throw new BundleError(
        `pulumi preview failed (exit ${preview.status}):\n${problems.length > 0 ? problems.join("\n") : text.slice(-6000)}`,
      );
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const previewJson: Record<string, any> = JSON.parse(preview.stdout);
    const summary = previewJson.changeSummary ?? {};
    say(
      `  ${Object.entries(summary)
        .map(([op, n]) => `${n} ${op}`)
        .join(", ")}`,
    );

    // -------------------------------------------------------------------------------------------------------
    step("checking the image list against every image the rendered resources use");
    const stagedStateDoc = state
      ? JSON.parse(fs.readFileSync(path.join(stage, "state", `${args.stack}.json`), "utf8"))
      : undefined;
    const byImage = mergeImageUses(
      imagesInPreview(previewJson),
      stagedStateDoc ? imagesKeptFromState(stagedStateDoc, previewJson) : new Map(),
    );
    const rendered = [...byImage.keys()];
    const declared = stackImages(cfg);
    const check = checkImages(declared, rendered, cfg.imageRegistry);
    if (check.undeclared.length > 0 || check.outsideRegistry.length > 0) {
      const lines = [
        ...check.undeclared.map(
          (i) => `  not in the program's images list: ${i} (used by ${byImage.get(i)![0]})`,
        ),
        ...check.outsideRegistry.map(
          (i) => `  not under ${cfg.imageRegistry}: ${i} (used by ${byImage.get(i)![0]})`,
        ),
      ];
      throw new BundleError(
        `the image list is incomplete; a mirror built from it would miss:\n${lines.join("\n")}`,
      );
    }
    if (rendered.length === 0)
      throw new BundleError("the preview rendered no container image: nothing to check");
    fs.writeFileSync(path.join(stage, "images.txt"), formatImageList(rendered));
    fs.writeFileSync(
      path.join(stage, "images-mirror.txt"),
      mirrorPairs(declared, stackImages({ ...cfg, imageRegistry: undefined }), rendered),
    );
    say(
      `  ${rendered.length} images, all declared by the program and ` +
        `${cfg.imageRegistry ? `under ${cfg.imageRegistry}` : "from their public registries"}` +
        ` (${check.unused.length} catalog images unused by this stack)`,
    );

    let images: ImagesResult | undefined;
    if (args.images) {
      step("copying the images into the bundle (an OCI image layout, by digest)");
      images = stageImages(repo, stage, args, say);
    }

    // -------------------------------------------------------------------------------------------------------
    step("adding the CA certificate, the deploy script, the bill of materials and the manifest");
    const stagedState = stagedStateDoc ? summarizeState(stagedStateDoc) : undefined;
    if (cfg.tls.mode === "selfSigned") {
      if (stagedState?.caCertificate) {
        fs.writeFileSync(path.join(stage, "ca.crt"), stagedState.caCertificate.trim() + "\n");
        say("  ca.crt: the stack's CA (clients must trust it)");
      } else {
        say(
          "  no ca.crt yet: the CA is created by the first deployment (deploy.sh writes it next to the state)",
        );
      }
    }
    copyFile(path.join(repo, "scripts", "bundle", "deploy.sh"), path.join(stage, "deploy.sh"));
    fs.chmodSync(path.join(stage, "deploy.sh"), 0o755);
    const siteJs = path.join(__dirname, "site");
    copyMatching(siteJs, path.join(stage, "tools"), (f) => f.endsWith(".js") && !f.includes(path.sep));
    fs.renameSync(path.join(stage, "tools", "cli.js"), path.join(stage, "tools", "site.js"));
    const manifest = {
      format: 1,
      project,
      stack: args.stack,
      createdAt: new Date().toISOString(),
      keel: gitDescription(),
      pulumi: pulumiVersion,
      node: args.node ? process.version : null,
      plugins,
      airGapped: cfg.airGapped,
      imageRegistry: cfg.imageRegistry ?? null,
      tlsMode: cfg.tls.mode,
      platforms: cfg.platforms,
      images: rendered.length,
      imageDigests: images
        ? Object.fromEntries(sbomImages([], images.doc).map((i) => [i.reference, i.digest]))
        : null,
      imagesLeftOut: images ? images.doc.leftOut.map((i) => i.reference) : null,
      signature: signingKey
        ? { algorithm: "ed25519", publicKeySha256: publicKeyFingerprint(signingKey) }
        : null,
      state: state ? { time: state.time, resources: state.resources } : null,
      preview: summary,
    };
    fs.writeFileSync(path.join(stage, "BUNDLE.json"), JSON.stringify(manifest, null, 2) + "\n");
    fs.writeFileSync(
      path.join(stage, "README.txt"),
      [
        `keel air-gapped bundle: stack ${args.stack} of project ${project}`,
        "",
        `  ./deploy.sh --kubeconfig <file> --public-key <builder's public key>   (see ./deploy.sh --help)`,
        "",
        "The operator's guide is docs/air-gapped.md in the keel repository. SHA256SUMS lists every file;",
        "deploy.sh refuses a bundle that does not match it, and one whose SHA256SUMS.sig does not verify.",
        "images/ (with --images): an OCI image layout deploy.sh pushes into the registry; sbom.cdx.json: the",
        "bill of materials (CycloneDX).",
        "",
      ].join("\n"),
    );
    const components = writeSbom(
      stage,
      { project, keel: manifest.keel, createdAt: manifest.createdAt },
      {
        plugins,
        tools: [
          { name: "pulumi", version: pulumiVersion },
          { name: "pulumi-language-nodejs", version: pulumiVersion },
          ...(args.node ? [{ name: "node", version: process.version }] : []),
          ...(images ? [images.crane] : []),
        ],
        images: sbomImages(rendered, images?.doc),
      },
    );
    say(`  sbom.cdx.json: CycloneDX 1.5, ${components} components`);
    const manifestText = buildManifest(stage);
    fs.writeFileSync(path.join(stage, manifestName), manifestText);
    if (signingKey) {
      writeSignature(stage, signingKey, manifestText);
      say(`  SHA256SUMS.sig: ed25519, public key sha256 ${publicKeyFingerprint(signingKey)}`);
    }
    const fileCount = manifestText.split("\n").filter(Boolean).length;
    say(`  ${manifestName}: ${fileCount} files, ${mib(dirSize(stage))} unpacked`);

    // -------------------------------------------------------------------------------------------------------
    step(`writing ${args.out}`);
    fs.mkdirSync(path.dirname(args.out), { recursive: true });
    const partial = `${args.out}.partial`;
    run(
      "tar",
      // gzip -1: measured 15 s and 212 MiB against 56 s and 185 MiB at the default -6 (docs/air-gapped.md).
      [
        "--sort=name",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "--use-compress-program=gzip -1",
        "-cf",
        partial,
        "-C",
        tmp,
        top,
      ],
      { cwd: repo, what: "tar" },
    );
    fs.renameSync(partial, args.out);
    const size = fs.statSync(args.out).size;
    step(`done: ${args.out} (${mib(size)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.stdout.write(
      JSON.stringify({
        out: args.out,
        bytes: size,
        seconds: (Date.now() - started) / 1000,
        files: fileCount,
        images: images ? { carried: images.doc.images.length, leftOut: images.doc.leftOut.length } : null,
      }) + "\n",
    );
  } finally {
    if (args.keepStaging) say(`staging kept in ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    if (process.argv.includes("--help") || process.argv.includes("-h")) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    const args = parseBundleArgs(process.argv.slice(2), process.env.INIT_CWD ?? process.cwd());
    build(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${usage}\n`);
      process.exitCode = 2;
    } else if (e instanceof BundleError) {
      say(`ERROR: ${e.message}`);
      process.exitCode = 1;
    } else {
      throw e;
    }
  }
  // The SDKs loaded with the program keep timers alive for a while after the work is done.
  process.exit(process.exitCode ?? 0);
}
