// A registry on 127.0.0.1 served by crane (`crane registry serve`), and tiny images built without a container
// engine (`crane append` of a one-file layer): what the tests use as a source registry and as a site registry.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export interface LocalRegistry {
  /** 127.0.0.1:<port> */
  address: string;
  stop(): void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1", () => (c.destroy(), resolve(true)));
    c.on("error", () => resolve(false));
  });
}

/** Serves a registry on 127.0.0.1 (manifests in memory, blobs in `disk` when given) until stop(). */
export async function startRegistry(
  crane: string,
  opts: { port?: number; disk?: string } = {},
): Promise<LocalRegistry> {
  const port = opts.port ?? (await freePort());
  if (opts.disk) fs.mkdirSync(opts.disk, { recursive: true });
  const args = [
    "registry",
    "serve",
    "--address",
    `127.0.0.1:${port}`,
    ...(opts.disk ? ["--disk", opts.disk] : []),
  ];
  const child: ChildProcess = spawn(crane, args, { stdio: "ignore" });
  for (let i = 0; i < 100 && !(await answers(port)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await answers(port))) {
    child.kill();
    throw new Error(`crane registry serve did not answer on 127.0.0.1:${port}`);
  }
  return { address: `127.0.0.1:${port}`, stop: () => child.kill() };
}

/** Pushes a one-layer image holding `/keel-test-image.txt` with `content` to `reference`; returns its digest. */
export function buildTestImage(crane: string, reference: string, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-test-image-"));
  try {
    fs.writeFileSync(path.join(dir, "keel-test-image.txt"), content);
    const layer = path.join(dir, "layer.tar");
    const tar = spawnSync("tar", ["-cf", layer, "-C", dir, "keel-test-image.txt"], { encoding: "utf8" });
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
    const r = spawnSync(crane, ["append", "-f", layer, "-t", reference], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`crane append ${reference}: ${r.stderr}`);
    return spawnSync(crane, ["digest", reference], { encoding: "utf8" }).stdout.trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
