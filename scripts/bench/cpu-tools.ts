/**
 * The toolchain as the bench runs it for CPU accounting: the executables the engine starts are replaced by
 * scripts/bench/cpu-wrap.sh, which moves itself into its role's cgroup and then execs the real executable.
 *
 * - `pulumi` and `node` come first on PATH (the language host finds `node` on PATH);
 * - the language host is bundled: the engine takes it from the folder of its own executable (resolving
 *   symlinks), so the wrapped `pulumi` runs a hard link (or copy) of the real one in a folder whose
 *   `pulumi-language-nodejs` is the wrapper;
 * - provider plugins come from PULUMI_HOME/plugins: a private PULUMI_HOME mirrors the real plugin folders
 *   with each `pulumi-resource-*` executable wrapped.
 */
import * as fs from "fs";
import * as path from "path";

export function which(name: string, envPath: string): string {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} not found on PATH (${envPath})`);
}

/** `dir/name` becomes the wrapper, standing in for `real`. */
function wrap(wrapper: string, dir: string, name: string, real: string): void {
  fs.symlinkSync(wrapper, path.join(dir, name));
  fs.writeFileSync(path.join(dir, `${name}.real`), real + "\n");
}

function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
    fs.chmodSync(to, 0o755);
  }
}

/** A PULUMI_HOME whose plugins are the real ones, each provider executable wrapped. */
function wrappedHome(wrapper: string, realHome: string, home: string): void {
  const plugins = path.join(home, "plugins");
  fs.mkdirSync(plugins, { recursive: true });
  const realPlugins = path.join(realHome, "plugins");
  if (!fs.existsSync(realPlugins)) return;
  for (const entry of fs.readdirSync(realPlugins, { withFileTypes: true })) {
    const from = path.join(realPlugins, entry.name);
    const to = path.join(plugins, entry.name);
    if (!entry.isDirectory()) {
      fs.writeFileSync(to, "");
      continue;
    }
    fs.mkdirSync(to);
    for (const file of fs.readdirSync(from)) {
      if (file.startsWith("pulumi-resource-")) wrap(wrapper, to, file, path.join(from, file));
      else fs.symlinkSync(path.join(from, file), path.join(to, file));
    }
  }
}

/** Builds the wrapped toolchain under `dir` and returns `env` adjusted to run it. */
export function wrappedToolchain(
  env: NodeJS.ProcessEnv,
  dir: string,
  wrapper: string,
  cgroupDir: string,
): NodeJS.ProcessEnv {
  const envPath = env.PATH ?? "";
  const realHome = env.PULUMI_HOME ?? path.join(env.HOME ?? "/root", ".pulumi");
  const pulumi = fs.realpathSync(which("pulumi", envPath));
  const front = path.join(dir, "front");
  const engine = path.join(dir, "engine");
  const home = path.join(dir, "home");
  for (const d of [front, engine, home]) fs.mkdirSync(d, { recursive: true });
  linkOrCopy(pulumi, path.join(engine, "pulumi"));
  const langhost = path.join(path.dirname(pulumi), "pulumi-language-nodejs");
  wrap(
    wrapper,
    engine,
    "pulumi-language-nodejs",
    fs.existsSync(langhost) ? langhost : which(path.basename(langhost), envPath),
  );
  wrap(wrapper, front, "pulumi", path.join(engine, "pulumi"));
  wrap(wrapper, front, "node", which("node", envPath));
  wrappedHome(wrapper, realHome, home);
  return {
    ...env,
    PATH: `${front}${path.delimiter}${envPath}`,
    PULUMI_HOME: home,
    KEEL_BENCH_CGROUP: cgroupDir,
  };
}
