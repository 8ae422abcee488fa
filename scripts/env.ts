/** scripts/env.sh for Node.js callers (the e2e suites, the benchmark). */
import { spawnSync } from "child_process";

/**
 * The environment scripts/env.sh prepares from `base` (toolchain on PATH, PULUMI_HOME, the local cluster's
 * KUBECONFIG, offline switches), captured once. env.sh's progress goes to this process's stderr.
 */
export function toolchainEnvironment(root: string, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const r = spawnSync("bash", ["-c", ". scripts/env.sh && env -0"], {
    cwd: root,
    env: base,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error("scripts/env.sh failed: see the output above");
  return Object.fromEntries(
    r.stdout
      .split("\0")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}
