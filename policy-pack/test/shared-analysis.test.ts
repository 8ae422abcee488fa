import { strict as assert } from "assert";
import * as fs from "fs";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import type { K8sObject } from "../src/core/k8s";
import { buildPolicies, kubernetesObjects } from "../src/pack/policies";
import { plainProps, policyUnknownValues } from "../src/pack/plain-props";
import { SharedStack, shareDeserialization } from "../src/pack/shared-analysis";
import { find, hardened } from "./helpers";

// @pulumi/policy internals the engine path goes through (pinned at 1.21.0 in package.json).

interface PolicyServer {
  makeAnalyzeStackRpcFun(
    name: string,
    version: string,
    level: string,
    policies: StackValidationPolicy[],
  ): (call: unknown, cb: (err: unknown, resp: Message) => void) => void;
}
const server = require("@pulumi/policy/server") as PolicyServer;
// The server.js the pack's bundle carries (scripts/bundle-pack.js), compiled as a module of its own.
const serverPatch = require("../../scripts/policy-server-patch") as {
  patchPolicyServer(source: string): string;
  loadPatchedServer(file: string): PolicyServer;
};
const patchedServer = serverPatch.loadPatchedServer(require.resolve("@pulumi/policy/server"));
const deserialize = require("@pulumi/policy/deserialize") as {
  deserializeProperties: (s: unknown, proxySecrets: boolean) => unknown;
};
const proto = require("@pulumi/pulumi/proto/analyzer_pb") as {
  AnalyzeStackRequest: { new (): Message; deserializeBinary(b: Uint8Array): Message };
  AnalyzerResource: new () => Message;
  AnalyzerResourceOptions: new () => Message;
};
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as {
  Struct: { fromJavaScript(v: unknown): unknown };
};
const proxyModule = require("@pulumi/policy/proxy") as {
  unknownStringValue: string;
  unknownCheckingProxy(v: unknown): unknown;
  UnknownValueError: new (...a: unknown[]) => Error;
};
const { unknownStringValue } = proxyModule;

type Message = Record<string, (...args: unknown[]) => unknown>;

/** The AnalyzeStack request the engine would send for these objects, as decoded by the pack's gRPC server. */
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
  return proto.AnalyzeStackRequest.deserializeBinary(req.serializeBinary!() as Uint8Array);
}

/** Runs the request through @pulumi/policy's own AnalyzeStack handler; returns the diagnostics, sorted. */
async function analyzeStack(
  policies: StackValidationPolicy[],
  req: Message,
  through: PolicyServer = server,
): Promise<string[]> {
  const handler = through.makeAnalyzeStackRpcFun("keel", "0.1.0", "advisory", policies);
  const resp = await new Promise<Message>((resolve, reject) =>
    handler({ request: req }, (err, r) => (err ? reject(err) : resolve(r))),
  );
  return (resp.getDiagnosticsList!() as Message[])
    .map((d) => `${d.getPolicyname!()} ${d.getEnforcementlevel!()} ${d.getUrn!()} ${d.getMessage!()}`)
    .sort();
}

/** The hardened set with one defect (no resources) and one value unknown at preview (an image). */
function defective(): K8sObject[] {
  const objects = hardened();
  const api = find(objects, "Deployment", "api") as {
    spec: { template: { spec: { containers: Array<Record<string, unknown>> } } };
  };
  delete api.spec.template.spec.containers[0]!.resources;
  const worker = objects.find((o) => o.kind === "Deployment" && o !== (api as unknown)) as typeof api;
  worker.spec.template.spec.containers[0]!.image = unknownStringValue;
  return objects;
}

describe("one analysis per AnalyzeStack call", () => {
  it("reads plain copies in which an unknown throws @pulumi/policy's own error, with the proxy's path", () => {
    const unknown = policyUnknownValues();
    assert.ok(unknown, "@pulumi/policy/proxy has the expected shape");
    const props = { spec: { containers: [{ name: "a", image: unknownStringValue }], replicas: 2 } };
    const copy = plainProps(props, unknown) as typeof props;
    const viaProxy = proxyModule.unknownCheckingProxy(props) as typeof props;
    assert.equal(copy.spec.replicas, 2);
    assert.ok(Array.isArray(copy.spec.containers));
    assert.deepEqual(Object.keys(copy.spec.containers[0]!), ["name", "image"]);
    assert.notEqual(copy.spec, props.spec, "a copy, not the deserialized object itself");
    const thrown = (read: () => unknown) => {
      try {
        read();
      } catch (e) {
        return e as Error & { props: unknown[] };
      }
      return assert.fail("reading the unknown did not throw");
    };
    const fromCopy = thrown(() => copy.spec.containers[0]!.image);
    const fromProxy = thrown(() => viaProxy.spec.containers[0]!.image);
    assert.ok(fromCopy instanceof proxyModule.UnknownValueError);
    assert.equal(fromCopy.message, fromProxy.message);
    assert.deepEqual(fromCopy.props, fromProxy.props);
    assert.throws(() => JSON.stringify(copy), proxyModule.UnknownValueError);
  });

  it("deserializes each resource once for all policies and finds exactly what per-policy work finds", async () => {
    const objects = defective();
    let calls = 0;
    const original = deserialize.deserializeProperties;
    deserialize.deserializeProperties = (s, p) => {
      calls++;
      return original(s, p);
    };
    try {
      // The reference: every policy converts for itself and reads through @pulumi/policy's proxies.
      const alone = new SharedStack(kubernetesObjects, () => undefined);
      const expected = await analyzeStack(buildPolicies(undefined, alone), request(objects));
      const policies = buildPolicies().length;
      assert.equal(calls, objects.length * policies);
      assert.equal(alone.conversions, policies);

      calls = 0;
      const undo = shareDeserialization(deserialize);
      assert.ok(undo);
      try {
        const shared = new SharedStack(kubernetesObjects);
        const actual = await analyzeStack(buildPolicies(undefined, shared), request(objects));
        assert.equal(calls, objects.length);
        assert.equal(shared.conversions, 1);
        assert.deepEqual(actual, expected);
        // Something to compare: the defect as a mandatory violation, the unknown image as an advisory.
        assert.ok(
          expected.some((d) => d.startsWith("container-resources 1 ")),
          expected.join("\n"),
        );
        assert.ok(
          expected.some((d) => / 0 .*cannot check during preview/.test(d)),
          expected.join("\n"),
        );

        // A second call (a new request) is analysed afresh, not served from the first one's cache.
        const again = await analyzeStack(buildPolicies(undefined, shared), request(hardened()));
        assert.equal(shared.conversions, 2);
        assert.ok(!again.some((d) => d.startsWith("container-resources 1 ")));
      } finally {
        undo();
      }
    } finally {
      deserialize.deserializeProperties = original;
    }
  });

  it("shares only read-only deserialization, once, and can be undone", () => {
    const seen: boolean[] = [];
    const module = { deserializeProperties: (_s: unknown, p: boolean) => (seen.push(p), { value: 1 }) };
    const original = module.deserializeProperties;
    const undo = shareDeserialization(module)!;
    const struct = {};
    assert.equal(module.deserializeProperties(struct, false), module.deserializeProperties(struct, false));
    assert.notEqual(module.deserializeProperties(struct, true), module.deserializeProperties(struct, true));
    assert.notEqual(module.deserializeProperties({}, false), module.deserializeProperties(struct, false));
    assert.deepEqual(seen, [false, true, true, false]);
    assert.equal(shareDeserialization(module), undefined, "installing twice wraps twice");
    undo();
    assert.equal(module.deserializeProperties, original);
    assert.equal(shareDeserialization({}), undefined, "a module without deserializeProperties is left alone");
  });

  it("converts plain props (tests, the audit command) every time, so changed objects are seen", () => {
    const shared = new SharedStack(kubernetesObjects);
    const resources = hardened().map((obj, i) => ({
      type: `kubernetes:core/v1:${obj.kind}`,
      urn: `u${i}`,
      props: obj as Record<string, unknown>,
    }));
    shared.get(resources);
    shared.get(resources);
    assert.equal(shared.conversions, 2);
  });
});

describe("the bundle's @pulumi/policy server.js (scripts/policy-server-patch.js)", () => {
  /** The resources each of two policies is handed for one request, through `through`. */
  async function handedTo(through: PolicyServer, req: Message): Promise<PolicyResource[][]> {
    const seen: PolicyResource[][] = [];
    const recorder = (name: string): StackValidationPolicy => ({
      name,
      description: name,
      enforcementLevel: "advisory",
      validateStack: (args) => void seen.push(args.resources),
    });
    await analyzeStack([recorder("first"), recorder("second")], req, through);
    return seen;
  }

  it("builds a request's resource objects once for all policies, each policy with its own array", async () => {
    const req = request(hardened());
    const [a, b] = await handedTo(server, req);
    assert.notEqual(a![0], b![0], "@pulumi/policy as published builds them per policy");

    const [first, second] = await handedTo(patchedServer, req);
    assert.equal(first!.length, hardened().length);
    assert.notEqual(first, second, "each policy gets its own array");
    first!.forEach((r, i) => assert.equal(r, second![i]));
    assert.deepEqual(
      first!.map((r) => [r.urn, r.type, r.name, JSON.stringify(r.props), r.opts]),
      a!.map((r) => [r.urn, r.type, r.name, JSON.stringify(r.props), r.opts]),
    );
    const [next] = await handedTo(patchedServer, request(hardened()));
    assert.notEqual(next![0], first![0], "a new request gets new objects");
  });

  it("finds with keel's policies exactly what @pulumi/policy as published finds", async () => {
    const objects = defective();
    const undo = shareDeserialization(deserialize);
    try {
      const expected = await analyzeStack(buildPolicies(), request(objects));
      const actual = await analyzeStack(buildPolicies(), request(objects), patchedServer);
      assert.deepEqual(actual, expected);
      assert.ok(
        expected.some((d) => d.startsWith("container-resources 1 ")),
        expected.join("\n"),
      );
    } finally {
      undo?.();
    }
  });

  it("fails the build, naming what it missed, when server.js is not the one it was written for", () => {
    const source = fs.readFileSync(require.resolve("@pulumi/policy/server"), "utf8");
    assert.match(serverPatch.patchPolicyServer(source), /keelSharedResources\(resources, /);
    assert.throws(
      () =>
        serverPatch.patchPolicyServer(
          source.replace("const intermediates = [];", "const intermediates = new Array();"),
        ),
      /start of the per-policy resource block .* found 0 times, expected once; review policy-pack\/scripts\/policy-server-patch\.js/,
    );
  });
});
