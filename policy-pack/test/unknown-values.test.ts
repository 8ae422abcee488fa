import { strict as assert } from "assert";
import type { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { unknownCheckingProxy } from "@pulumi/policy";
import { evaluateAll } from "../src/core/evaluate";
import { buildPolicies } from "../src/pack/policies";
import { ALL_RULES } from "../src/registry";
import { find, hardened, hardenedConfig } from "./helpers";

/** The engine's sentinels for unknown values (internal to @pulumi/policy, so not in its typings). */

const { unknownStringValue, unknownArrayValue, unknownObjectValue } =
  require("@pulumi/policy/proxy") as Record<string, string>;

/** Mimics the engine's UnknownValueError: thrown by a getter when a rule reads a computed value. */
class UnknownValueError extends Error {
  constructor(readonly props: string[]) {
    super(`string value at .${props.join(".")} can't be known during preview`);
    this.name = "UnknownValueError";
  }
}

function throwingGetter(target: Record<string, unknown>, key: string, path: string[]): void {
  Object.defineProperty(target, key, {
    enumerable: true,
    get: () => {
      throw new UnknownValueError(path);
    },
  });
}

describe("values unknown at preview", () => {
  it("every rule turns a throwing getter into one advisory per object instead of crashing", () => {
    const objects = hardened();
    const api = find(objects, "Deployment", "api");
    throwingGetter(api as Record<string, unknown>, "spec", ["spec"]);
    const cm = find(objects, "ConfigMap", "api-config");
    throwingGetter(cm as Record<string, unknown>, "data", ["data"]);
    const findings = evaluateAll(objects, ALL_RULES, hardenedConfig);
    assert.equal(
      findings.filter((f) => f.level === "mandatory").length,
      0,
      JSON.stringify(
        findings.filter((f) => f.level === "mandatory"),
        null,
        1,
      ),
    );
    const unknown = findings.filter((f) => f.message.startsWith("cannot check during preview"));
    assert.ok(unknown.length > 0);
    for (const f of unknown) {
      assert.equal(f.level, "advisory");
    }
    const forApi = unknown.filter((f) => f.name === "api" && f.rule === "container-resources");
    assert.deepEqual(
      forApi.map((f) => f.message),
      ["cannot check during preview: spec is unknown until the update runs"],
    );
    const forCm = unknown.filter((f) => f.name === "api-config" && f.rule === "configmap-secret");
    assert.deepEqual(
      forCm.map((f) => f.message),
      ["cannot check during preview: data is unknown until the update runs"],
    );
  });

  it("a Proxy that throws deep inside a pod spec is reported with its path", () => {
    const objects = hardened();
    const api = find(objects, "Deployment", "api");
    const spec = api.spec as Record<string, unknown>;
    api.spec = new Proxy(spec, {
      get(target, prop) {
        if (prop === "template") {
          throw new UnknownValueError(["spec", "template"]);
        }
        return Reflect.get(target, prop);
      },
    });
    const findings = evaluateAll(
      objects,
      ALL_RULES.filter((r) => r.id === "mutable-image-tag" || r.id === "pdb-required"),
      hardenedConfig,
    );
    assert.deepEqual(
      findings.map((f) => `${f.rule} ${f.level} ${f.name}: ${f.message}`),
      [
        "mutable-image-tag advisory api: cannot check during preview: spec.template is unknown until the update runs",
        "pdb-required advisory api: cannot check during preview: spec.template is unknown until the update runs",
      ],
    );
  });

  it("the pack reports the engine's own unknown-value proxies as advisory notes", () => {
    const policies = buildPolicies();
    const image = unknownStringValue;
    const props = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "keycloak", namespace: "platform", annotations: unknownObjectValue },
      spec: {
        replicas: 1,
        template: {
          metadata: { labels: { app: "keycloak" } },
          spec: { containers: [{ name: "keycloak", image, env: unknownArrayValue }] },
        },
      },
    };
    const resources = [
      {
        type: "kubernetes:apps/v1:Deployment",
        urn: "urn:pulumi:dev::keel::kubernetes:apps/v1:Deployment::keycloak",
        name: "keycloak",
        props: unknownCheckingProxy(props) as Record<string, unknown>,
      },
    ];
    const reported: unknown[] = [];
    const report = ((message: unknown, urn?: string) =>
      reported.push(typeof message === "string" ? { message, urn } : message)) as ReportViolation;
    for (const policy of policies as StackValidationPolicy[]) {
      const args = {
        resources,
        getConfig: () => ({}),
        stackTags: new Map(),
        notApplicable: () => {
          throw new Error("n/a");
        },
      } as unknown as StackValidationArgs;
      assert.doesNotThrow(() => policy.validateStack(args, report), `policy ${policy.name} threw`);
    }
    const notes = reported.filter((r): r is { message: string; enforcementLevel?: string; urn?: string } =>
      (r as { message: string }).message.includes("cannot check during preview"),
    );
    assert.ok(notes.length > 0);
    assert.ok(notes.every((n) => n.enforcementLevel === "advisory"));
    assert.ok(
      notes.some(
        (n) =>
          n.message ===
          "cannot check during preview: spec.template.spec.containers.0.image is unknown until the update runs",
      ),
      JSON.stringify(notes, null, 1),
    );
  });
});
