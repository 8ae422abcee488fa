import { ValidationError } from "@keel/core";
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
  configKeys,
  parseStackConfig,
  providerSettings,
  rawFromAllConfig,
  validateProviderConfig,
} from "../../program/config";
import { planConfig, repoRoot, stackConfig } from "./fixtures";

const base = { domain: "example.org" };

function failure(raw: Record<string, unknown>): ValidationError {
  try {
    planConfig(raw);
  } catch (e) {
    expect(e).to.be.instanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error("expected planning the stack to throw");
}

describe("stack config", () => {
  it("fills secure defaults for every optional key", () => {
    const cfg = parseStackConfig(base);
    expect(cfg).to.deep.include({
      sizing: "small",
      gpu: false,
      airGapped: false,
      protectData: false,
      secretRotation: 0,
    });
    expect(cfg.tls).to.deep.equal({ mode: "selfSigned" });
    expect(cfg.storageClasses).to.deep.equal({ fast: "fast", bulk: "bulk" });
    expect(cfg.backup.retain).to.equal(7);
  });

  it("accepts the dev stack: small, GPU off", () => {
    const cfg = parseStackConfig(stackConfig("dev"));
    expect(cfg).to.deep.include({ sizing: "small", gpu: false });
  });

  it("accepts the prod stack: large sizes, GPU on, data protected", () => {
    const cfg = parseStackConfig(stackConfig("prod"));
    expect(cfg).to.deep.include({ sizing: "large", gpu: true, protectData: true });
  });

  it("documents every config key in the README", () => {
    const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
    for (const key of configKeys) expect(readme, key).to.contain(`keel:${key}`);
  });

  it("parses allConfig's string values and drops other namespaces", () => {
    const raw = rawFromAllConfig({
      "keel:gpu": "true",
      "keel:domain": "a.example.org",
      "aws:region": "x",
      "keel:backup": '{"retain":3}',
    });
    expect(raw).to.deep.equal({ gpu: true, domain: "a.example.org", backup: { retain: 3 } });
  });

  const invalid: [string, Record<string, unknown>, string, RegExp][] = [
    ["missing domain", {}, "keel:domain", /required/],
    ["bad domain", { domain: "not a domain" }, "keel:domain", /DNS domain/],
    ["unknown key", { ...base, domian: "x" }, "keel:domian", /not a known key/],
    ["unknown platform", { ...base, platforms: ["aiCore", "kafka"] }, "keel:platforms[1]", /one of aiCore/],
    ["duplicate platform", { ...base, platforms: ["aiCore", "aiCore"] }, "keel:platforms", /twice/],
    ["sizing", { ...base, sizing: "huge" }, "keel:sizing", /one of small, medium, large/],
    [
      "storage class",
      { ...base, storageClasses: { fast: "", bulk: "bulk" } },
      "keel:storageClasses.fast",
      /storage class/,
    ],
    [
      "storage class key",
      { ...base, storageClasses: { ssd: "x" } },
      "keel:storageClasses.ssd",
      /not a known key/,
    ],
    [
      "ingress class",
      { ...base, ingress: { className: "Nginx!" } },
      "keel:ingress.className",
      /IngressClass/,
    ],
    ["tls mode", { ...base, tls: { mode: "letsencrypt" } }, "keel:tls.mode", /selfSigned, provided, acme/],
    ["acme issuer", { ...base, tls: { mode: "acme" } }, "keel:tls.acmeClusterIssuer", /ClusterIssuer/],
    [
      "acme air-gapped",
      { ...base, airGapped: true, imageRegistry: "r.local", tls: { mode: "acme", acmeClusterIssuer: "le" } },
      "keel:tls.mode",
      /air-gapped/,
    ],
    ["provided without cert", { ...base, tls: { mode: "provided" } }, "keel:tls.mode", /tlsCertificate/],
    ["registry", { ...base, imageRegistry: "https://registry" }, "keel:imageRegistry", /registry host/],
    ["air-gapped without registry", { ...base, airGapped: true }, "keel:imageRegistry", /air-gapped/],
    [
      "mutable image override",
      { ...base, images: { redis: { tag: "latest" } } },
      "keel:images.redis.tag",
      /mutable/,
    ],
    ["unknown image", { ...base, images: { nginx: { tag: "1.2" } } }, "keel:images.nginx", /not a known key/],
    ["capacity nodes", { ...base, capacity: { nodes: [] } }, "keel:capacity.nodes", /non-empty/],
    [
      "capacity cpu",
      { ...base, capacity: { nodes: [{ count: 1, cpu: 0, memoryGi: 8 }] } },
      "keel:capacity.nodes[0].cpu",
      /from 1/,
    ],
    ["headroom", { ...base, capacity: { headroomPercent: 95 } }, "keel:capacity.headroomPercent", /0 to 90/],
    ["gpu type", { ...base, gpu: "yes" }, "keel:gpu", /true or false/],
    ["backup retain", { ...base, backup: { retain: 0 } }, "keel:backup.retain", /1 to 365/],
    ["backup schedule", { ...base, backup: { schedule: "daily" } }, "keel:backup.schedule", /cron/],
    ["rotation", { ...base, secretRotation: -1 }, "keel:secretRotation", /integer/],
    [
      "app setting range",
      { ...base, aiCore: { ttsVoiceCacheSize: 0 } },
      "keel:aiCore.ttsVoiceCacheSize",
      /1 to 100/,
    ],
    ["app setting key", { ...base, aiCore: { voiceCache: 3 } }, "keel:aiCore.voiceCache", /not a known key/],
  ];
  for (const [what, raw, field, message] of invalid) {
    it(`rejects ${what}, naming ${field}`, () => {
      const e = failure(raw);
      expect(e.field).to.equal(field);
      expect(e.message).to.match(message);
    });
  }
});

describe("Kubernetes provider settings", () => {
  const on = Object.fromEntries(providerSettings.map((k) => [k, "true"]));

  it("Pulumi.yaml turns each on for every stack", () => {
    const project = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")) as {
      config: Record<string, { value: unknown }>;
    };
    for (const key of providerSettings) expect(project.config[key]?.value, key).to.equal(true);
  });

  it("accepts a stack with both on", () => {
    expect(() => validateProviderConfig({ ...on, "keel:sizing": "small" })).not.to.throw();
  });

  for (const key of providerSettings) {
    for (const value of ["false", undefined]) {
      it(`refuses ${key} ${value ?? "unset"}, naming it`, () => {
        const all: Record<string, string> = { ...on };
        if (value === undefined) delete all[key];
        else all[key] = value;
        const e = (() => {
          try {
            validateProviderConfig(all);
          } catch (caught) {
            return caught as ValidationError;
          }
          throw new Error("no error");
        })();
        expect(e).to.be.instanceOf(ValidationError);
        expect(e.field).to.equal(key);
        expect(e.message).to.match(/must be true/);
      });
    }
  }
});
