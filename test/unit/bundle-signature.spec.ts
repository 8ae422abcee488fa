import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadSigningKey, publicKeyFingerprint, signText } from "../../scripts/bundle/sign";
import { buildManifest, manifestName, signatureName } from "../../scripts/bundle/site/checksums";
import { repoRoot } from "./fixtures";

function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
    fs.chmodSync(to, 0o755);
  }
}

// The builder signs SHA256SUMS with Node's ed25519; the site checks it with its own openssl in deploy.sh,
// before anything from the bundle runs. A small bundle folder (deploy.sh, the site's tools, a file) is
// enough: deploy.sh stops at the kubeconfig, after the checks.
describe("bundle: signature checked at the site before anything runs", () => {
  const siteJs = path.join(repoRoot, "bin", "scripts", "bundle", "site");
  let dir: string;
  let bundle: string;
  const openssl = (...args: string[]) => spawnSync("openssl", args, { encoding: "utf8" });
  const keyPair = (name: string) => {
    const key = path.join(dir, `${name}.key`);
    expect(openssl("genpkey", "-algorithm", "ed25519", "-out", key).status).to.equal(0);
    expect(openssl("pkey", "-in", key, "-pubout", "-out", `${key}.pub`).status).to.equal(0);
    return { key, pub: `${key}.pub` };
  };

  function sign(keyFile: string): void {
    const text = buildManifest(bundle);
    fs.writeFileSync(path.join(bundle, manifestName), text);
    fs.writeFileSync(path.join(bundle, signatureName), signText(loadSigningKey(keyFile), text));
  }

  const deploy = (...args: string[]) =>
    spawnSync("bash", [path.join(bundle, "deploy.sh"), ...args], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin", HOME: dir },
    });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-signature-"));
    bundle = path.join(dir, "keel-s");
    fs.mkdirSync(path.join(bundle, "tools"), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, "scripts", "bundle", "deploy.sh"), path.join(bundle, "deploy.sh"));
    for (const f of fs.readdirSync(siteJs).filter((x) => x.endsWith(".js"))) {
      fs.copyFileSync(path.join(siteJs, f), path.join(bundle, "tools", f === "cli.js" ? "site.js" : f));
    }
    // The bundle's own Node.js (a link to this one), as `npm run bundle` ships it.
    fs.mkdirSync(path.join(bundle, "toolchain", "bin"), { recursive: true });
    linkOrCopy(process.execPath, path.join(bundle, "toolchain", "bin", "node"));
    fs.writeFileSync(path.join(bundle, "BUNDLE.json"), JSON.stringify({ stack: "s", project: "keel" }));
    const plugin = path.join(bundle, "pulumi-home", "plugins", "resource-x-v1.0.0");
    fs.mkdirSync(plugin, { recursive: true });
    fs.writeFileSync(path.join(plugin, "pulumi-resource-x"), "");
    fs.mkdirSync(path.join(bundle, "images", "blobs", "sha256"), { recursive: true });
    fs.writeFileSync(path.join(bundle, "images", "blobs", "sha256", "ab"), "layer");
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("accepts a bundle signed by the holder of the site's public key (openssl agrees with Node)", () => {
    const { key, pub } = keyPair("builder");
    sign(key);
    const r = deploy("--public-key", pub);
    expect(r.stderr).to.contain(`SHA256SUMS is signed by the holder of ${pub}`);
    expect(r.stderr).to.match(/\d+ files match SHA256SUMS; no unlisted file/);
    expect(r.stderr).to.contain("no kubeconfig"); // the next check: the signature and checksums passed
    const der = openssl("pkey", "-pubin", "-in", pub, "-outform", "DER");
    expect(der.status).to.equal(0);
    const fp = spawnSync("bash", ["-c", `openssl pkey -pubin -in '${pub}' -outform DER | sha256sum`], {
      encoding: "utf8",
    });
    expect(fp.stdout.split(" ")[0]).to.equal(publicKeyFingerprint(loadSigningKey(key)));
  });

  it("refuses another key's signature, a re-made SHA256SUMS, a changed image blob and an unsigned bundle", () => {
    const builder = keyPair("builder");
    const other = keyPair("other");
    sign(builder.key);
    const wrongKey = deploy("--public-key", other.pub);
    expect(wrongKey.status).to.equal(1);
    expect(wrongKey.stderr).to.contain("signature does not verify");

    const blob = path.join(bundle, "images", "blobs", "sha256", "ab");
    fs.writeFileSync(blob, "changed layer");
    const changed = deploy("--public-key", builder.pub);
    expect(changed.status).to.equal(1);
    expect(changed.stderr).to.contain("changed (1):\n    images/blobs/sha256/ab");
    // An attacker who also rewrites SHA256SUMS cannot sign it.
    fs.writeFileSync(path.join(bundle, manifestName), buildManifest(bundle));
    const remade = deploy("--public-key", builder.pub);
    expect(remade.status).to.equal(1);
    expect(remade.stderr).to.contain("signature does not verify");

    fs.rmSync(path.join(bundle, signatureName));
    expect(deploy("--public-key", builder.pub).stderr).to.contain("the bundle is not signed");
    const noKey = deploy();
    expect(noKey.status).to.equal(1);
    expect(noKey.stderr).to.contain("no public key to check the bundle's signature");
    const unsigned = deploy("--allow-unsigned");
    expect(unsigned.stderr).to.contain("origin is not checked (--allow-unsigned)");
    expect(unsigned.stderr).to.contain("no kubeconfig");
  });

  it("refuses a signing key that is not ed25519, naming the flag", () => {
    dir = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "keel-signature-"));
    const rsa = path.join(dir, "rsa.key");
    expect(
      openssl("genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:1024", "-out", rsa).status,
    ).to.equal(0);
    expect(() => loadSigningKey(rsa)).to.throw(/--sign-key: .* is a rsa key; an ed25519 key is needed/);
    expect(() => loadSigningKey(path.join(dir, "none.key"))).to.throw(/--sign-key: .* not found/);
  });
});
