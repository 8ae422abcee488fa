/**
 * analyze-stack-replay <pack folder> <preview steps.json> [entry]: loads the policy pack's modules (`entry`,
 * by default package.json's `main`; pass the compiled modules for a bundled pack, which carries its own copy
 * of @pulumi/policy) with @pulumi/policy's gRPC server swapped for a catcher, and replays the
 * AnalyzeStack request a preview of those steps sends, through @pulumi/policy's own handler, in this process.
 * When the pack ships scripts/policy-server-patch.js (keel's does: its bundle carries @pulumi/policy's server.js
 * patched), the compiled modules get the same patched server.js, so the replay runs what the bundle runs.
 * Prints JSON: the pack's load time and the request's decode and analysis CPU time, which depend far less on
 * machine load than the wall time of a whole preview does.
 */
import * as fs from "fs";
import * as path from "path";
import { PreviewStep, urnName } from "./manifests";

interface ProtoModule {
  AnalyzeStackRequest: { new (): Message; deserializeBinary(b: Uint8Array): Message };
  AnalyzerResource: new () => Message;
  AnalyzerResourceOptions: new () => Message;
}
type Message = Record<string, (...args: unknown[]) => unknown>;

function cpuMs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

function packageMain(packDir: string): string {
  return (JSON.parse(fs.readFileSync(path.join(packDir, "package.json"), "utf8")) as { main: string }).main;
}

/** The pack's patched @pulumi/policy server.js, registered for its modules, or undefined when it ships no patch. */
function loadPolicyServer(packDir: string): unknown {
  const patch = path.join(packDir, "scripts", "policy-server-patch.js");
  if (!fs.existsSync(patch)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadPatchedServer } = require(patch) as {
    loadPatchedServer(file: string, register: boolean): unknown;
  };
  return loadPatchedServer(require.resolve("@pulumi/policy/server", { paths: [packDir] }), true);
}

async function main(packDir: string, stepsFile: string, entry?: string): Promise<void> {
  // Dynamic requires: the pack and its dependencies live in the pack's own node_modules.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const need = (id: string) => require(require.resolve(id, { paths: [packDir] }));
  const libraryCpu = process.cpuUsage();
  const server = (loadPolicyServer(packDir) ?? need("@pulumi/policy/server")) as Record<string, unknown>;
  const libraryCpuMs = cpuMs(libraryCpu);
  let served: { name: string; version: string; level: string; policies: unknown[] } | undefined;
  server.serve = (name: string, version: string, level: string, args: { policies: unknown[] }) => {
    served = { name, version, level, policies: args.policies };
  };
  const loadWall = process.hrtime.bigint();
  const loadCpu = process.cpuUsage();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(path.resolve(packDir, entry ?? packageMain(packDir)));
  const load = {
    libraryCpuMs,
    cpuMs: cpuMs(loadCpu),
    wallMs: Number(process.hrtime.bigint() - loadWall) / 1e6,
  };
  if (!served) throw new Error(`${packDir} did not construct a PolicyPack`);

  const proto = need("@pulumi/pulumi/proto/analyzer_pb") as ProtoModule;
  const { Struct } = need("google-protobuf/google/protobuf/struct_pb") as {
    Struct: { fromJavaScript(v: unknown): unknown };
  };
  const steps = JSON.parse(fs.readFileSync(stepsFile, "utf8")) as PreviewStep[];
  const request = new proto.AnalyzeStackRequest();
  for (const s of steps) {
    if (!s.newState) continue;
    const r = new proto.AnalyzerResource();
    r.setUrn!(s.urn);
    r.setType!(s.newState.type);
    r.setName!(urnName(s.urn));
    r.setProperties!(Struct.fromJavaScript(s.newState.inputs ?? {}));
    r.setOptions!(new proto.AnalyzerResourceOptions());
    request.addResources!(r);
  }
  const bytes = request.serializeBinary!() as Uint8Array;

  const makeHandler = server.makeAnalyzeStackRpcFun as (
    ...a: unknown[]
  ) => (call: unknown, cb: unknown) => void;
  const handler = makeHandler(served.name, served.version, served.level, served.policies);
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const decoded = proto.AnalyzeStackRequest.deserializeBinary(bytes);
  const decodeCpuMs = cpuMs(cpu);
  const response = await new Promise<Message>((resolve, reject) =>
    handler({ request: decoded }, (err: unknown, resp: Message) => (err ? reject(err) : resolve(resp))),
  );
  const result = {
    policies: served.policies.length,
    resources: steps.filter((s) => s.newState).length,
    requestBytes: bytes.length,
    load,
    decodeCpuMs,
    analyzeCpuMs: cpuMs(cpu) - decodeCpuMs,
    wallMs: Number(process.hrtime.bigint() - wall) / 1e6,
    diagnostics: (response.getDiagnosticsList!() as unknown[]).length,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

if (require.main === module) {
  const [packDir, stepsFile, entry] = process.argv.slice(2);
  if (!packDir || !stepsFile) {
    process.stderr.write("usage: analyze-stack-replay <pack folder> <preview steps.json> [entry module]\n");
    process.exit(2);
  }
  main(path.resolve(packDir), stepsFile, entry).catch((e) => {
    process.stderr.write(`analyze-stack-replay: ${(e as Error).stack}\n`);
    process.exit(1);
  });
}
