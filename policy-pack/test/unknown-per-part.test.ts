import { strict as assert } from "assert";
import type { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { unknownCheckingProxy } from "@pulumi/policy";
import { evaluateAll } from "../src/core/evaluate";
import type { Finding } from "../src/core/finding";
import type { K8sObject } from "../src/core/k8s";
import { buildPolicies } from "../src/pack/policies";
import { ALL_RULES } from "../src/registry";

/** The engine's sentinels for unknown values (internal to @pulumi/policy, so not in its typings). */

const { unknownStringValue, unknownArrayValue, unknownObjectValue } =
  require("@pulumi/policy/proxy") as Record<string, string>;

const SECURE = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};
const RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };

/** A Deployment in namespace `apps` with the given containers (plain objects, or engine proxies once wrapped). */
function deployment(name: string, containers: unknown[], replicas = 1): K8sObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "apps" },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { securityContext: { seccompProfile: { type: "RuntimeDefault" } }, containers },
      },
    },
  };
}

/** Runs the named rules over plain objects the way the audit command does. */
function run(objects: K8sObject[], ...ruleIds: string[]): string[] {
  const rules = ALL_RULES.filter((r) => ruleIds.includes(r.id));
  assert.equal(rules.length, ruleIds.length, `unknown rule among ${ruleIds.join(", ")}`);
  return evaluateAll(objects, rules, {}, { knownRuleIds: new Set(ALL_RULES.map((r) => r.id)) }).map(show);
}

function show(f: Finding): string {
  return `${f.rule} ${f.level} ${f.kind} ${f.name}: ${f.message}`;
}

/** Runs every policy of the pack over engine resources whose props are wrapped in the engine's unknown-checking proxy. */
function preview(
  objects: Array<{ type: string; props: Record<string, unknown> }>,
  config: Record<string, Record<string, unknown>> = {},
): Array<{ policy: string; level: string; message: string }> {
  const resources = objects.map((o, i) => ({
    type: o.type,
    urn: `urn:pulumi:dev::keel::${o.type}::r${i}`,
    name: `r${i}`,
    props: unknownCheckingProxy(o.props) as Record<string, unknown>,
  }));
  const reported: Array<{ policy: string; level: string; message: string }> = [];
  for (const policy of buildPolicies() as StackValidationPolicy[]) {
    const report = ((m: unknown) => {
      const entry =
        typeof m === "string"
          ? { message: m, level: "mandatory" }
          : {
              message: (m as { message: string }).message,
              level: (m as { enforcementLevel: string }).enforcementLevel,
            };
      reported.push({ policy: policy.name, ...entry });
    }) as ReportViolation;
    const args = {
      resources,
      getConfig: () => config[policy.name] ?? {},
      stackTags: new Map(),
    } as unknown as StackValidationArgs;
    assert.doesNotThrow(() => policy.validateStack(args, report), `policy ${policy.name} threw`);
  }
  return reported;
}

describe("values unknown at preview are handled per part", () => {
  it("a container with an unknown image does not hide the mutable tag of its sibling (throwing getter)", () => {
    const a: Record<string, unknown> = { name: "a", resources: RESOURCES, securityContext: SECURE };
    Object.defineProperty(a, "image", {
      enumerable: true,
      get: () => {
        const err = new Error(
          "string value at .spec.template.spec.containers.0.image can't be known during preview",
        );
        err.name = "UnknownValueError";
        throw err;
      },
    });
    const b = {
      name: "b",
      image: "docker.io/library/redis:latest",
      securityContext: { ...SECURE, privileged: true },
    };
    const findings = run(
      [deployment("api", [a, b])],
      "mutable-image-tag",
      "container-resources",
      "privileged-container",
    );
    assert.deepEqual(findings.sort(), [
      "container-resources mandatory Deployment api: set resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory on container 'b'",
      "mutable-image-tag advisory Deployment api: cannot check during preview: spec.template.spec.containers.0.image is unknown until the update runs",
      "mutable-image-tag mandatory Deployment api: image 'docker.io/library/redis:latest' of container 'b' uses the mutable tag 'latest': pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)",
      "privileged-container mandatory Deployment api: container 'b' runs privileged: remove securityContext.privileged",
    ]);
  });

  it("under the engine's own proxies, container B's definite violations are mandatory while A's unknown image is a note", () => {
    const props = deployment("api", [
      { name: "a", image: unknownStringValue, resources: RESOURCES, securityContext: SECURE },
      {
        name: "b",
        image: "docker.io/library/redis:latest",
        resources: RESOURCES,
        securityContext: { ...SECURE, runAsUser: 0 },
      },
    ]) as Record<string, unknown>;
    const reported = preview([{ type: "kubernetes:apps/v1:Deployment", props }]);
    const ofRule = (id: string) =>
      reported
        .filter((r) => r.policy === id)
        .map((r) => `${r.level}: ${r.message}`)
        .sort();
    assert.deepEqual(ofRule("mutable-image-tag"), [
      "advisory: cannot check during preview: spec.template.spec.containers.0.image is unknown until the update runs",
      "mandatory: image 'docker.io/library/redis:latest' of container 'b' uses the mutable tag 'latest': pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)",
    ]);
    assert.deepEqual(ofRule("run-as-non-root"), [
      "mandatory: container 'b' runs as root (runAsUser: 0): run it as a non-zero UID and set runAsNonRoot: true",
    ]);
    // Rules that do not read the image are not disturbed by it.
    assert.deepEqual(ofRule("container-resources"), []);
  });

  it("an unknown env entry does not hide a DSN with a password in the next entry", () => {
    const props = deployment("worker", [
      {
        name: "worker",
        image: "registry.internal/worker:1.4.2",
        env: [
          { name: "REDIS_URL", value: unknownStringValue },
          { name: "DATABASE_URL", value: "postgresql://app:s3cr3t-Pa55@postgres:5432/app" },
        ],
      },
    ]) as Record<string, unknown>;
    const reported = preview([{ type: "kubernetes:apps/v1:Deployment", props }]).filter(
      (r) => r.policy === "env-literal-secret",
    );
    assert.deepEqual(reported.map((r) => `${r.level}: ${r.message}`).sort(), [
      "advisory: cannot check during preview: spec.template.spec.containers.0.env.0.value is unknown until the update runs",
      "mandatory: env 'DATABASE_URL' of container 'worker' holds a connection string with a password: use valueFrom.secretKeyRef instead of value",
    ]);
  });

  it("an unknown ConfigMap key does not hide a password in another key", () => {
    const props = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: "apps" },
      data: {
        ENDPOINT: unknownStringValue,
        POSTGRES_DSN: "postgresql://juneadmin:juneP%40ssw0rd2024@postgres:5432/june_osint",
      },
    };
    const reported = preview([{ type: "kubernetes:core/v1:ConfigMap", props }]).filter(
      (r) => r.policy === "configmap-secret",
    );
    assert.deepEqual(reported.map((r) => `${r.level}: ${r.message}`).sort(), [
      "advisory: cannot check during preview: data.ENDPOINT is unknown until the update runs",
      "mandatory: data.POSTGRES_DSN contains a connection string with a password: move it to a Secret and reference it with secretKeyRef or a secret volume",
    ]);
  });

  it("an unknown annotation map is one note; a whole unknown container list is one note per list", () => {
    const props = deployment("api", unknownArrayValue as unknown as unknown[]) as Record<string, unknown>;
    (props.metadata as Record<string, unknown>).annotations = unknownObjectValue;
    const reported = preview([{ type: "kubernetes:apps/v1:Deployment", props }]);
    assert.deepEqual(
      reported.filter((r) => r.policy === "exemption-has-reason").map((r) => r.message),
      ["cannot check during preview: metadata.annotations is unknown until the update runs"],
    );
    assert.deepEqual(
      reported.filter((r) => r.policy === "container-resources").map((r) => r.message),
      ["cannot check during preview: spec.template.spec.containers is unknown until the update runs"],
    );
    assert.ok(reported.every((r) => r.level === "advisory" || !r.message.startsWith("cannot check")));
  });

  it("stack rules: a sidecar with an unknown image does not hide PostgreSQL's oversized shared_buffers", () => {
    const props = deployment("postgres", [
      { name: "exporter", image: unknownStringValue },
      {
        name: "postgres",
        image: "docker.io/library/postgres:16.4",
        args: ["-c", "shared_buffers=2GB"],
        resources: { limits: { cpu: "2", memory: "4Gi" } },
      },
    ]) as Record<string, unknown>;
    const reported = preview([{ type: "kubernetes:apps/v1:Deployment", props }]).filter(
      (r) => r.policy === "postgres-memory",
    );
    assert.deepEqual(reported.map((r) => `${r.level}: ${r.message}`).sort(), [
      "advisory: cannot check during preview: spec.template.spec.containers.0.image is unknown until the update runs",
      "mandatory: shared_buffers 2Gi of container 'postgres' is 50% of its 4Gi memory limit: set shared_buffers ≤ 1Gi (25%)",
    ]);
  });

  it("stack rules: one workload with an unknown image does not hide another database without a backup", () => {
    const unknownImage = deployment("cache", [{ name: "cache", image: unknownStringValue }]) as Record<
      string,
      unknown
    >;
    const database = {
      ...deployment("mysql", [{ name: "mysql", image: "docker.io/library/mysql:8.4.2" }]),
      kind: "StatefulSet",
    } as Record<string, unknown>;
    const reported = preview([
      { type: "kubernetes:apps/v1:Deployment", props: unknownImage },
      { type: "kubernetes:apps/v1:StatefulSet", props: database },
    ]).filter((r) => r.policy === "backup-retention");
    assert.deepEqual(reported.map((r) => `${r.level}: ${r.message}`).sort(), [
      "advisory: cannot check during preview: spec.template.spec.containers.0.image is unknown until the update runs",
      "mandatory: no backup CronJob for database 'apps/mysql': add a CronJob annotated keel.dev/backup-of: apps/mysql and keel.dev/backup-retention: \"<n ≥ 1>\" (or annotate the workload keel.dev/database with its id)",
    ]);
  });

  it("stack rules: a total that already exceeds capacity is definite although one workload's resources are unknown", () => {
    const big = deployment(
      "big",
      [
        {
          name: "big",
          image: "registry.internal/big:2.0.1",
          resources: { requests: { cpu: "6", memory: "1Gi" }, limits: { cpu: "6", memory: "1Gi" } },
        },
      ],
      2,
    );
    const hidden = deployment("hidden", [
      { name: "hidden", image: "registry.internal/hidden:1.0.0", resources: unknownObjectValue },
    ]);
    const reported = preview(
      [
        { type: "kubernetes:apps/v1:Deployment", props: big as Record<string, unknown> },
        { type: "kubernetes:apps/v1:Deployment", props: hidden as Record<string, unknown> },
      ],
      { "capacity-fit": { clusterCpu: 8 } },
    ).filter((r) => r.policy === "capacity-fit");
    assert.deepEqual(reported.map((r) => r.level).sort(), ["advisory", "mandatory", "mandatory"]);
    assert.ok(
      reported.some(
        (r) => r.level === "mandatory" && r.message.startsWith("CPU requests total 12 cores at max replicas"),
      ),
      JSON.stringify(reported),
    );
    assert.ok(
      reported.some(
        (r) =>
          r.level === "advisory" &&
          r.message.endsWith(
            "cannot check during preview: spec.template.spec.containers.0.resources is unknown until the update runs",
          ),
      ),
      JSON.stringify(reported),
    );
  });

  it("stack rules: a NetworkPolicy with an unknown selector makes coverage unknown, unless a known policy covers the pods", () => {
    const app = deployment("api", [{ name: "api", image: "registry.internal/api:1.0.0" }]);
    const unknownPolicy = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-api", namespace: "apps" },
      spec: { podSelector: unknownObjectValue, policyTypes: ["Ingress", "Egress"] },
    };
    const denyAll = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny", namespace: "apps" },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    };
    const np = (o: object) => ({
      type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      props: o as Record<string, unknown>,
    });
    const dep = { type: "kubernetes:apps/v1:Deployment", props: app as Record<string, unknown> };
    const onlyUnknown = preview([dep, np(unknownPolicy)]).filter((r) => r.policy === "pod-network-policy");
    assert.deepEqual(
      onlyUnknown.map((r) => `${r.level}: ${r.message}`),
      ["advisory: cannot check during preview: spec.podSelector is unknown until the update runs"],
    );
    const withDeny = preview([dep, np(unknownPolicy), np(denyAll)]).filter(
      (r) => r.policy === "pod-network-policy",
    );
    assert.deepEqual(withDeny, []);
  });
});
