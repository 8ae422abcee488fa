import { strict as assert } from "assert";
import type { ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { buildPolicies } from "../../src/pack/policies";

/** container-probes through the CrossGuard wiring (pulumi preview): readiness depends on the stack's Services. */
describe("container-probes in the CrossGuard pack", () => {
  const deployment = (name: string, probes: Record<string, unknown>) => ({
    type: "kubernetes:apps/v1:Deployment",
    urn: `urn:pulumi:dev::keel::kubernetes:apps/v1:Deployment::${name}`,
    props: {
      metadata: { name, namespace: "jobs" },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name, image: "registry.keel.internal/app:1.0.0", ...probes }] },
        },
      },
    },
  });
  const service = (name: string, spec: Record<string, unknown>) => ({
    type: "kubernetes:core/v1:Service",
    urn: `urn:pulumi:dev::keel::kubernetes:core/v1:Service::${name}`,
    props: { metadata: { name, namespace: "jobs" }, spec },
  });
  const liveness = { livenessProbe: { exec: { command: ["true"] } } };

  function preview(
    resources: Array<{ type: string; urn: string; props: Record<string, unknown> }>,
  ): Array<{ level: string; urn?: string; message: string }> {
    const policy = buildPolicies().find((p) => p.name === "container-probes")!;
    const reported: Array<{ level: string; urn?: string; message: string }> = [];
    const report = ((m: unknown, urn?: string) => {
      reported.push(
        typeof m === "string"
          ? { level: "mandatory", urn, message: m }
          : {
              level: "advisory",
              urn: (m as { urn?: string }).urn,
              message: (m as { message: string }).message,
            },
      );
    }) as ReportViolation;
    const done = policy.validateStack(
      { resources, getConfig: () => ({}), stackTags: new Map() } as unknown as StackValidationArgs,
      report,
    );
    assert.equal(done, undefined, "container-probes validates the stack synchronously");
    return reported.sort((a, b) => a.message.localeCompare(b.message));
  }

  it("asks a queue worker for liveness only, and a Service-selected pod for readiness too", () => {
    const unknownSelector = service("later", {});
    Object.defineProperty(unknownSelector.props.spec, "selector", {
      enumerable: true,
      get: () => {
        throw new Error("value at .spec.selector can't be known during preview");
      },
    });
    const reported = preview([
      deployment("worker", {}),
      deployment("api", liveness),
      service("api", { selector: { app: "api" }, ports: [{ port: 80 }] }),
    ]);
    assert.deepEqual(reported, [
      {
        level: "mandatory",
        urn: "urn:pulumi:dev::keel::kubernetes:apps/v1:Deployment::worker",
        message: "add livenessProbe to container 'worker' (plus a startupProbe when it takes long to start)",
      },
      {
        level: "mandatory",
        urn: "urn:pulumi:dev::keel::kubernetes:apps/v1:Deployment::api",
        message: "add readinessProbe to container 'api' (plus a startupProbe when it takes long to start)",
      },
    ]);
    // A Service whose selector is unknown at preview may select the worker: a note, not a violation.
    const withUnknown = preview([deployment("worker", liveness), unknownSelector]);
    assert.deepEqual(withUnknown, [
      {
        level: "advisory",
        urn: "urn:pulumi:dev::keel::kubernetes:apps/v1:Deployment::worker",
        message: "cannot check during preview: spec.selector is unknown until the update runs",
      },
    ]);
  });
});
