import { AiCorePlan, planAiCore, validateAiCoreArgs } from "@keel/ai-core";
import { ValidationError } from "@keel/core";
import { WebRtcPlan, planWebRtc, renderLiveKitConfig } from "@keel/webrtc";
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseStackConfig } from "../../program/config";
import { deploy, planStack } from "../../program/deploy";
import { get, installMocks, settle } from "./harness";
import { planConfig, repoRoot, testSite } from "./fixtures";

// What keel:airGapped implies for the stack's settings (issue #7, deliverable 3): a private registry and no
// ACME (already enforced), no external STUN, and mirrors instead of public model hubs and signature feeds.
const airGapped = {
  domain: "site.example.org",
  airGapped: true,
  imageRegistry: "registry.site.local:5000/mirror",
  platforms: ["aiCore", "webrtc", "microservices"],
};

/** The WebRTC and AI core plans of a stack, as the program plans them. */
function plans(raw: Record<string, unknown>) {
  const { plans } = planConfig(raw);
  return { webrtc: plans.webrtc as WebRtcPlan, aiCore: plans.aiCore as AiCorePlan };
}

function failure(raw: Record<string, unknown>): ValidationError {
  try {
    planConfig(raw);
  } catch (e) {
    expect(e).to.be.instanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error("expected planning the stack to throw");
}

describe("air-gapped stack settings", function () {
  this.timeout(60000);

  it("points LiveKit's clients at the stack's own STUN server (STUNner) instead of its public defaults", () => {
    // The WebRTC plan decides, from the site: the settings it builds LiveKit's config from.
    const site = testSite({ domain: "site.example.org", airGapped: true });
    expect(planWebRtc(site).settings.stunServers).to.deep.equal(["turn.site.example.org:3478"]);
    const own = planWebRtc(site, { app: { stunServers: ["stun.site.local:3478"] } });
    expect(own.settings.stunServers).to.deep.equal(["stun.site.local:3478"]);
    expect(planWebRtc(testSite()).settings.stunServers).to.deep.equal([]);
    // And so does the program's.
    expect(plans(airGapped).webrtc.settings.stunServers).to.deep.equal(["turn.site.example.org:3478"]);
    const explicit = plans({ ...airGapped, webrtc: { stunServers: ["stun.site.local:3478"] } });
    expect(explicit.webrtc.settings.stunServers).to.deep.equal(["stun.site.local:3478"]);
    const connected = plans({ domain: "example.org", platforms: ["webrtc"] });
    expect(connected.webrtc.settings.stunServers).to.deep.equal([]);
  });

  it("renders stun_servers into livekit.yaml only when there are some", () => {
    const input = {
      redisAddress: "r:6379",
      rtcTcpPort: 30081,
      rtcUdpPortStart: 30082,
      rtcUdpPortEnd: 30082,
      interfaces: ["eth0"],
    };
    expect(parse(renderLiveKitConfig(input)).rtc.stun_servers).to.equal(undefined);
    expect(
      parse(renderLiveKitConfig({ ...input, stunServers: ["turn.a.org:3478"] })).rtc.stun_servers,
    ).to.deep.equal(["turn.a.org:3478"]);
  });

  it("refuses STUN servers that are not host:port", () => {
    const e = failure({ ...airGapped, webrtc: { stunServers: ["stun:stun.l.google.com:19302"] } });
    expect(e.field).to.equal("keel:webrtc.stunServers");
  });

  it("refuses the public Hugging Face hub as model mirror; accepts the site's or none", () => {
    const hub = /"https:\/\/huggingface\.co" is the public Hugging Face hub; point it at the site's mirror/;
    const site = testSite({ airGapped: true });
    for (const modelMirror of ["https://huggingface.co", "https://cdn.hf.co/models"]) {
      const problems = validateAiCoreArgs(site, { app: { modelMirror } });
      expect(
        problems.map((p) => p.field),
        modelMirror,
      ).to.deep.equal(["app.modelMirror"]);
    }
    expect(() => planAiCore(site, { app: { modelMirror: "https://huggingface.co" } })).to.throw(hub);
    const e = failure({ ...airGapped, aiCore: { modelMirror: "https://huggingface.co" } });
    expect(e.field).to.equal("keel:aiCore.modelMirror");
    expect(e.message).to.match(hub);
    expect(
      plans({ ...airGapped, aiCore: { modelMirror: "https://hf.site.local:8443" } }).aiCore.settings
        .modelMirror,
    ).to.equal("https://hf.site.local:8443");
    expect(plans(airGapped).aiCore.settings.modelMirror).to.equal("");
    expect(failure({ ...airGapped, aiCore: { modelMirror: "ftp://x" } }).field).to.equal(
      "keel:aiCore.modelMirror",
    );
  });

  it("leaves a connected stack as it was: LiveKit's own STUN servers, any model mirror", () => {
    const connected = { domain: "example.org", platforms: ["aiCore", "webrtc"] };
    const p = plans({ ...connected, aiCore: { modelMirror: "https://huggingface.co" } });
    expect(p.aiCore.settings.modelMirror).to.equal("https://huggingface.co");
    expect(p.webrtc.settings.stunServers).to.deep.equal([]);
    expect(
      planAiCore(testSite(), { app: { modelMirror: "https://huggingface.co" } }).settings.modelMirror,
    ).to.equal("https://huggingface.co");
  });

  it("speech services fetch models from the mirror, with egress only to its port; offline without one", async () => {
    const render = async (modelMirror: string) => {
      await installMocks();
      deploy(parseStackConfig({ ...airGapped, platforms: ["aiCore"], gpu: true, aiCore: { modelMirror } }));
      return settle();
    };
    const env = (res: Awaited<ReturnType<typeof render>>, name: string) =>
      Object.fromEntries(
        get(res, "StatefulSet", name).inputs.spec.template.spec.containers[0].env.map((e: any) => [
          e.name,
          e.value,
        ]),
      );
    const mirrored = await render("https://hf.site.local:8443");
    for (const svc of ["ai-core-stt", "ai-core-tts"]) {
      expect(env(mirrored, svc)).to.deep.include({
        HF_ENDPOINT: "https://hf.site.local:8443",
        HF_HUB_OFFLINE: "0",
      });
      const egress = get(mirrored, "NetworkPolicy", `${svc}-netpol`).inputs.spec.egress;
      expect(egress.some((r: any) => r.ports?.some((p: any) => p.port === 8443))).to.equal(true);
    }
    const offline = await render("");
    for (const svc of ["ai-core-stt", "ai-core-tts"]) {
      expect(env(offline, svc)).to.deep.include({ HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1" });
      expect(env(offline, svc).HF_ENDPOINT).to.equal(undefined);
      const egress = get(offline, "NetworkPolicy", `${svc}-netpol`).inputs.spec.egress;
      expect(egress.some((r: any) => (r.to ?? []).some((t: any) => t.ipBlock))).to.equal(false);
    }
  });

  it("the example Pulumi.airgap.yaml is air-gapped, self-signed, behind the private registry", () => {
    const doc = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.airgap.yaml"), "utf8")) as {
      config: Record<string, unknown>;
    };
    const raw = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(/^keel:/, ""), v]));
    const cfg = parseStackConfig(raw);
    expect(cfg).to.deep.include({ airGapped: true, imageRegistry: "registry.site.local:5000/mirror" });
    expect(cfg.tls.mode).to.equal("selfSigned");
    expect((planStack(cfg).webrtc as WebRtcPlan).settings.stunServers).to.deep.equal([
      "turn.dev.keel.test:3478",
    ]);
  });
});
