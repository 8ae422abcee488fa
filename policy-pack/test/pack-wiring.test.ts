import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { buildPolicies, kubernetesObjects, reportFindings } from "../src/pack/policies";
import { apiVersionAndKind, toK8sObject } from "../src/pack/resource-conversion";
import { ALL_RULES, RESOURCE_RULES, STACK_RULES } from "../src/registry";
import { hardened } from "./helpers";

const SRC = path.resolve(__dirname, "..", "src");

function exportedRuleIds(folder: string): string[] {
  return fs
    .readdirSync(path.join(SRC, folder))
    .filter((f) => f.endsWith(".js"))
    .map((f) => f.replace(/\.js$/, ""))
    .sort();
}

describe("policy pack wiring", () => {
  it("rule ids are unique and kebab-case", () => {
    const ids = ALL_RULES.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) {
      assert.match(id, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
    }
  });

  it("every rule file is registered exactly once, under its file name", () => {
    assert.deepEqual(exportedRuleIds("rules"), RESOURCE_RULES.map((r) => r.id).sort());
    assert.deepEqual(exportedRuleIds("stack-rules"), STACK_RULES.map((r) => r.id).sort());
    assert.ok(RESOURCE_RULES.every((r) => r.scope === "resource"));
    assert.ok(STACK_RULES.every((r) => r.scope === "stack"));
  });

  it("every rule has a description, a level and config defaults for each schema key", () => {
    for (const rule of ALL_RULES) {
      assert.ok(rule.description.length > 20, rule.id);
      assert.ok(["mandatory", "advisory"].includes(rule.defaultLevel), rule.id);
      assert.ok(!("enforcementLevel" in rule.config.schema), rule.id);
      for (const f of rule.findings) {
        assert.match(f, /^F([1-9]|1[0-9]|2[0-4])$/, rule.id);
      }
    }
  });

  it("findings F1-F23 are each covered by at least one rule", () => {
    const covered = new Set(ALL_RULES.flatMap((r) => r.findings));
    for (let i = 1; i <= 23; i++) {
      assert.ok(covered.has(`F${i}`), `F${i} has no rule`);
    }
  });

  it("builds one CrossGuard stack policy per rule, named by the rule id", () => {
    const policies = buildPolicies();
    assert.deepEqual(
      policies.map((p) => p.name),
      ALL_RULES.map((r) => r.id),
    );
    for (const p of policies) {
      assert.equal(typeof p.validateStack, "function");
      assert.ok(p.enforcementLevel === "mandatory" || p.enforcementLevel === "advisory");
      if (p.configSchema) {
        assert.ok(Object.keys(p.configSchema.properties).length > 0);
      }
    }
  });

  it("maps Pulumi type tokens to apiVersion and kind", () => {
    assert.deepEqual(apiVersionAndKind("kubernetes:apps/v1:Deployment"), {
      apiVersion: "apps/v1",
      kind: "Deployment",
    });
    assert.deepEqual(apiVersionAndKind("kubernetes:core/v1:ConfigMap"), {
      apiVersion: "v1",
      kind: "ConfigMap",
    });
    assert.deepEqual(apiVersionAndKind("kubernetes:networking.k8s.io/v1:NetworkPolicy"), {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
    });
    assert.deepEqual(apiVersionAndKind("kubernetes:apiextensions.k8s.io:CustomResource"), {});
    assert.equal(apiVersionAndKind("kubernetes:helm.sh/v4:Chart"), undefined);
    assert.equal(apiVersionAndKind("kubernetes:apps/v1:DeploymentPatch"), undefined);
    assert.equal(apiVersionAndKind("pulumi:providers:kubernetes"), undefined);
    assert.equal(apiVersionAndKind("aws:s3/bucket:Bucket"), undefined);
    const custom = toK8sObject({
      type: "kubernetes:apiextensions.k8s.io:CustomResource",
      urn: "u",
      props: { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: "ca" } },
    });
    assert.equal(custom?.kind, "ClusterIssuer");
    assert.equal(custom?.metadata?.name, "ca");
  });

  it("runs the hardened set through the policies as the engine would: only exemptions, as advisory notes", () => {
    const resources = hardened().map((obj, i) => ({
      type: `kubernetes:${obj.apiVersion!.includes("/") ? obj.apiVersion : `core/${obj.apiVersion}`}:${obj.kind}`,
      urn: `urn:pulumi:dev::keel::kubernetes:${obj.kind}::${obj.metadata?.name}-${i}`,
      name: String(obj.metadata?.name),
      props: obj as Record<string, unknown>,
    }));
    const config: Record<string, Record<string, unknown>> = {
      "capacity-fit": { clusterCpu: 32, clusterMemory: "128Gi" },
      "acme-air-gapped": { airGapped: true },
    };
    const reported: Array<{ policy: string; message: string; level: string; urn?: string }> = [];
    for (const policy of buildPolicies()) {
      const report = ((m: unknown, urn?: string) => {
        const entry =
          typeof m === "string"
            ? { message: m, level: "policy", urn }
            : {
                ...(m as { message: string; enforcementLevel: string; urn?: string }),
                level: (m as { enforcementLevel: string }).enforcementLevel,
              };
        reported.push({ policy: policy.name, message: entry.message, level: entry.level, urn: entry.urn });
      }) as ReportViolation;
      const args = {
        resources,
        getConfig: () => config[policy.name] ?? {},
        stackTags: new Map(),
      } as unknown as StackValidationArgs;
      const done = policy.validateStack(args, report);
      assert.equal(done, undefined, `${policy.name} validates synchronously`);
    }
    assert.deepEqual(
      reported.filter((r) => r.level !== "advisory"),
      [],
    );
    assert.deepEqual(reported.map((r) => r.policy).sort(), [
      "capabilities",
      "host-namespaces",
      "namespace-pod-security",
    ]);
    assert.ok(
      reported.every((r) => r.message.startsWith("[exempt] ") && r.urn?.startsWith("urn:pulumi:dev::keel::")),
    );
  });

  it("reports stack-wide findings without a URN and names objects the engine does not know", () => {
    const { urns } = kubernetesObjects([]);
    const calls: Array<[string, string | undefined]> = [];
    reportFindings(
      [
        {
          rule: "capacity-fit",
          level: "mandatory",
          kind: "Stack",
          namespace: "",
          name: "",
          message: "CPU limits too high",
        },
        {
          rule: "namespace-quota",
          level: "mandatory",
          kind: "Namespace",
          namespace: "x",
          name: "x",
          message: "add a ResourceQuota",
          subject: { kind: "Namespace", metadata: { name: "x" } },
        },
      ],
      urns,
      ((m: string, urn?: string) => calls.push([m, urn])) as ReportViolation,
    );
    assert.deepEqual(calls, [
      ["CPU limits too high", undefined],
      ["Namespace x/x: add a ResourceQuota", undefined],
    ]);
  });
});
