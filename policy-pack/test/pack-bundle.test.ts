import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { K8sObject } from "../src/core/k8s";
import { PACK_DIR, find, hardened } from "./helpers";

/** The pack the engine runs: package.json's main, one file built by scripts/bundle-pack.js. */
const bundler = require(path.join(PACK_DIR, "scripts", "bundle-pack.js")) as {
  PACK_BUNDLE: string;
  bundlePack(dir: string, entry: string, outfile: string): Promise<string[]>;
};
const grpc = require("@grpc/grpc-js") as {
  credentials: { createInsecure(): unknown };
};
const rpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb") as {
  AnalyzerClient: new (address: string, creds: unknown) => Client;
};
const proto = require("@pulumi/pulumi/proto/analyzer_pb") as {
  AnalyzeStackRequest: new () => Message;
  AnalyzerResource: new () => Message;
  AnalyzerResourceOptions: new () => Message;
};
const { Empty } = require("google-protobuf/google/protobuf/empty_pb") as { Empty: new () => Message };
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as {
  Struct: { fromJavaScript(v: unknown): unknown };
};

type Message = Record<string, (...args: unknown[]) => unknown>;
type Callback = (err: unknown, resp: Message) => void;
interface Client {
  getAnalyzerInfo(req: Message, cb: Callback): void;
  analyzeStack(req: Message, cb: Callback): void;
  close(): void;
}

/** keel's language host's launcher for a JavaScript pack (scripts/toolchain/langhost/analyzer_launcher.go). */
const LAUNCHER = `require(require.resolve("@pulumi/pulumi/cmd/run-policy-pack/run", { paths: [process.cwd()] }))
  .run({ argv: { _: [process.argv[1]] }, programStarted() {}, reportLoggedError() {}, typeScript: false });`;

/** Starts the pack in `dir` as the engine does and waits for the port its server writes. */
function servePack(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ["-e", LAUNCHER, dir], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) resolve({ port: Number(m[1]), child });
    });
    child.on("exit", (code) =>
      reject(new Error(`the pack in ${dir} exited (${code}) before serving:\n${err}`)),
    );
  });
}

/** A pack folder whose main is the compiled modules (bin/src/index.js): the pack before bundling. */
function modulesPack(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-pack-modules-"));
  const pkg = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8")) as Record<
    string,
    unknown
  >;
  pkg.main = path.join(PACK_DIR, "bin", "src", "index.js");
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg));
  fs.copyFileSync(path.join(PACK_DIR, "PulumiPolicy.yaml"), path.join(dir, "PulumiPolicy.yaml"));
  fs.symlinkSync(path.join(PACK_DIR, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

function call(client: Client, method: "getAnalyzerInfo" | "analyzeStack", req: Message): Promise<Message> {
  return new Promise((resolve, reject) => client[method](req, (e, r) => (e ? reject(e) : resolve(r))));
}

function request(objects: readonly K8sObject[]): Message {
  const req = new proto.AnalyzeStackRequest();
  objects.forEach((obj, i) => {
    const r = new proto.AnalyzerResource();
    r.setUrn!(`urn:pulumi:dev::keel::kubernetes:${obj.kind}::${obj.metadata?.name}-${i}`);
    r.setType!(
      `kubernetes:${obj.apiVersion!.includes("/") ? obj.apiVersion : `core/${obj.apiVersion}`}:${obj.kind}`,
    );
    r.setName!(String(obj.metadata?.name));
    r.setProperties!(Struct.fromJavaScript(JSON.parse(JSON.stringify(obj))));
    r.setOptions!(new proto.AnalyzerResourceOptions());
    req.addResources!(r);
  });
  return req;
}

/** What the pack served over gRPC: its policies and its findings on the hardened set with one defect. */
async function served(
  dir: string,
  objects: readonly K8sObject[],
): Promise<{ policies: string[]; findings: string[] }> {
  const { port, child } = await servePack(dir);
  const client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const info = await call(client, "getAnalyzerInfo", new Empty());
    const policies = (info.getPoliciesList!() as Message[]).map(
      (p) => `${p.getName!()} ${p.getEnforcementlevel!()}`,
    );
    const resp = await call(client, "analyzeStack", request(objects));
    const findings = (resp.getDiagnosticsList!() as Message[])
      .map((d) => `${d.getPolicyname!()} ${d.getEnforcementlevel!()} ${d.getUrn!()} ${d.getMessage!()}`)
      .sort();
    return { policies, findings };
  } finally {
    client.close();
    child.kill();
  }
}

describe("the policy pack as the engine runs it: one bundled file", function () {
  this.timeout(60000);

  it("package.json's main is the bundle, and npm pack ships it", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8")) as {
      main: string;
      files: string[];
    };
    assert.equal(path.join(PACK_DIR, pkg.main), bundler.PACK_BUNDLE);
    assert.ok(pkg.files.includes("bin/src/**/*.js"), "npm pack would leave the bundle out");
    assert.ok(fs.existsSync(bundler.PACK_BUNDLE), "run npm run build");
  });

  it("holds @pulumi/policy (server.js patched) and keel's rules, but not @pulumi/pulumi's index (its asset module instead)", async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "keel-pack-bundle-")), "index.js");
    const inputs = await bundler.bundlePack(PACK_DIR, "src/index.ts", out);
    assert.ok(
      inputs.some((i) => i.includes("node_modules/@pulumi/policy/server.js")),
      inputs.join("\n"),
    );
    assert.ok(inputs.some((i) => i === "src/index.ts"));
    assert.deepEqual(
      inputs.filter((i) => i.includes("node_modules/@pulumi/pulumi/")),
      [],
      "@pulumi/pulumi's files stay outside: the launcher has loaded the ones the pack needs",
    );
    const text = fs.readFileSync(out, "utf8");
    assert.doesNotMatch(text, /require\("@pulumi\/pulumi"\)/);
    assert.match(text, /require\("@pulumi\/pulumi\/asset"\)/);
    assert.match(text, /keelSharedResources\(resources, /, "@pulumi/policy's server.js carries the patch");
    assert.equal(
      text,
      fs.readFileSync(bundler.PACK_BUNDLE, "utf8"),
      "bin/src/index.bundle.js is stale: npm run build",
    );
  });

  it("serves the same policies and finds the same as the compiled modules, through the engine's launcher", async () => {
    const objects = hardened();
    const api = find(objects, "Deployment", "api") as {
      spec: { template: { spec: { containers: Array<Record<string, unknown>> } } };
    };
    delete api.spec.template.spec.containers[0]!.resources;
    const bundled = await served(PACK_DIR, objects);
    const modules = await served(modulesPack(), objects);
    assert.ok(bundled.policies.length > 40, bundled.policies.join("\n"));
    assert.deepEqual(bundled.policies, modules.policies);
    assert.deepEqual(bundled.findings, modules.findings);
    assert.ok(
      bundled.findings.some((f) => f.startsWith("container-resources ")),
      bundled.findings.join("\n"),
    );
  });
});
