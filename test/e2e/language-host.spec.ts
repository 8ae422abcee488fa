import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { must, prepareEnvironment, root, tempDir } from "./harness";

// keel's language host (scripts/toolchain) is built from an old host's source; the engine now sends the
// project's `runtime.options` in each request, and a program that opts out of TypeScript must not get ts-node.
describe("the language host runs a program as its project says", function () {
  this.timeout(5 * 60 * 1000);
  let env: NodeJS.ProcessEnv;
  const fixtures = ["js-program", "ts-default-program"].map((f) => path.join(root, "test/e2e/fixtures", f));

  before(() => {
    env = prepareEnvironment({
      PULUMI_BACKEND_URL: `file://${tempDir("keel-e2e-langhost-")}`,
      PULUMI_CONFIG_PASSPHRASE: "keel-e2e-passphrase",
    });
    must(env, "pulumi", ["login", env.PULUMI_BACKEND_URL!]);
  });

  after(() => {
    for (const dir of fixtures) fs.rmSync(path.join(dir, "Pulumi.host.yaml"), { force: true });
  });

  /** The stack outputs of `up` on a fixture with no resources: what the program saw. */
  function outputs(dir: string): { typescriptEnv: string; tsNodeLoaded: boolean } {
    const at = ["--cwd", dir, "--stack", "host"];
    must(env, "pulumi", ["stack", "init", ...at, "--secrets-provider", "passphrase"]);
    must(env, "pulumi", ["up", "--yes", "--skip-preview", "--non-interactive", ...at]);
    const out = JSON.parse(must(env, "pulumi", ["stack", "output", "--json", ...at]).stdout);
    must(env, "pulumi", ["stack", "rm", "--yes", "--force", ...at]);
    return out;
  }

  it("does not load ts-node for a program whose Pulumi.yaml sets typescript: false", () => {
    expect(outputs(fixtures[0]!)).to.deep.equal({ typescriptEnv: "unset", tsNodeLoaded: false });
  });

  it("keeps TypeScript on when the project does not say (the host's default)", () => {
    expect(outputs(fixtures[1]!)).to.deep.equal({ typescriptEnv: "true", tsNodeLoaded: true });
  });
});
