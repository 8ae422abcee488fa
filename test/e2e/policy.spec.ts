import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { must, prepareEnvironment, root, run, tempDir } from "./harness";

// The policy pack under the real engine: values unknown at preview arrive as throwing proxies, and a
// program keel did not write must fail preview with the audits' findings.
describe("the policy pack at preview time", function () {
  this.timeout(10 * 60 * 1000);
  const fixture = path.join(root, "test/e2e/fixtures/bad-program");
  let env: NodeJS.ProcessEnv;

  after(() => {
    fs.rmSync(path.join(fixture, "Pulumi.bad.yaml"), { force: true });
  });

  before(() => {
    env = prepareEnvironment({
      PULUMI_BACKEND_URL: `file://${tempDir("keel-e2e-policy-")}`,
      PULUMI_CONFIG_PASSPHRASE: "keel-e2e-passphrase",
      KEEL_USE_OWN: "0",
    });
    must(env, "pulumi", ["login", env.PULUMI_BACKEND_URL!]);
    must(env, "pulumi", ["stack", "init", "bad", "--cwd", fixture, "--secrets-provider", "passphrase"]);
  });

  it("fails the preview of a defective program with the expected mandatory violations", () => {
    const r = run(env, "pulumi", [
      "preview",
      "--cwd",
      fixture,
      "--stack",
      "bad",
      "--non-interactive",
      "--policy-pack",
      path.join(root, "policy-pack"),
      "--policy-pack-config",
      path.join(root, "policy-pack/config/dev.json"),
    ]);
    const out = r.stdout + r.stderr;
    expect(r.status, out.slice(-4000)).to.not.equal(0);
    for (const rule of [
      "mutable-image-tag",
      "container-resources",
      "privileged-container",
      "configmap-secret",
      "pvc-storage-class",
      "container-probes",
    ]) {
      expect(out, rule).to.match(new RegExp(`\\[mandatory\\]\\s+${rule}\\b`));
    }
    expect(out).to.match(/cannot check during preview/);
    expect(out).not.to.match(/TypeError|unhandled|panic/i);
  });
});
