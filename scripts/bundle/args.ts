// Command line of `npm run bundle -- ...`.
import * as path from "path";

export interface BundleArgs {
  /** Stack name (Pulumi.<stack>.yaml). */
  stack: string;
  /** The archive to write (.tar.gz or .tgz), absolute. */
  out: string;
  /** A state export to carry forward (what the site's deploy script wrote), absolute. */
  state?: string;
  /** A backend URL to export the stack's state from instead (e.g. file:///srv/keel-state). */
  backend?: string;
  /** The stack config file, absolute. @default <repo>/Pulumi.<stack>.yaml */
  stackConfig?: string;
  /** Put the running Node.js binary into the bundle. @default true */
  node: boolean;
  /** Keep the staging folder (printed) for inspection. @default false */
  keepStaging: boolean;
  /** Copy the images into the bundle (an OCI image layout). @default false */
  images: boolean;
  /** Copy the images from this registry[/path] instead of their public registries (same paths). */
  imageMirror?: string;
  /** What the site's registry holds (the record its last deploy wrote): those images are left out. */
  siteImages?: string;
  /** An ed25519 private key (PEM): the bundle's SHA256SUMS is signed with it. */
  signKey?: string;
}

export const usage = `usage: npm run bundle -- --stack <name> --out <file.tar.gz> [options]

  --stack <name>          the stack to bundle (its config: Pulumi.<name>.yaml)
  --out <file>            the archive to write (.tar.gz or .tgz)
  --state <file>          carry this state export forward (the file the site's deploy.sh wrote)
  --backend <url>         or export the stack's state from this backend (file://...)
  --stack-config <file>   take the stack config from this file instead of Pulumi.<name>.yaml
  --no-node               leave Node.js out (the site must have Node.js 24 on PATH)
  --keep-staging          keep the staging folder
  --images                copy every image into the bundle (an OCI image layout, by digest, verified)
  --image-mirror <reg>    with --images: copy from <registry>[/<path>] instead of the public registries
  --site-images <file>    with --images: leave out the images the site holds (keel-<stack>-images.txt,
                          written by the site's last deploy.sh)
  --sign-key <file>       sign the bundle with this ed25519 private key (PEM; KEEL_BUNDLE_KEY_PASSPHRASE
                          if encrypted); the site checks it with deploy.sh --public-key
Without --state or --backend the bundle holds a new stack (first deployment).
Needs PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE: the passphrase of the stack's secrets
(the site uses the same one; it is never written into the bundle).`;

export class UsageError extends Error {}

const stackRe = /^[A-Za-z0-9_.-]{1,100}$/;

/** Parses the arguments; relative paths are resolved against `cwd`. Throws UsageError naming the problem. */
export function parseBundleArgs(argv: string[], cwd: string): BundleArgs {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  const withValue = [
    "--stack",
    "--out",
    "--state",
    "--backend",
    "--stack-config",
    "--image-mirror",
    "--site-images",
    "--sign-key",
  ];
  const booleans = ["--no-node", "--keep-staging", "--images"];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (withValue.includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === "" || (eq < 0 && value.startsWith("--"))) {
        throw new UsageError(`${name} needs a value`);
      }
      if (name in values) throw new UsageError(`${name} is given twice`);
      values[name] = value;
    } else if (booleans.includes(arg)) {
      flags.add(arg);
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  const stack = values["--stack"];
  if (!stack) throw new UsageError("--stack is required");
  if (!stackRe.test(stack)) {
    throw new UsageError(`--stack: ${JSON.stringify(stack)} is not a stack name (letters, digits, _ . -)`);
  }
  const out = values["--out"];
  if (!out) throw new UsageError("--out is required");
  if (!/\.(tar\.gz|tgz)$/.test(out))
    throw new UsageError(`--out: ${JSON.stringify(out)} must end in .tar.gz or .tgz`);
  if (values["--state"] && values["--backend"]) {
    throw new UsageError("--state and --backend both name a state: give one");
  }
  const backend = values["--backend"];
  if (backend !== undefined && !/^(file|s3|azblob|gs|https?):\/\//.test(backend)) {
    throw new UsageError(
      `--backend: ${JSON.stringify(backend)} is not a backend URL (e.g. file:///srv/keel-state)`,
    );
  }
  checkImageOptions(values, flags.has("--images"));
  const abs = (p?: string) => (p === undefined ? undefined : path.resolve(cwd, p));
  return {
    stack,
    out: abs(out)!,
    state: abs(values["--state"]),
    backend,
    stackConfig: abs(values["--stack-config"]),
    node: !flags.has("--no-node"),
    keepStaging: flags.has("--keep-staging"),
    images: flags.has("--images"),
    imageMirror: values["--image-mirror"]?.replace(/\/+$/, ""),
    siteImages: abs(values["--site-images"]),
    signKey: abs(values["--sign-key"]),
  };
}

const registryRe = /^[a-z0-9.-]+(:\d{1,5})?(\/[a-z0-9._-]+)*\/?$/;

function checkImageOptions(values: Record<string, string>, images: boolean): void {
  for (const o of ["--image-mirror", "--site-images"]) {
    if (values[o] !== undefined && !images) throw new UsageError(`${o} needs --images`);
  }
  const mirror = values["--image-mirror"];
  if (mirror !== undefined && !registryRe.test(mirror)) {
    throw new UsageError(`--image-mirror: ${JSON.stringify(mirror)} is not a registry host[:port][/path]`);
  }
}
