import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  locatePlugins,
  mergePlugins,
  pluginDirName,
  pluginsFromPackages,
} from "../../scripts/bundle/plugins";
import { stateProblems, summarizeState } from "../../scripts/bundle/site/state";

describe("bundle: plugins and state", () => {
  it("takes resource plugins from SDK packages, not from the core SDK or other packages", () => {
    expect(
      pluginsFromPackages([
        { name: "@pulumi/pulumi", version: "3.259.0", pulumi: { comment: "deployment-time only" } },
        { name: "@pulumi/tls", version: "5.5.1", pulumi: { resource: true, name: "tls", version: "5.5.1" } },
        { name: "@pulumi/kubernetes", version: "4.25.0", pulumi: { resource: true, name: "kubernetes" } },
        { name: "left-pad", version: "1.3.0" },
      ]),
    ).to.deep.equal([
      { name: "kubernetes", version: "4.25.0" },
      { name: "tls", version: "5.5.1" },
    ]);
  });

  it("merges the SDKs' plugins with the versions recorded in state, each once", () => {
    expect(
      mergePlugins(
        [{ name: "kubernetes", version: "4.25.0" }],
        [
          { name: "kubernetes", version: "v4.25.0" },
          { name: "kubernetes", version: "4.24.1" },
        ],
      ),
    ).to.deep.equal([
      { name: "kubernetes", version: "4.24.1" },
      { name: "kubernetes", version: "4.25.0" },
    ]);
    expect(pluginDirName({ name: "random", version: "4.21.1" })).to.equal("resource-random-v4.21.1");
  });

  it("finds plugins in a PULUMI_HOME cache and names every one that is missing or half-installed", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "keel-home-"));
    const dir = path.join(home, "plugins", "resource-tls-v5.5.1");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pulumi-resource-tls"), "");
    const tls = { name: "tls", version: "5.5.1" };
    expect([...locatePlugins(home, [tls]).values()]).to.deep.equal([dir]);
    fs.writeFileSync(`${dir}.partial`, "");
    expect(() => locatePlugins(home, [tls, { name: "random", version: "4.21.1" }])).to.throw(
      /tls 5\.5\.1 .*; random 4\.21\.1 .*npm run toolchain/,
    );
    fs.rmSync(home, { recursive: true, force: true });
  });

  const exported = {
    version: 3,
    deployment: {
      manifest: { time: "2026-11-22T13:50:09.63Z", version: "v3.259.0" },
      secrets_providers: { type: "passphrase", state: { salt: "v1:abc" } },
      resources: [
        {
          urn: "urn:pulumi:site::keel::pulumi:pulumi:Stack::keel-site",
          type: "pulumi:pulumi:Stack",
          outputs: { caCertificate: "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----" },
        },
        {
          urn: "urn:pulumi:site::keel::pulumi:providers:kubernetes::default_4_25_0",
          type: "pulumi:providers:kubernetes",
          inputs: { version: "4.25.0" },
        },
        {
          urn: "urn:pulumi:site::keel::pulumi:providers:random::default",
          type: "pulumi:providers:random",
          inputs: { __internal: { version: "4.21.1" } },
        },
        {
          urn: "urn:pulumi:site::keel::kubernetes:core/v1:Namespace::ns",
          type: "kubernetes:core/v1:Namespace",
        },
      ],
      pending_operations: [{ type: "creating" }],
    },
  };

  it("summarizes a stack export: owner, resources, salt, CA, providers and interrupted operations", () => {
    expect(summarizeState(exported)).to.deep.equal({
      project: "keel",
      stack: "site",
      resources: 1,
      time: "2026-11-22T13:50:09.63Z",
      cliVersion: "v3.259.0",
      salt: "v1:abc",
      caCertificate: "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----",
      providers: [
        { name: "kubernetes", version: "4.25.0" },
        { name: "random", version: "4.21.1" },
      ],
      pendingOperations: 1,
    });
    expect(() => summarizeState({ version: 2 })).to.throw(/not a `pulumi stack export` document/);
  });

  it("refuses the state of another stack or project", () => {
    const s = summarizeState(exported);
    expect(stateProblems(s, "keel", "site")).to.deep.equal([]);
    expect(stateProblems(s, "keel", "prod")).to.deep.equal(['the state belongs to stack "site", not "prod"']);
    expect(stateProblems(s, "other", "site")).to.deep.equal([
      'the state belongs to project "keel", not "other"',
    ]);
  });
});
