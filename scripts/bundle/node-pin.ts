import * as fs from "fs";
import * as path from "path";

/** The Node.js version the project pins (scripts/node/pins.sh), e.g. "24.22.3". */
export function pinnedNodeVersion(repo: string): string {
  const pins = fs.readFileSync(path.join(repo, "scripts", "node", "pins.sh"), "utf8");
  const match = /^KEEL_NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(pins);
  if (!match) throw new Error("scripts/node/pins.sh sets no KEEL_NODE_VERSION=<x.y.z>");
  return match[1]!;
}

/**
 * Why a bundle must not ship `running` (process.version), or undefined when it is the pinned version: the
 * bundle carries the Node.js that builds it, and a site cannot patch what it was given.
 */
export function nodeToShipProblem(running: string, pinned: string): string | undefined {
  if (running === `v${pinned}`) return undefined;
  return (
    `the bundle would ship Node.js ${running}, not the pinned v${pinned} (scripts/node/pins.sh): ` +
    "run it as `npm run bundle -- ...`, which puts the pinned Node.js first on PATH, or pass --no-node"
  );
}
