import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { describeUrn, parseEventLog } from "../src/cli/event-log";
import { SUMMARY_MARKER, main, renderSummary } from "../src/cli/pr-summary";
import { FIXTURES } from "./helpers";

const DEV = path.join(FIXTURES, "event-logs", "dev.jsonl");
const PROD = path.join(FIXTURES, "event-logs", "prod.jsonl");

describe("PR summary from the engine event log", () => {
  it("extracts policy events with their level, rule, resource and the message without the description line", () => {
    const violations = parseEventLog(fs.readFileSync(DEV, "utf8"), DEV);
    assert.equal(violations.length, 7);
    assert.deepEqual(violations[0], {
      policyName: "container-resources",
      policyPackName: "keel",
      resourceUrn: "urn:pulumi:dev::keel::keel:platform:Platform$kubernetes:apps/v1:Deployment::keycloak",
      message: "set resources.requests.cpu, resources.limits.memory on container 'keycloak'",
      level: "mandatory",
    });
    assert.deepEqual(
      violations.map((v) => v.level),
      ["mandatory", "mandatory", "mandatory", "mandatory", "exempt", "advisory", "advisory"],
    );
    assert.equal(violations[3]!.resourceUrn, undefined);
  });

  it("names resources from URNs", () => {
    assert.equal(
      describeUrn("urn:pulumi:dev::keel::keel:platform:Platform$kubernetes:apps/v1:Deployment::keycloak"),
      "Deployment keycloak",
    );
    assert.equal(describeUrn(undefined), "(stack)");
  });

  it("renders Markdown grouped by rule, then resource", () => {
    const markdown = renderSummary([
      { stack: "dev", violations: parseEventLog(fs.readFileSync(DEV, "utf8"), DEV) },
      { stack: "prod", violations: parseEventLog(fs.readFileSync(PROD, "utf8"), PROD) },
    ]);
    const expected = [
      SUMMARY_MARKER,
      "## Policy check: 4 mandatory, 2 advisory, 1 exempt",
      "",
      "### ❌ Stack `dev`: 4 mandatory, 2 advisory, 1 exempt",
      "",
      "| Rule | Level | Resources |",
      "| --- | --- | ---: |",
      "| `container-resources` | ❌ mandatory | 2 |",
      "| `capacity-fit` | ❌ mandatory | 1 |",
      "| `mutable-image-tag` | ❌ mandatory | 1 |",
      "| `configmap-secret` | ⚠️ advisory | 1 |",
      "| `read-only-root-filesystem` | ⚠️ advisory | 1 |",
      "| `host-namespaces` | ℹ️ exempt | 1 |",
      "",
      "<details open><summary>❌ <code>container-resources</code> (mandatory, 2)</summary>",
      "",
      "| Resource | What to change |",
      "| --- | --- |",
      "| `Deployment keycloak` | set resources.requests.cpu, resources.limits.memory on container 'keycloak' |",
      "| `Deployment tts` | set resources.limits.memory on container 'tts' |",
      "",
      "</details>",
      "",
    ].join("\n");
    assert.ok(markdown.startsWith(expected), markdown);
    assert.match(markdown, /\| `\(stack\)` \| CPU limits total 96 cores/);
    assert.match(markdown, /on container 'api' \\\| and mount/);
    assert.match(
      markdown,
      /### ✅ Stack `prod`: 0 mandatory, 0 advisory, 0 exempt\n\nNo policy violations\./,
    );
  });

  it("the command reads <stack>=<file> pairs and exits 2 on a missing file", () => {
    let out = "";
    let err = "";
    assert.equal(
      main(
        [`dev=${DEV}`],
        (t) => {
          out += t;
        },
        (t) => {
          err += t;
        },
      ),
      0,
    );
    assert.match(out, /Stack `dev`/);
    assert.equal(
      main(
        ["dev=/no/such/file.jsonl"],
        (t) => {
          out += t;
        },
        (t) => {
          err += t;
        },
      ),
      2,
    );
    assert.match(err, /no such file/);
    assert.equal(
      main(
        ["just-a-file.jsonl"],
        () => undefined,
        () => undefined,
      ),
      2,
    );
  });
});
