import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import {
  killApiServer,
  kubectlJson,
  must,
  prepareEnvironment,
  root,
  run,
  runAsync,
  tempDir,
  waitFor,
} from "./harness";
import {
  drainEveryNode,
  drainStopsAtCriticalPods,
  expectAllReady,
  previewChanges,
  upgradeImage,
} from "./day2";
import { scaleDown, scaleProfile, scaleUp } from "./day2-scaling";
import { rotateSecrets } from "./day2-rotation";

// The real engine against the real API server: preview, up, readiness, PodSecurity, idempotence, secrets
// in state, unrelated config changes, destroy. Runs in order; each step builds on the previous one.
describe("the dev stack on a real API server", function () {
  this.timeout(30 * 60 * 1000);
  const stack = "dev";
  const stackFile = path.join(root, "Pulumi.dev.yaml");
  const original = fs.readFileSync(stackFile, "utf8");
  let env: NodeJS.ProcessEnv;
  const pulumi = (...args: string[]) => must(env, "pulumi", [...args, "--stack", stack, "--non-interactive"]);

  before(() => {
    const state = tempDir("keel-e2e-state-");
    env = prepareEnvironment({
      PULUMI_BACKEND_URL: `file://${state}`,
      PULUMI_CONFIG_PASSPHRASE: "keel-e2e-passphrase",
      KEEL_USE_OWN: "0",
    });
    expect(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).to.equal("true");
    expect(env.PULUMI_SKIP_UPDATE_CHECK).to.equal("true");
    // A fresh backend gets a fresh salt: drop one a local `npm start` may have written.
    fs.writeFileSync(stackFile, original.replace(/^encryptionsalt:.*\n/m, ""));
    must(env, "npm", ["run", "-s", "build"]);
    must(env, "pulumi", ["login", env.PULUMI_BACKEND_URL!]);
    must(env, "pulumi", ["stack", "init", stack, "--secrets-provider", "passphrase", "--non-interactive"]);
  });

  after(() => {
    // Whatever happened above, leave the cluster and the repository as they were.
    if (env) {
      run(env, "pulumi", ["destroy", "--yes", "--skip-preview", "--stack", stack, "--non-interactive"]);
      run(env, "pulumi", ["stack", "rm", stack, "--yes", "--force", "--non-interactive"]);
    }
    fs.writeFileSync(stackFile, original);
  });

  it("(a) previews", () => {
    const r = pulumi("preview", "--diff=false");
    expect(r.stdout).to.match(/\+ \d+ to create/);
  });

  it("(b) creates everything; every workload becomes ready and every pod is admitted under PodSecurity", () => {
    pulumi("up", "--yes", "--skip-preview");
    const namespaces = kubectlJson(env, [
      "get",
      "namespaces",
      "-l",
      "app.kubernetes.io/managed-by=keel",
    ]).items;
    expect(namespaces.length).to.be.greaterThan(0);
    for (const ns of namespaces) {
      const level = ns.metadata.labels["pod-security.kubernetes.io/enforce"];
      const exempt = ns.metadata.annotations?.["exempt.keel.dev/namespace-pod-security"];
      expect(level === "restricted" || Boolean(exempt), ns.metadata.name).to.equal(true);
    }
    const workloads = [
      ...kubectlJson(env, ["get", "deployments", "-A", "-l", "app.kubernetes.io/managed-by=keel"]).items,
      ...kubectlJson(env, ["get", "statefulsets", "-A", "-l", "app.kubernetes.io/managed-by=keel"]).items,
    ];
    expect(workloads.length).to.be.greaterThan(3);
    for (const w of workloads) {
      expect(w.status.readyReplicas ?? 0, `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`).to.equal(
        w.spec.replicas,
      );
    }
    const rejected = kubectlJson(env, [
      "get",
      "events",
      "-A",
      "--field-selector",
      "reason=FailedCreate",
    ]).items.filter((e: any) => /PodSecurity/.test(e.message));
    expect(rejected.map((e: any) => e.message)).to.deep.equal([]);
  });

  it("(b) really enforces PodSecurity: a privileged pod is refused in a keel namespace", () => {
    const ns = kubectlJson(env, ["get", "namespaces", "-l", "app.kubernetes.io/managed-by=keel"]).items[0]
      .metadata.name;
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "e2e-privileged", namespace: ns },
      spec: { containers: [{ name: "c", image: "busybox:1.37.0", securityContext: { privileged: true } }] },
    };
    const r = run(env, "kubectl", ["create", "-f", "-", "--dry-run=server"], { input: JSON.stringify(pod) });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/violates PodSecurity "restricted/);
  });

  it("(c) a second up changes nothing", () => {
    pulumi("up", "--yes", "--expect-no-changes", "--skip-preview");
  });

  let password: string;
  it("(d) state holds no generated secret in plain text while the Kubernetes Secret holds it", () => {
    const secret = kubectlJson(env, ["get", "secret", "postgres-credentials", "-n", "ai-core"]);
    password = Buffer.from(secret.data.password, "base64").toString("utf8");
    expect(password).to.have.length(32);
    const exported = pulumi("stack", "export").stdout;
    expect(exported).not.to.contain(password);
    expect(exported).to.contain("ciphertext");
    expect(pulumi("stack", "export", "--show-secrets").stdout).to.contain(password);
  });

  it("(e) an unrelated config change neither rotates secrets nor replaces stateful workloads", () => {
    const uids = () =>
      kubectlJson(env, ["get", "statefulsets", "-A", "-l", "app.kubernetes.io/managed-by=keel"]).items.map(
        (s: any) => s.metadata.uid,
      );
    const before = uids();
    pulumi("config", "set", "--path", "keel:aiCore.sessionTimeoutHours", "12");
    try {
      const preview = JSON.parse(pulumi("preview", "--json").stdout);
      const replaced = (preview.steps ?? []).filter((s: any) => /replace/.test(s.op)).map((s: any) => s.urn);
      expect(replaced).to.deep.equal([]);
      pulumi("up", "--yes", "--skip-preview");
      expect(uids()).to.deep.equal(before);
      const secret = kubectlJson(env, ["get", "secret", "postgres-credentials", "-n", "ai-core"]);
      expect(Buffer.from(secret.data.password, "base64").toString("utf8")).to.equal(password);
    } finally {
      pulumi("config", "rm", "--path", "keel:aiCore.sessionTimeoutHours");
    }
  });

  // Day 2 (docs/operations.md): each step is a runbook section, on the stack as the steps above left it.
  it("(g) a node drain outside a maintenance window stops only at single-replica critical pods", () => {
    drainStopsAtCriticalPods(env);
  });

  it("(g) in a maintenance window every node drains in turn, replicated workloads within their budgets", async () => {
    // Apply what (e) left in the stack's config (its setting removed after its up) before comparing.
    pulumi("up", "--yes", "--skip-preview");
    pulumi("config", "set", "keel:maintenance", "true");
    const changes = previewChanges(pulumi);
    expect(changes.length).to.be.greaterThan(5);
    for (const c of changes) expect(c).to.match(/^update PodDisruptionBudget /);
    pulumi("up", "--yes", "--skip-preview");
    await drainEveryNode(env);
    pulumi("config", "set", "keel:maintenance", "false");
    expect(previewChanges(pulumi).sort()).to.deep.equal([...changes].sort());
    pulumi("up", "--yes", "--skip-preview");
    pulumi("preview", "--expect-no-changes");
    expectAllReady(env);
  });

  it("(h) a new version of a pinned image rolls its workloads in place", async () => {
    await upgradeImage(env, pulumi, {
      key: "redis",
      repository: "docker.io/library/redis",
      tag: "8.2.2-bookworm",
    });
  });

  it("(i) a bigger profile is refused by the connection budget and the capacity, applies on more nodes and goes back", async () => {
    await scaleProfile(env, pulumi);
  });

  it("(i) more workers apply in place", async () => {
    await scaleUp(env, pulumi);
  });

  it("(i) back to the default worker count, in place, every claim kept", async () => {
    await scaleDown(env, pulumi);
  });

  it("(j) a secret rotation changes every generated value in place and restarts whatever reads them", async () => {
    await rotateSecrets(env, pulumi);
    const secret = kubectlJson(env, ["get", "secret", "postgres-credentials", "-n", "ai-core"]);
    const rotated = Buffer.from(secret.data.password, "base64").toString("utf8");
    expect(rotated).to.not.equal(password);
    // The recovery step below checks that nothing changes it again.
    password = rotated;
  });

  it("recovers from the API server dying in the middle of an update, losing nothing", async function () {
    this.timeout(20 * 60 * 1000);
    const statefulSets = () =>
      kubectlJson(env, ["get", "statefulsets", "-n", "ai-core"])
        .items.map((s: any) => s.metadata.uid)
        .sort();
    const before = statefulSets();
    // Take the media platform out, then put it back while the API server is killed mid-way.
    pulumi("config", "set", "keel:platforms", JSON.stringify(["aiCore", "osint", "webrtc", "microservices"]));
    pulumi("up", "--yes", "--skip-preview");
    pulumi(
      "config",
      "set",
      "keel:platforms",
      JSON.stringify(["aiCore", "osint", "media", "webrtc", "microservices"]),
    );
    const update = runAsync(env, "pulumi", [
      "up",
      "--yes",
      "--skip-preview",
      "--stack",
      stack,
      "--non-interactive",
    ]);
    await waitFor(() => run(env, "kubectl", ["get", "namespace", "media"]).status === 0, 120);
    killApiServer(env);
    const interrupted = await update.finished(300);
    expect(interrupted.status, "the interrupted update must not report success").to.not.equal(0);

    // The runbook (README "Recovering an interrupted update"): restart the API server, release the lock,
    // reconcile state with the cluster, run the update again.
    must(env, "bash", ["scripts/cluster/up.sh"]);
    run(env, "pulumi", ["cancel", "--yes", "--stack", stack, "--non-interactive"]);
    pulumi("refresh", "--yes", "--clear-pending-creates", "--skip-preview");
    pulumi("up", "--yes", "--skip-preview");
    pulumi("preview", "--expect-no-changes");
    const workloads = kubectlJson(env, ["get", "deployments,statefulsets", "-n", "media"]).items;
    expect(workloads.length).to.be.greaterThan(5);
    for (const w of workloads) expect(w.status.readyReplicas ?? 0, w.metadata.name).to.equal(w.spec.replicas);
    expect(statefulSets()).to.deep.equal(before);
    const secret = kubectlJson(env, ["get", "secret", "postgres-credentials", "-n", "ai-core"]);
    expect(Buffer.from(secret.data.password, "base64").toString("utf8")).to.equal(password);
  });

  it("(f) destroy removes everything; claimed volumes are retained", () => {
    const claimed = kubectlJson(env, ["get", "pv"]).items.filter(
      (pv: any) => pv.spec.claimRef?.namespace === "ai-core",
    );
    expect(claimed.length).to.be.greaterThan(0);
    pulumi("destroy", "--yes", "--skip-preview");
    expect(run(env, "kubectl", ["get", "namespace", "ai-core"]).status).to.not.equal(0);
    const left = kubectlJson(env, ["get", "pv"]).items.map((pv: any) => pv.metadata.name);
    for (const pv of claimed) expect(left, pv.metadata.name).to.include(pv.metadata.name);
    expect(JSON.parse(pulumi("stack", "export").stdout).deployment.resources ?? []).to.have.length.at.most(1);
  });
});
