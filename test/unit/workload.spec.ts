import { ValidationError, Workload, validateWorkloadArgs } from "@keel/core";
import { expect } from "chai";
import { get, installMocks, ofType, settle } from "./harness";
import { workloadArgs } from "./fixtures";

describe("Workload", () => {
  beforeEach(() => installMocks());

  it("runs non-root with a read-only root filesystem, no privilege escalation, ALL dropped and RuntimeDefault seccomp", async () => {
    new Workload("web", workloadArgs());
    const pod = get(await settle(), "Deployment", "web").inputs.spec.template.spec;
    const sc = pod.containers[0].securityContext;
    expect(sc).to.include({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
    });
    expect(sc.capabilities.drop).to.deep.equal(["ALL"]);
    expect(sc.capabilities.add).to.equal(undefined);
    expect(sc.seccompProfile.type).to.equal("RuntimeDefault");
    expect(pod.securityContext).to.include({
      runAsNonRoot: true,
      fsGroup: 65532,
      fsGroupChangePolicy: "OnRootMismatch",
    });
    expect(pod.initContainers).to.equal(undefined);
  });

  it("uses its own ServiceAccount without a mounted token", async () => {
    new Workload("web", workloadArgs());
    const res = await settle();
    expect(get(res, "ServiceAccount", "web-sa").inputs.automountServiceAccountToken).to.equal(false);
    expect(get(res, "Deployment", "web").inputs.spec.template.spec.automountServiceAccountToken).to.equal(
      false,
    );
  });

  it("always sets requests and limits and all three probes with their timing", async () => {
    new Workload("web", workloadArgs());
    const c = get(await settle(), "Deployment", "web").inputs.spec.template.spec.containers[0];
    expect(c.resources).to.deep.equal({
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    });
    expect(c.startupProbe).to.deep.include({ periodSeconds: 5, failureThreshold: 12 });
    expect(c.readinessProbe.httpGet).to.deep.include({ path: "/ready", port: 8080 });
    expect(c.livenessProbe).to.deep.include({
      initialDelaySeconds: 0,
      periodSeconds: 10,
      failureThreshold: 3,
    });
  });

  it("refuses a workload without limits or probes, naming the field", () => {
    const noLimits = validateWorkloadArgs("x", workloadArgs({ resources: undefined as never }));
    expect(noLimits.map((p) => p.field)).to.include("resources");
    const noProbes = validateWorkloadArgs("x", workloadArgs({ probes: undefined as never }));
    expect(noProbes.map((p) => p.field)).to.include("probes");
    expect(() => new Workload("bad", workloadArgs({ probes: undefined as never }))).to.throw(
      ValidationError,
      /probes/,
    );
  });

  it("refuses slow liveness failure detection (90 s + 30 s × 5) as in the RabbitMQ audit", () => {
    const slow = workloadArgs({
      probes: {
        ...workloadArgs().probes,
        liveness: {
          exec: { command: ["rabbitmq-diagnostics", "ping"] },
          initialDelaySeconds: 90,
          periodSeconds: 30,
          failureThreshold: 5,
        },
      },
    });
    const problems = validateWorkloadArgs("rabbitmq", slow);
    expect(problems).to.have.length(1);
    expect(problems[0].field).to.equal("probes.liveness");
    expect(problems[0].message).to.match(/240s/);
  });

  it("refuses a startup budget shorter than the declared boot time", () => {
    const problems = validateWorkloadArgs("tts", workloadArgs({ bootSeconds: 300 }));
    expect(problems.map((p) => p.field)).to.deep.equal(["probes.startup"]);
    expect(problems[0].message).to.match(/allows 60s to start but the app needs 300s/);
  });

  it("refuses credentials as literal environment values", () => {
    const problems = validateWorkloadArgs(
      "app",
      workloadArgs({
        env: { DB_PASSWORD: "hunter2", POSTGRES_DSN: "postgresql://u:p%40ss@db:5432/x", LOG_LEVEL: "info" },
      }),
    );
    expect(problems.map((p) => p.field).sort()).to.deep.equal(["env.DB_PASSWORD", "env.POSTGRES_DSN"]);
  });

  it("passes secrets as secretKeyRef, never as values", async () => {
    new Workload("web", workloadArgs({ secretEnv: { API_KEY: { secretName: "web-keys", key: "api" } } }));
    const env = get(await settle(), "Deployment", "web").inputs.spec.template.spec.containers[0].env;
    expect(env).to.deep.include({
      name: "API_KEY",
      valueFrom: { secretKeyRef: { name: "web-keys", key: "api" } },
    });
  });

  it("refuses root and root-group users", () => {
    const problems = validateWorkloadArgs("x", workloadArgs({ runAsUser: 0, fsGroup: 0 }));
    expect(problems.map((p) => p.field)).to.deep.equal(["runAsUser", "fsGroup"]);
  });

  it("creates no PDB for a single replica, one for replicas > 1 and one for critical singletons", async () => {
    new Workload("one", workloadArgs());
    new Workload("two", workloadArgs({ replicas: 2 }));
    new Workload("db", workloadArgs({ critical: true }));
    const pdbs = ofType(await settle(), "PodDisruptionBudget");
    expect(pdbs.map((p) => p.name).sort()).to.deep.equal(["db-pdb", "two-pdb"]);
    expect(pdbs.find((p) => p.name === "two-pdb")!.inputs.spec.maxUnavailable).to.equal(1);
    expect(pdbs.find((p) => p.name === "db-pdb")!.inputs.spec.minAvailable).to.equal(1);
  });

  it("creates an HPA targeting the Deployment when it autoscales, leaving the replica count to it", async () => {
    new Workload(
      "api",
      workloadArgs({ autoscaling: { minReplicas: 2, maxReplicas: 10, memoryUtilization: 80 } }),
    );
    const res = await settle();
    const hpa = get(res, "HorizontalPodAutoscaler", "api-hpa").inputs.spec;
    expect(hpa).to.deep.include({ minReplicas: 2, maxReplicas: 10 });
    expect(hpa.scaleTargetRef).to.deep.equal({ apiVersion: "apps/v1", kind: "Deployment", name: "api" });
    expect(hpa.metrics.map((m: any) => m.resource.name)).to.deep.equal(["cpu", "memory"]);
    const deployment = get(res, "Deployment", "api").inputs;
    // kube-score deployment-targeted-by-hpa-does-not-have-replicas-configured: the HPA owns the count.
    expect(deployment.spec).to.not.have.property("replicas");
    expect(deployment.metadata.annotations["keel.dev/scalable"]).to.equal("true");
    expect(get(res, "PodDisruptionBudget", "api-pdb")).to.exist;
  });

  it("refuses autoscaling for StatefulSets with data, allows it for stateless ones (stable names only)", () => {
    const data = [{ name: "data", mountPath: "/data", size: "1Gi", storageClass: "fast" }];
    const problems = validateWorkloadArgs(
      "s",
      workloadArgs({
        kind: "StatefulSet",
        autoscaling: { minReplicas: 1, maxReplicas: 3 },
        persistentVolumes: data,
      }),
    );
    expect(problems.map((p) => p.field)).to.deep.equal(["autoscaling"]);
    expect(
      validateWorkloadArgs(
        "s",
        workloadArgs({ kind: "StatefulSet", autoscaling: { minReplicas: 1, maxReplicas: 3 } }),
      ),
    ).to.deep.equal([]);
  });

  it("allows ingress only from named peers on exposed ports, and egress only where declared", async () => {
    new Workload(
      "api",
      workloadArgs({
        ports: [
          { name: "http", port: 8080 },
          { name: "metrics", port: 9090, expose: false },
        ],
        allowFrom: [{ app: "frontend" }, { namespace: "ingress-nginx" }],
        egressTo: [{ app: "postgres", ports: [5432] }],
      }),
    );
    const spec = get(await settle(), "NetworkPolicy", "api-netpol").inputs.spec;
    expect(spec.policyTypes).to.deep.equal(["Ingress", "Egress"]);
    expect(spec.ingress).to.have.length(2);
    expect(spec.ingress[0].from[0].podSelector.matchLabels).to.deep.equal({
      "app.kubernetes.io/name": "frontend",
    });
    expect(spec.ingress[1].from[0].namespaceSelector.matchLabels).to.deep.equal({
      "kubernetes.io/metadata.name": "ingress-nginx",
    });
    expect(spec.ingress[0].ports).to.deep.equal([{ port: 8080, protocol: "TCP" }]);
    expect(spec.egress).to.deep.equal([
      {
        to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres" } } }],
        ports: [{ port: 5432, protocol: "TCP" }],
      },
    ]);
  });

  it("puts StatefulSet data on claim templates with an explicit storage class, retained on delete", async () => {
    new Workload(
      "db",
      workloadArgs({
        kind: "StatefulSet",
        persistentVolumes: [{ name: "data", mountPath: "/data", size: "10Gi", storageClass: "fast" }],
      }),
    );
    const res = await settle();
    const sts = get(res, "StatefulSet", "db").inputs.spec;
    expect(sts.volumeClaimTemplates[0].spec.storageClassName).to.equal("fast");
    expect(sts.persistentVolumeClaimRetentionPolicy).to.deep.equal({
      whenDeleted: "Retain",
      whenScaled: "Retain",
    });
    expect(get(res, "Service", "db-svc").inputs.spec.clusterIP).to.equal("None");
  });

  it('refuses a PVC without a storage class (the audit\'s storageClassName: "")', () => {
    const problems = validateWorkloadArgs(
      "db",
      workloadArgs({
        kind: "StatefulSet",
        persistentVolumes: [{ name: "data", mountPath: "/data", size: "10Gi", storageClass: "" }],
      }),
    );
    expect(problems.map((p) => p.field)).to.deep.equal(["persistentVolumes[0].storageClass"]);
  });

  it("gives Deployments with volumes a retained PVC and the Recreate strategy", async () => {
    new Workload(
      "app",
      workloadArgs({
        persistentVolumes: [{ name: "config", mountPath: "/config", size: "1Gi", storageClass: "fast" }],
      }),
    );
    const res = await settle();
    expect(get(res, "PersistentVolumeClaim", "app-config").inputs.spec.storageClassName).to.equal("fast");
    expect(get(res, "Deployment", "app").inputs.spec.strategy.type).to.equal("Recreate");
  });

  it("records a capability exception and its reason as a policy exemption", async () => {
    new Workload(
      "turn",
      workloadArgs({ capabilities: { add: ["NET_ADMIN"], reason: "TURN relay needs raw sockets" } }),
    );
    const d = get(await settle(), "Deployment", "turn").inputs;
    expect(d.spec.template.spec.containers[0].securityContext.capabilities).to.deep.equal({
      drop: ["ALL"],
      add: ["NET_ADMIN"],
    });
    expect(d.metadata.annotations["exempt.keel.dev/capabilities"]).to.equal("TURN relay needs raw sockets");
    expect(
      validateWorkloadArgs("t", workloadArgs({ capabilities: { add: ["NET_ADMIN"], reason: " " } }))[0].field,
    ).to.equal("capabilities.reason");
  });

  it("schedules GPU workloads on GPU nodes with the GPU as request and limit", async () => {
    new Workload("stt", workloadArgs({ gpus: 1 }));
    const pod = get(await settle(), "Deployment", "stt").inputs.spec.template.spec;
    expect(pod.containers[0].resources.limits["nvidia.com/gpu"]).to.equal("1");
    expect(pod.containers[0].resources.requests["nvidia.com/gpu"]).to.equal("1");
    expect(pod.nodeSelector).to.deep.equal({ "nvidia.com/gpu.present": "true" });
  });

  it("stores rendered config files in a ConfigMap of its own and rolls pods only when they change", async () => {
    new Workload(
      "a",
      workloadArgs({ configFiles: [{ name: "config", mountPath: "/etc/a", files: { "a.conf": "x=1\n" } }] }),
    );
    new Workload(
      "b",
      workloadArgs({ configFiles: [{ name: "config", mountPath: "/etc/b", files: { "b.conf": "x=1\n" } }] }),
    );
    new Workload(
      "c",
      workloadArgs({ configFiles: [{ name: "config", mountPath: "/etc/c", files: { "c.conf": "x=2\n" } }] }),
    );
    const res = await settle();
    const cm = get(res, "ConfigMap", "a-config").inputs;
    expect(cm.metadata.name).to.equal("a-config");
    expect(cm.data).to.deep.equal({ "a.conf": "x=1\n" });
    const pod = (n: string) => get(res, "Deployment", n).inputs.spec.template;
    expect(pod("a").spec.volumes).to.deep.include({ name: "config", configMap: { name: "a-config" } });
    const hash = (n: string) => pod(n).metadata.annotations["keel.dev/config-hash"];
    expect(hash("a")).to.match(/^[0-9a-f]{16}$/);
    expect(hash("a")).to.equal(hash("b"));
    expect(hash("a")).to.not.equal(hash("c"));
  });

  it("mounts a named ConfigMap as it is, without a config hash", async () => {
    new Workload(
      "d",
      workloadArgs({ configFiles: [{ name: "config", mountPath: "/etc/d", configMapName: "shared" }] }),
    );
    const res = await settle();
    expect(ofType(res, "ConfigMap")).to.deep.equal([]);
    const template = get(res, "Deployment", "d").inputs.spec.template;
    expect(template.spec.volumes).to.deep.include({ name: "config", configMap: { name: "shared" } });
    expect(template.metadata.annotations["keel.dev/config-hash"]).to.equal(undefined);
  });
});
