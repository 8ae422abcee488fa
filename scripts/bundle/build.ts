// `npm run bundle -- --stack <name> --out <file.tar.gz>`: one archive that deploys the stack on a machine with
// no network. See docs/air-gapped.md for the operator's side and the archive's layout.
import { SpawnSyncReturns, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDocument } from "yaml";
import { StackConfig, parseStackConfig, rawFromAllConfig } from "../../program/config";
import { stackImages } from "../../program/deploy";
import { BundleArgs, UsageError, parseBundleArgs, usage } from "./args";
import { checkImages, imagesInPreview } from "./images";
import {
  copyProductionTree,
  installedPackages,
  productionPlan,
  unresolvedDependencies,
} from "./node-modules";
import { locatePlugins, mergePlugins, pluginDirName, pluginsFromPackages } from "./plugins";
import { policyConfigFor } from "./policy-config";
import { buildManifest, manifestName } from "./site/checksums";
import { formatImageList } from "./site/registry";
import { PluginRef, StateSummary, stateProblems, summarizeState } from "./site/state";

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
const totalSteps = 12;
let stepNo = 0;

function say(line: string): void {
  process.stderr.write(`[bundle ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
}

function step(line: string): void {
  say(`(${++stepNo}/${totalSteps}) ${line}`);
}

class BundleError extends Error {}

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; what: string },
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? repo,
    env: opts.env ?? process.env,
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  if (r.error) throw new BundleError(`${opts.what}: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ""}\n${r.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n");
    throw new BundleError(`${opts.what} failed (exit ${r.status}):\n${tail}`);
  }
  return r;
}

/** Copies a file keeping its permission bits; creates the folder. */
function copyFile(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
  fs.chmodSync(to, fs.statSync(from).mode & 0o777);
}

/** Copies the files under `from` whose relative path `keep` accepts. */
function copyMatching(from: string, to: string, keep: (rel: string) => boolean): number {
  let n = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      const rel = path.relative(from, full);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && keep(rel)) {
        copyFile(full, path.join(to, rel));
        n++;
      }
    }
  };
  walk(from);
  return n;
}

function dirSize(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    n += e.isDirectory() ? dirSize(full) : fs.statSync(full).size;
  }
  return n;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

interface StackFile {
  text: string;
  config: Record<string, unknown>;
  salt?: string;
  hasSecureValues: boolean;
}

function readStackFile(file: string): StackFile {
  if (!fs.existsSync(file)) throw new BundleError(`stack config ${file} not found`);
  const text = fs.readFileSync(file, "utf8");
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new BundleError(`${file}: ${doc.errors[0].message}`);
  const js = (doc.toJS() ?? {}) as { config?: Record<string, unknown>; encryptionsalt?: string };
  const config = js.config ?? {};
  const hasSecureValues = Object.values(config).some(
    (v) => typeof v === "object" && v !== null && "secure" in (v as object),
  );
  return { text, config, salt: js.encryptionsalt, hasSecureValues };
}

/** The program's view of the stack config (values as strings, as `pulumi.runtime.allConfig()` hands them). */
function parseConfig(file: string, sf: StackFile): StackConfig {
  const asPulumiSeesIt = Object.fromEntries(
    Object.entries(sf.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  try {
    return parseStackConfig(rawFromAllConfig(asPulumiSeesIt));
  } catch (e) {
    throw new BundleError(`${file}: ${(e as Error).message}`);
  }
}

/** Writes the stack file with `salt` as its encryptionsalt (what the state's secrets were encrypted with). */
function withSalt(text: string, salt: string): string {
  const doc = parseDocument(text);
  doc.set("encryptionsalt", salt);
  return doc.toString();
}

/** The toolchain environment: PATH with pulumi, PULUMI_HOME with the plugin cache, the offline switches. */
function toolchainEnv(): NodeJS.ProcessEnv {
  const r = run("bash", ["-c", 'eval "$(scripts/toolchain/build.sh)" && env -0'], {
    what: "scripts/toolchain/build.sh",
  });
  return Object.fromEntries(
    r.stdout
      .split("\0")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

function which(env: NodeJS.ProcessEnv, name: string): string | undefined {
  for (const dir of (env.PATH ?? "").split(":")) {
    const p = path.join(dir, name);
    if (dir && fs.existsSync(p)) return p;
  }
  return undefined;
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
  const project = (
    parseDocument(fs.readFileSync(path.join(repo, "Pulumi.yaml"), "utf8")).toJS() as { name: string }
  ).name;

  // ---------------------------------------------------------------------------------------------------------
  step(`checking the inputs of stack ${args.stack}`);
  const configFile = args.stackConfig ?? path.join(repo, `Pulumi.${args.stack}.yaml`);
  const sf = readStackFile(configFile);
  const cfg = parseConfig(configFile, sf);
  if (!process.env.PULUMI_CONFIG_PASSPHRASE && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    throw new BundleError(
      "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE to the stack's passphrase " +
        "(the site deploys with the same one; it is never written into the bundle)",
    );
  }
  let stateFile = args.state;
  if (stateFile && !fs.existsSync(stateFile)) throw new BundleError(`--state ${stateFile} not found`);
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
    const tc = toolchainEnv();
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
    let stackText = sf.text.replace(/\s+$/, "") + "\n";
    if (stateFile) {
      state = summarizeState(JSON.parse(fs.readFileSync(stateFile, "utf8")));
      const problems = stateProblems(state, project, args.stack);
      if (problems.length > 0) throw new BundleError(`${stateFile}: ${problems.join("; ")}`);
      if (state.salt && state.salt !== sf.salt) {
        if (!sf.salt || !sf.hasSecureValues) {
          stackText = withSalt(stackText, state.salt);
          say("  encryptionsalt taken from the state (the site's secrets provider)");
        } else {
          say(
            "  WARNING: the stack file's encryptionsalt differs from the state's; keeping the file's (it has secrets)",
          );
        }
      }
    }
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
    const preview = spawnSync(
      "pulumi",
      [
        "preview",
        "--json",
        "--non-interactive",
        "--stack",
        args.stack,
        "--policy-pack",
        packDir,
        "--policy-pack-config",
        path.join(stage, "policy-config.json"),
      ],
      { cwd: projectDir, env, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 },
    );
    let previewJson: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      previewJson = JSON.parse(preview.stdout);
    } catch {
      throw new BundleError(
        `pulumi preview failed (exit ${preview.status}):\n${preview.stderr.slice(-6000)}`,
      );
    }
    if (preview.status !== 0) {
      const diags = (previewJson.diagnostics ?? [])
        .filter((d: { severity?: string }) => d.severity === "error")
        .map((d: { message: string }) => d.message.trim());
      const policies = (previewJson.policies ?? previewJson.policyViolations ?? []).map((p: unknown) =>
        JSON.stringify(p),
      );
      throw new BundleError(
        `pulumi preview failed (exit ${preview.status}):\n${[...diags, ...policies].join("\n") || preview.stderr.slice(-6000)}`,
      );
    }
    const summary = previewJson.changeSummary ?? {};
    say(
      `  ${Object.entries(summary)
        .map(([op, n]) => `${n} ${op}`)
        .join(", ")}`,
    );

    // -------------------------------------------------------------------------------------------------------
    step("checking the image list against every image the rendered resources use");
    const byImage = imagesInPreview(previewJson);
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
    say(
      `  ${rendered.length} images, all declared by the program and ` +
        `${cfg.imageRegistry ? `under ${cfg.imageRegistry}` : "from their public registries"}` +
        ` (${check.unused.length} catalog images unused by this stack)`,
    );

    // -------------------------------------------------------------------------------------------------------
    step("adding the CA certificate, the deploy script and the manifest");
    const stagedState = state
      ? summarizeState(JSON.parse(fs.readFileSync(path.join(stage, "state", `${args.stack}.json`), "utf8")))
      : undefined;
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
      state: state ? { time: state.time, resources: state.resources } : null,
      preview: summary,
    };
    fs.writeFileSync(path.join(stage, "BUNDLE.json"), JSON.stringify(manifest, null, 2) + "\n");
    fs.writeFileSync(
      path.join(stage, "README.txt"),
      [
        `keel air-gapped bundle: stack ${args.stack} of project ${project}`,
        "",
        `  ./deploy.sh --kubeconfig <file> [--registry-catalog <file>]   (see ./deploy.sh --help)`,
        "",
        "The operator's guide is docs/air-gapped.md in the keel repository. SHA256SUMS lists every file;",
        "deploy.sh refuses a bundle that does not match it.",
        "",
      ].join("\n"),
    );
    const manifestText = buildManifest(stage);
    fs.writeFileSync(path.join(stage, manifestName), manifestText);
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
      { what: "tar" },
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
