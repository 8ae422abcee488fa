// Running the toolchain from the bundle builder.
import { SpawnSyncReturns, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BundleError } from "./stack-file";

/** Runs a command; throws BundleError with the output's tail when it fails. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; what: string },
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
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

/** The toolchain environment (scripts/toolchain/build.sh, warm in a second): pulumi on PATH, PULUMI_HOME. */
export function toolchainEnv(repo: string): NodeJS.ProcessEnv {
  const r = run("bash", ["-c", 'eval "$(scripts/toolchain/build.sh)" && env -0'], {
    cwd: repo,
    what: "scripts/toolchain/build.sh",
  });
  return Object.fromEntries(
    r.stdout
      .split("\0")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

export function which(env: NodeJS.ProcessEnv, name: string): string | undefined {
  for (const dir of (env.PATH ?? "").split(":")) {
    const p = path.join(dir, name);
    if (dir && fs.existsSync(p)) return p;
  }
  return undefined;
}

/**
 * The mandatory policy violations (with their explanation lines) and errors in a human-readable
 * `pulumi preview` output: what to show when a preview fails (its --json output names neither).
 */
export function previewProblems(output: string): string[] {
  const lines = output.split("\n");
  const problems: string[] = [];
  lines.forEach((line, i) => {
    if (/^\s*- \[mandatory\]/.test(line)) {
      const detail = lines.slice(i + 1, i + 3).filter((l) => /^\s{6,}\S/.test(l) && !/^\s*- \[/.test(l));
      problems.push([line.trim(), ...detail.map((d) => `  ${d.trim()}`)].join("\n"));
    } else if (/^\s*error: /.test(line) && !/error: preview failed/.test(line)) {
      // An exception's message follows on the next lines, before its stack trace.
      const rest: string[] = [];
      for (const next of lines.slice(i + 1, i + 8)) {
        if (next.trim() === "" || /^\s*(at |error: |\S+ \(.*\):$)/.test(next)) break;
        rest.push(`  ${next.trim()}`);
      }
      problems.push([line.trim(), ...rest].join("\n"));
    }
  });
  return problems;
}
