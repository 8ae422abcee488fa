import { secretReason } from "@keel/core";
import { expect } from "chai";
import { parseStackConfig } from "../../program/config";
import { deploy } from "../../program/deploy";
import { Recorded, get, installMocks, ofType, podSpecs, settle, unwrap } from "./harness";
import { stackConfig } from "./fixtures";

async function run(stack: "dev" | "prod", overrides: Record<string, unknown> = {}, preview = false) {
  await installMocks(preview);
  const out = deploy(parseStackConfig({ ...stackConfig(stack), ...overrides }));
  return { out, res: await settle() };
}

function containers(res: Recorded[]) {
  return podSpecs(res).flatMap(({ owner, spec }) =>
    [...(spec.initContainers ?? []), ...spec.containers].map((c: any) => ({ owner, c, pod: spec })),
  );
}

for (const stack of ["dev", "prod"] as const) {
  describe(`the ${stack} stack`, () => {
    let res: Recorded[];
    before(async () => {
      res = (await run(stack)).res;
    });

    it("gives every container requests and limits for CPU and memory (F1)", () => {
      for (const { owner, c } of containers(res)) {
        for (const kind of ["requests", "limits"]) {
          expect(c.resources?.[kind]?.cpu, `${owner} ${kind}.cpu`).to.be.a("string");
          expect(c.resources?.[kind]?.memory, `${owner} ${kind}.memory`).to.be.a("string");
        }
      }
    });

    it("gives every long-running container startup, readiness and liveness probes detecting failure within 60 s (F2, F3)", () => {
      const running = containers(res).filter(
        ({ owner }) => !ofType(res, "CronJob").some((j) => j.name === owner),
      );
      expect(running.length).to.be.greaterThan(3);
      for (const { owner, c } of running) {
        expect(c.startupProbe, owner).to.exist;
        expect(c.readinessProbe, owner).to.exist;
        const l = c.livenessProbe;
        expect(l.initialDelaySeconds + l.periodSeconds * l.failureThreshold, owner).to.be.at.most(60);
      }
    });

    it("runs every pod non-root with fsGroup and no root init container (F7, F22)", () => {
      for (const { owner, c, pod } of containers(res)) {
        expect(pod.securityContext.runAsNonRoot, owner).to.equal(true);
        expect(pod.securityContext.fsGroup, owner).to.be.greaterThan(0);
        expect(c.securityContext.runAsNonRoot, owner).to.equal(true);
        expect(c.securityContext.allowPrivilegeEscalation, owner).to.equal(false);
        expect(c.securityContext.readOnlyRootFilesystem, owner).to.equal(true);
        expect(c.securityContext.capabilities.drop, owner).to.deep.equal(["ALL"]);
      }
    });

    it("pins every image to an exact version (F9)", () => {
      for (const { owner, c } of containers(res)) expect(c.image, owner).to.match(/:[\w.-]*\d[\w.-]*$/);
    });

    it("binds every PVC to a declared storage class (F4)", () => {
      const classes = ["fast", "bulk"];
      const claims = [
        ...ofType(res, "PersistentVolumeClaim").map((p) => p.inputs.spec.storageClassName),
        ...ofType(res, "StatefulSet").flatMap((s) =>
          (s.inputs.spec.volumeClaimTemplates ?? []).map((t: any) => t.spec.storageClassName),
        ),
      ];
      expect(claims.length).to.be.greaterThan(2);
      for (const c of claims) expect(classes).to.include(c);
    });

    it("keeps credentials out of ConfigMaps and literal env values (F5, F6)", () => {
      for (const cm of ofType(res, "ConfigMap")) {
        for (const [k, v] of Object.entries(cm.inputs.data ?? {}))
          expect(secretReason(k, String(v)), `${cm.name}/${k}`).to.equal(undefined);
        expect(JSON.stringify(cm.inputs)).not.to.contain("generated-");
      }
      for (const { owner, c } of containers(res)) {
        for (const e of c.env ?? []) {
          if (e.value !== undefined) {
            expect(secretReason(e.name, e.value), `${owner} ${e.name}`).to.equal(undefined);
            expect(e.value, `${owner} ${e.name}`).not.to.contain("generated-");
          }
        }
      }
    });

    it("gives every namespace PSS restricted, a quota, a LimitRange and default deny (F12, F13, F22)", () => {
      const namespaces = ofType(res, "kubernetes:core/v1:Namespace");
      expect(namespaces).to.not.be.empty;
      for (const ns of namespaces) {
        const name = ns.inputs.metadata.name;
        const level = ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"];
        // A weaker level is a documented exception (coturn's host network), never a silent one.
        if (level !== "restricted") {
          expect(ns.inputs.metadata.annotations["exempt.keel.dev/namespace-pod-security"], name).to.match(
            /\w/,
          );
        }
        for (const t of ["ResourceQuota", "LimitRange"]) {
          expect(
            ofType(res, t).filter((r) => r.inputs.metadata.namespace === name),
            `${t} in ${name}`,
          ).to.have.length(1);
        }
        const deny = ofType(res, "NetworkPolicy").filter(
          (n) =>
            n.inputs.metadata.namespace === name &&
            Object.keys(n.inputs.spec.podSelector).length === 0 &&
            n.inputs.spec.policyTypes.length === 2 &&
            !n.inputs.spec.ingress &&
            !n.inputs.spec.egress,
        );
        expect(deny, name).to.have.length(1);
      }
    });

    it("backs up every database with retention (F20)", () => {
      const dbs = [...ofType(res, "StatefulSet"), ...ofType(res, "Deployment")].filter(
        (w) => w.inputs.metadata.annotations?.["keel.dev/database"],
      );
      expect(dbs).to.not.be.empty;
      for (const db of dbs) {
        const id = db.inputs.metadata.annotations["keel.dev/database"];
        const job = ofType(res, "CronJob").find(
          (j) => j.inputs.metadata.annotations?.["keel.dev/backup-of"] === id,
        );
        expect(job, id).to.exist;
        expect(Number(job!.inputs.metadata.annotations["keel.dev/backup-retention"])).to.be.greaterThan(0);
        expect(job!.inputs.spec.concurrencyPolicy).to.equal("Forbid");
        expect(job!.inputs.spec.jobTemplate.spec.template.spec.containers[0].command.join(" ")).to.contain(
          "tail -n +",
        );
      }
    });
  });
}

describe("the AI-assistant core", () => {
  it("gives Keycloak limits and health probes on management port 9000", async () => {
    const { res } = await run("dev");
    const c = get(res, "Deployment", "ai-core-keycloak").inputs.spec.template.spec.containers[0];
    expect(c.resources.limits).to.deep.equal({ cpu: "1", memory: "2Gi" });
    expect(c.startupProbe.httpGet).to.deep.include({ path: "/health/started", port: 9000 });
    expect(c.readinessProbe.httpGet.path).to.equal("/health/ready");
    expect(c.livenessProbe.httpGet.path).to.equal("/health/live");
  });

  it("deploys no GPU services in dev", async () => {
    const { res } = await run("dev");
    expect(res.filter((r) => /-(stt|tts)$/.test(r.name))).to.deep.equal([]);
  });

  it("gives TTS a startup budget of at least 300 s and models on a PVC, not emptyDir (F2, F19)", async () => {
    const { res } = await run("prod");
    const tts = get(res, "StatefulSet", "ai-core-tts").inputs.spec;
    const s = tts.template.spec.containers[0].startupProbe;
    expect(s.initialDelaySeconds + s.periodSeconds * s.failureThreshold).to.be.at.least(300);
    expect(tts.volumeClaimTemplates.map((t: any) => t.metadata.name)).to.deep.equal(["models"]);
    expect(tts.template.spec.volumes.filter((v: any) => v.emptyDir && /model/.test(v.name))).to.deep.equal(
      [],
    );
    const env = Object.fromEntries(tts.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env).to.deep.include({ COQUI_TOS_AGREED: "1", HF_HUB_OFFLINE: "1", VOICE_CACHE_SIZE: "10" });
  });

  it("autoscales the orchestrator 2–10 in prod with a PDB", async () => {
    const { res } = await run("prod");
    expect(get(res, "HorizontalPodAutoscaler", "ai-core-orchestrator-hpa").inputs.spec).to.deep.include({
      minReplicas: 2,
      maxReplicas: 10,
    });
    expect(get(res, "PodDisruptionBudget", "ai-core-orchestrator-pdb")).to.exist;
    expect(get(res, "Deployment", "ai-core-keycloak").inputs.spec.replicas).to.equal(2);
  });

  it("passes the configured pool and cache sizes to the services", async () => {
    const { res } = await run("dev", { aiCore: { orchestratorHttpPoolSize: 50, keycloakDbPoolSize: 15 } });
    const env = (name: string) =>
      Object.fromEntries(
        get(res, "Deployment", name).inputs.spec.template.spec.containers[0].env.map((e: any) => [
          e.name,
          e.value,
        ]),
      );
    expect(env("ai-core-orchestrator").HTTP_POOL_MAX_CONNECTIONS).to.equal("50");
    expect(env("ai-core-keycloak").KC_DB_POOL_MAX_SIZE).to.equal("15");
  });

  it("refuses pools that exceed PostgreSQL's connection budget before registering anything", async () => {
    await installMocks();
    const cfg = parseStackConfig({ ...stackConfig("prod"), aiCore: { orchestratorDbPoolSize: 20 } });
    expect(() => deploy(cfg)).to.throw(/connection pools need 240/);
    expect(await settle()).to.deep.equal([]);
  });

  it("refuses a stack that does not fit the declared capacity before registering anything", async () => {
    await installMocks();
    const cfg = parseStackConfig({
      ...stackConfig("dev"),
      capacity: { nodes: [{ count: 1, cpu: 2, memoryGi: 4 }] },
    });
    expect(() => deploy(cfg)).to.throw(/capacity/);
    expect(await settle()).to.deep.equal([]);
  });

  it("rewrites every image to the private registry", async () => {
    const { res, out } = await run("dev", { imageRegistry: "registry.site.local:5000" });
    for (const { owner, c } of containers(res))
      expect(c.image, owner).to.match(/^registry\.site\.local:5000\//);
    expect(out.images.every((i) => i.startsWith("registry.site.local:5000/"))).to.equal(true);
  });

  it("generates passwords with @pulumi/random, keeps them secret and stores them only in Secrets", async () => {
    const { res } = await run("dev");
    const passwords = ofType(res, "random:index/randomPassword:RandomPassword");
    expect(passwords.length).to.be.at.least(4);
    for (const p of passwords) expect(p.inputs.keepers).to.deep.equal({ rotation: "0" });
    const inSecrets = JSON.stringify(ofType(res, "kubernetes:core/v1:Secret").map((s) => s.inputs));
    for (const p of passwords) expect(inSecrets).to.contain(`generated-${p.name}`);
    const elsewhere = JSON.stringify(
      res.filter((r) => !/Secret$|RandomPassword$/.test(r.type)).map((r) => r.inputs),
    );
    for (const p of passwords) expect(elsewhere).not.to.contain(`generated-${p.name}`);
  });

  it("rotates generated secrets only when secretRotation changes", async () => {
    const { res } = await run("dev", { secretRotation: 2 });
    const fixed = ofType(res, "RandomPassword").filter((p) => p.inputs.keepers.rotation !== "2");
    // The values whose software keeps them in its data (README, "Generated secrets") stay at rotation 0.
    expect(fixed.map((p) => [p.name, p.inputs.keepers])).to.deep.equal(
      fixed.map((p) => [p.name, { rotation: "0" }]),
    );
    expect(fixed.map((p) => p.name).sort()).to.deep.equal([
      "ai-core-keycloak-admin-password",
      "osint-kibana-keys-saved-objects-key",
      "osint-neo4j-credentials-password",
      "osint-rabbitmq-credentials-password",
    ]);
  });

  it("issues ingress certificates from the private CA in self-signed mode and exports the CA certificate", async () => {
    const { res, out } = await run("dev");
    const tlsSecrets = ofType(res, "kubernetes:core/v1:Secret").filter(
      (s) => s.inputs.type === "kubernetes.io/tls",
    );
    const aiCoreTls = tlsSecrets.map((s) => s.inputs.metadata.name).filter((n) => n.startsWith("ai-core-"));
    expect(aiCoreTls.sort()).to.deep.equal(["ai-core-assistant-ingress-tls", "ai-core-auth-ingress-tls"]);
    expect(ofType(res, "SelfSignedCert")).to.have.length(1);
    for (const ing of ofType(res, "Ingress")) expect(ing.inputs.spec.tls[0].secretName).to.match(/-tls$/);
    expect((await unwrap(out.caCertificate!)).value).to.contain("BEGIN CERTIFICATE");
  });

  it("uses the cluster issuer in ACME mode and creates no CA", async () => {
    const { res } = await run("dev", { tls: { mode: "acme", acmeClusterIssuer: "letsencrypt-prod" } });
    expect(ofType(res, "SelfSignedCert")).to.deep.equal([]);
    for (const ing of ofType(res, "Ingress")) {
      expect(ing.inputs.metadata.annotations["cert-manager.io/cluster-issuer"]).to.equal("letsencrypt-prod");
    }
  });

  it("exports namespaces, endpoints and Secret names, never secret values", async () => {
    const { out } = await run("dev");
    expect(out.endpoints).to.deep.include({
      assistant: "https://assistant.dev.keel.test",
      auth: "https://auth.dev.keel.test",
    });
    const names = await unwrap(out.generatedSecrets.aiCore);
    expect(names.value).to.deep.equal(["postgres-credentials", "redis-credentials", "keycloak-admin"]);
    expect(names.secret).to.equal(false);
  });

  it("registers the same resources in preview mode, where provider outputs are unknown", async () => {
    const preview = (await run("dev", {}, true)).res.map((r) => `${r.type}::${r.name}`).sort();
    const update = (await run("dev")).res.map((r) => `${r.type}::${r.name}`).sort();
    expect(preview).to.deep.equal(update);
  });
});

describe("generated secret values", () => {
  it("are secret outputs", async () => {
    await installMocks();
    const { GeneratedSecret } = await import("@keel/core");
    const s = new GeneratedSecret("s", { namespace: "x", generate: { token: {} } });
    expect((await unwrap(s.values.token)).secret).to.equal(true);
    expect(() => s.ref("nope")).to.throw(/no key "nope"/);
  });
});
