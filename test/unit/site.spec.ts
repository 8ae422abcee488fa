import { ValidationError, checkPlans, planAs, resolveSite, validateSiteArgs } from "@keel/core";
import { expect } from "chai";
import { planConfig, testSite } from "./fixtures";

describe("the site every platform shares", () => {
  it("fills every default once: small, fast/bulk, nginx in ingress-nginx, daily backups kept 7 days", () => {
    const site = resolveSite({ domain: "example.org" });
    expect(site.sizing.name).to.equal("small");
    expect(site.storageClasses).to.deep.equal({ fast: "fast", bulk: "bulk" });
    expect(site.ingress).to.deep.equal({
      className: "nginx",
      controllerNamespace: "ingress-nginx",
      skipAwait: false,
    });
    expect(site.backup).to.deep.equal({ schedule: "17 3 * * *", retain: 7 });
    expect(site).to.deep.include({ protectData: false, secretRotation: 0, airGapped: false, gpu: false });
  });

  it("keeps what is given and fills only the rest of a partial object", () => {
    const site = resolveSite({
      domain: "example.org",
      storageClasses: { bulk: "nfs" },
      ingress: { skipAwait: true },
    });
    expect(site.storageClasses).to.deep.equal({ fast: "fast", bulk: "nfs" });
    expect(site.ingress.skipAwait).to.equal(true);
    expect(site.ingress.className).to.equal("nginx");
  });

  it("reports every problem at once, each under the given prefix", () => {
    const problems = validateSiteArgs(
      {
        domain: "not a domain",
        sizing: "huge" as never,
        storageClasses: { fast: "" },
        ingress: { controllerNamespace: "Ingress" },
        backup: { retain: 0, schedule: "daily" },
        secretRotation: -1,
      },
      "keel:",
    );
    expect(problems.map((p) => p.field)).to.deep.equal([
      "keel:domain",
      "keel:sizing",
      "keel:storageClasses.fast",
      "keel:ingress.controllerNamespace",
      "keel:backup.retain",
      "keel:backup.schedule",
      "keel:secretRotation",
    ]);
    expect(() => resolveSite({ domain: "" })).to.throw(ValidationError, /domain: is required/);
  });

  it("is read by the program from stack config: a bad value is named by its keel: key", () => {
    expect(() => planConfig({ domain: "example.org", ingress: { className: "Nginx!" } })).to.throw(
      /keel:ingress\.className: must be an IngressClass name/,
    );
    const { cfg } = planConfig({ domain: "example.org", sizing: "large", gpu: true });
    expect(cfg.site.sizing.name).to.equal("large");
    expect(cfg.site.gpu).to.equal(true);
  });
});

describe("plans checked together", () => {
  const plan = (namespaces: string[], nodePorts: { port: number; protocol: "TCP" | "UDP" }[] = []) => ({
    site: testSite(),
    namespaces,
    demand: [],
    nodePorts,
    scrapeTargets: [],
    images: [],
  });

  it("refuses two platforms claiming one namespace, naming both", () => {
    const problems = checkPlans({ media: plan(["shared"]), webrtc: plan(["webrtc", "shared"]) });
    expect(problems.map((p) => p.message)).to.deep.equal([
      "keel:webrtc: namespace shared is also claimed by media; give one of them another namespace",
    ]);
  });

  it("refuses one node port opened twice, and allows the same number on TCP and UDP", () => {
    expect(
      checkPlans({
        a: plan(
          ["a"],
          [
            { port: 30083, protocol: "TCP" },
            { port: 30083, protocol: "UDP" },
          ],
        ),
      }),
    ).to.deep.equal([]);
    const problems = checkPlans({
      a: plan(["a"], [{ port: 30083, protocol: "UDP" }]),
      b: plan(["b"], [{ port: 30083, protocol: "UDP" }]),
    });
    expect(problems.map((p) => p.field)).to.deep.equal(["keel:b"]);
  });

  it("names a platform's setting by its keel: key, and leaves other errors alone", () => {
    const fail = (e: Error) => () =>
      planAs("keel:media", () => {
        throw e;
      });
    expect(fail(new ValidationError("app.timezone", "bad"))).to.throw(/^keel:media\.timezone: bad$/);
    expect(fail(new ValidationError("namespace", "bad"))).to.throw(/^namespace: bad$/);
    expect(fail(new TypeError("boom"))).to.throw(TypeError, "boom");
  });
});
