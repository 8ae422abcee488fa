import { strict as assert } from "assert";
import { validateConfig } from "../src/core/config";
import { evaluateAll } from "../src/core/evaluate";
import { ALL_RULES } from "../src/registry";
import { container, find, findingsOf, hardened, hardenedConfig } from "./helpers";

describe("exemptions", () => {
  it("an exemption on the Namespace covers every object in it, and is reported as exempt", () => {
    const objects = hardened();
    container(find(objects, "Deployment", "api")).image = "registry.keel.internal/api:latest";
    find(objects, "Namespace", "platform").metadata!.annotations = {
      "exempt.keel.dev/mutable-image-tag": "preview environment tracks latest",
    };
    assert.deepEqual(
      findingsOf("mutable-image-tag", objects).map((f) => `${f.level} ${f.name}: ${f.message}`),
      [
        "exempt api: exempted (preview environment tracks latest) on namespace platform: image 'registry.keel.internal/api:latest' of container 'api' uses the mutable tag 'latest': pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)",
      ],
    );
  });

  it("an empty reason exempts nothing", () => {
    const objects = hardened();
    container(find(objects, "Deployment", "api")).image = "registry.keel.internal/api:latest";
    find(objects, "Deployment", "api").metadata!.annotations!["exempt.keel.dev/mutable-image-tag"] = "";
    assert.deepEqual(
      findingsOf("mutable-image-tag", objects).map((f) => f.level),
      ["mandatory"],
    );
    assert.deepEqual(
      findingsOf("exemption-has-reason", objects).map((f) => `${f.level} ${f.name}`),
      ["mandatory api"],
    );
  });

  it("an exemption that switches nothing off is still listed", () => {
    const objects = hardened();
    find(objects, "Deployment", "api").metadata!.annotations!["exempt.keel.dev/host-path"] =
      "mounts the docker socket in CI";
    const notes = findingsOf("host-path", objects);
    assert.deepEqual(
      notes.map((f) => `${f.level} ${f.kind} ${f.name}: ${f.message}`),
      [
        "exempt Deployment api: exempted (mounts the docker socket in CI); the rule reports nothing here at the moment",
      ],
    );
  });
});

describe("policy config", () => {
  it("per-rule levels override `all`, which overrides the defaults; disabled rules do not run", () => {
    const objects = hardened();
    delete container(find(objects, "Deployment", "api")).resources;
    const levels = (config: Record<string, unknown>) =>
      evaluateAll(objects, ALL_RULES, { ...hardenedConfig, ...config })
        .filter((f) => f.rule === "container-resources")
        .map((f) => f.level);
    assert.deepEqual(levels({}), ["mandatory"]);
    assert.deepEqual(levels({ all: "advisory" }), ["advisory"]);
    assert.deepEqual(levels({ all: "advisory", "container-resources": { enforcementLevel: "mandatory" } }), [
      "mandatory",
    ]);
    assert.deepEqual(levels({ "container-resources": "disabled" }), []);
  });

  it("validates config files", () => {
    assert.deepEqual(validateConfig(hardenedConfig, ALL_RULES), []);
    assert.deepEqual(
      validateConfig(
        {
          "no-such-rule": "mandatory",
          "capacity-fit": { clusterCPU: 4, enforcementLevel: "loud" },
          all: "strict",
        },
        ALL_RULES,
      ),
      [
        "unknown rule id 'no-such-rule'",
        "'capacity-fit': unknown setting 'clusterCPU'",
        "'capacity-fit': enforcement level must be mandatory, advisory or disabled, not 'loud'",
        "'all': enforcement level must be mandatory, advisory or disabled, not 'strict'",
      ],
    );
  });
});
