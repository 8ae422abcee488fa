import { AiCore, AiCoreArgs, planAiCore, validateAiCoreArgs } from "@keel/ai-core";
import { Site } from "@keel/core";
import { expect } from "chai";
import { testSite, testTls } from "./fixtures";
import { Recorded, get, installMocks, ofType, settle, unwrap } from "./harness";

async function deployAiCore(site: Site, args: AiCoreArgs = {}): Promise<{ ai: AiCore; res: Recorded[] }> {
  await installMocks();
  const ai = new AiCore("ai-core", { plan: planAiCore(site, args), tls: testTls });
  return { ai, res: await settle() };
}

describe("the AI core platform", () => {
  it("plans its namespace, replicas and demand from the site, the speech services only with a GPU", () => {
    const small = planAiCore(testSite());
    expect(small.namespaces).to.deep.equal(["ai-core"]);
    expect(small.hosts).to.deep.equal({ assistant: "assistant.example.org", auth: "auth.example.org" });
    expect(small.demand.map((d) => `${d.name}×${d.replicas}`)).to.deep.equal([
      "ai-core/postgres×1",
      "ai-core/postgres-backup×1",
      "ai-core/redis×1",
      "ai-core/keycloak×1",
      "ai-core/orchestrator×3",
    ]);
    expect(small.nodePorts).to.deep.equal([]);
    const large = planAiCore(testSite({ sizing: "large", gpu: true }), { namespace: "assistant" });
    expect(large.namespaces).to.deep.equal(["assistant"]);
    expect(large.replicas).to.deep.equal({ keycloak: 2, orchestrator: { minReplicas: 2, maxReplicas: 10 } });
    expect(large.demand.map((d) => d.name)).to.include.members(["ai-core/stt", "ai-core/tts"]);
  });

  it("refuses bad settings under app.* and pools PostgreSQL cannot hold, before anything is created", () => {
    expect(() => planAiCore(testSite(), { app: { sttModel: "huge" } })).to.throw(/^app\.sttModel: /);
    const problems = validateAiCoreArgs(testSite(), { app: { orchestratorDbPoolSize: 40 } });
    expect(problems.map((p) => p.field)).to.deep.equal(["postgres.consumers"]);
    expect(problems[0].message).to.match(/orchestrator 40×3/);
  });

  it("builds from its plan: hosts, namespace, the generated Secrets' names", async () => {
    const { ai, res } = await deployAiCore(testSite({ gpu: true }));
    expect(ai.assistantUrl).to.equal("https://assistant.example.org");
    expect(ai.authUrl).to.equal("https://auth.example.org");
    expect(await unwrap(ai.namespace)).to.include({ value: "ai-core" });
    expect((await unwrap(ai.secretNames)).value).to.have.length(3);
    expect(ofType(res, "StatefulSet").map((s) => s.name)).to.include.members(["ai-core-stt", "ai-core-tts"]);
    const env = Object.fromEntries(
      get(res, "Deployment", "ai-core-orchestrator").inputs.spec.template.spec.containers[0].env.map(
        (e: any) => [e.name, e.value],
      ),
    );
    expect(env).to.deep.include({ KEYCLOAK_URL: "https://auth.example.org", STT_URL: "http://stt:8000" });
    const ingresses = ofType(res, "Ingress").map((i) => i.inputs.spec.rules[0].host);
    expect(ingresses.sort()).to.deep.equal(["assistant.example.org", "auth.example.org"]);
  });

  it("leaves the speech services out without a GPU", async () => {
    const { res } = await deployAiCore(testSite());
    expect(ofType(res, "StatefulSet").map((s) => s.name)).not.to.include("ai-core-stt");
    const orchestrator = get(res, "Deployment", "ai-core-orchestrator").inputs.spec.template.spec;
    expect(JSON.stringify(orchestrator.containers[0].env)).not.to.contain("STT_URL");
  });
});
