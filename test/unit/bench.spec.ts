import { expect } from "chai";
import { parseArgs } from "../../scripts/bench/args";
import { adjusted, cpuRow, medianPreview, overheadRow } from "../../scripts/bench/cpu-rows";
import { cpuTotal } from "../../scripts/bench/cpu";
import { CUSTOM_RESOURCE, floorProgram, floorResources, sdkLocation } from "../../scripts/bench/floor";
import {
  PLACEHOLDER,
  PreviewStep,
  SECRET,
  UNKNOWN,
  copiesFor,
  countByType,
  customResources,
  kubernetesObjects,
  multiply,
} from "../../scripts/bench/manifests";
import {
  BenchResult,
  derived,
  formatValue,
  measured,
  misses,
  renderMarkdown,
} from "../../scripts/bench/report";
import { evaluate, median, overheadPercent, ratio, workIndex } from "../../scripts/bench/stats";

const steps: PreviewStep[] = [
  {
    op: "create",
    urn: "urn:pulumi:prod::keel::pulumi:pulumi:Stack::keel-prod",
    newState: { type: "pulumi:pulumi:Stack" },
  },
  {
    op: "create",
    urn: "urn:pulumi:prod::keel::keel:core:Namespace::apps",
    newState: { type: "keel:core:Namespace", custom: false },
  },
  {
    op: "create",
    urn: "urn:pulumi:prod::keel::pulumi:providers:kubernetes::default",
    newState: { type: "pulumi:providers:kubernetes", custom: true, inputs: {} },
  },
  {
    op: "create",
    urn: "urn:pulumi:prod::keel::keel:core:Namespace$kubernetes:core/v1:Namespace::apps-ns",
    newState: {
      type: "kubernetes:core/v1:Namespace",
      custom: true,
      inputs: { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } },
    },
  },
  {
    op: "create",
    urn: "urn:pulumi:prod::keel::keel:core:Workload$kubernetes:core/v1:Secret::apps-db",
    newState: {
      type: "kubernetes:core/v1:Secret",
      custom: true,
      inputs: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "db", namespace: "apps" },
        stringData: SECRET,
      },
    },
  },
  {
    op: "create",
    urn: "urn:pulumi:prod::keel::keel:core:Workload$kubernetes:apps/v1:Deployment::apps-api",
    newState: {
      type: "kubernetes:apps/v1:Deployment",
      custom: true,
      inputs: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "api", namespace: "apps", annotations: { hash: `x-${UNKNOWN}` } },
        spec: { replicas: 2 },
      },
    },
  },
  {
    op: "create",
    urn: "urn:pulumi:prod::keel::keel:core:GeneratedSecret$random:index/randomPassword:RandomPassword::apps-db",
    newState: { type: "random:index/randomPassword:RandomPassword", custom: true, inputs: { length: 32 } },
  },
];

describe("bench: statistics and targets", () => {
  it("takes the median of odd and even sample counts, unsorted", () => {
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    expect(median([7])).to.equal(7);
  });

  it("refuses empty or non-finite samples", () => {
    expect(() => median([])).to.throw(/no samples/);
    expect(() => median([1, NaN])).to.throw(/non-finite/);
  });

  it("computes ratios and overheads, refusing a zero base", () => {
    expect(ratio(12, 10)).to.equal(1.2);
    expect(overheadPercent(11, 10)).to.be.closeTo(10, 1e-9);
    expect(overheadPercent(9, 10)).to.be.closeTo(-10, 1e-9);
    expect(() => ratio(1, 0)).to.throw(/non-positive/);
  });

  it("judges max and min targets, the limit itself passing", () => {
    expect(evaluate(10, { kind: "max", limit: 10 })).to.equal("pass");
    expect(evaluate(10.01, { kind: "max", limit: 10 })).to.equal("miss");
    expect(evaluate(2000, { kind: "min", limit: 2000 })).to.equal("pass");
    expect(evaluate(1999, { kind: "min", limit: 2000 })).to.equal("miss");
  });
});

describe("bench: report", () => {
  const result: BenchResult = {
    date: "2026-11-22T12:00:00.000Z",
    runs: 3,
    machine: {
      cores: 2,
      cpuModel: "AMD EPYC",
      memoryGi: 24,
      loadAverage: { start: [1, 2, 3], end: [1.5, 2, 3] },
    },
    versions: { node: "v20.20.2", pulumi: "v3.259.0" },
    rows: [
      measured("a.preview", "prod preview", "s", [12.5, 11, 30]),
      derived("b.overhead", "pack overhead", "%", 14.2, { kind: "max", limit: 10 }),
      measured("e.rate-1", "audit | one core", "objects/s", [2500, 2100, 2600], { kind: "min", limit: 2000 }),
    ],
    skipped: [{ id: "d", reason: "a keel stack is deployed" }],
    details: {},
  };

  it("a measured row is the median of its samples with a verdict", () => {
    expect(result.rows[0]!.value).to.equal(12.5);
    expect(result.rows[2]!.value).to.equal(2500);
    expect(result.rows[2]!.verdict).to.equal("pass");
    expect(result.rows[1]!.verdict).to.equal("miss");
    expect(misses(result).map((r) => r.id)).to.deep.equal(["b.overhead"]);
  });

  it("formats values by unit", () => {
    expect(formatValue(12.54, "s")).to.equal("12.5 s");
    expect(formatValue(1.234, "s")).to.equal("1.23 s");
    expect(formatValue(14.25, "%")).to.equal("+14.3 %");
    expect(formatValue(-3, "%")).to.equal("-3.0 %");
    expect(formatValue(1.1, "x")).to.equal("1.10 ×");
    expect(formatValue(2345.6, "objects/s")).to.equal("2,346 objects/s");
    expect(formatValue(4930, "count")).to.equal("4,930");
  });

  it("renders a Markdown table with machine, versions, targets, verdicts and skipped rows", () => {
    const md = renderMarkdown(result);
    expect(md).to.contain("2 cores (AMD EPYC), 24 GiB");
    expect(md).to.contain("node v20.20.2, pulumi v3.259.0");
    expect(md).to.contain("| # | measure | median | spread | runs | target | result |");
    expect(md).to.contain("| a.preview | prod preview | 12.5 s | ± 17.5 s | 12.5 s, 11.0 s, 30.0 s |  |  |");
    expect(md).to.contain("| b.overhead | pack overhead | +14.2 % |  |  | ≤ 10 % | **miss** |");
    expect(md).to.contain("| e.rate-1 | audit \\| one core | 2,500 objects/s |");
    expect(md).to.contain("≥ 2,000 objects/s | pass |");
    expect(md).to.contain("| d | skipped: a keel stack is deployed |");
    // Every table line has the same number of cells as the header.
    const rows = md.split("\n").filter((l) => l.startsWith("| "));
    for (const r of rows) expect(r.replace(/\\\|/g, "").split("|").length, r).to.equal(9);
  });
});

describe("bench: CPU rows", () => {
  it("takes the median of each run's whole tree, and keeps every role's samples run by run", () => {
    const split = (engine: number, program: number) => ({
      engine,
      langhost: 0.1,
      program,
      pack: 0,
      providers: 1,
    });
    const row = cpuRow("a.cpu", "preview", [split(10, 12), split(11, 14), split(9, 13)]);
    expect(row.value).to.be.closeTo(23.1, 1e-9);
    expect(row.samples!.map((x) => +x.toFixed(1))).to.deep.equal([23.1, 26.1, 23.1]);
    expect(row.note).to.equal("engine 10.00, langhost 0.10, program 13.00, pack 0.00, providers 1.00");
    expect(row.roles).to.deep.equal({
      engine: [10, 11, 9],
      langhost: [0.1, 0.1, 0.1],
      program: [12, 14, 13],
      pack: [0, 0, 0],
      providers: [1, 1, 1],
    });
  });
});

describe("bench: speed-adjusted CPU", () => {
  const split = (engine: number, program: number, providers: number) => ({
    engine,
    langhost: 0,
    program,
    pack: 0,
    providers,
  });

  it("divides out the machine's speed: the same work measured 20 % slower gives the same ratio", () => {
    // Run 1 at full speed, run 2 with the base 20 % slower: the raw ratio moves, the adjusted one does not.
    const keel = [split(12, 6, 2), split(12, 6, 2)];
    const none = [split(8, 6, 2), split(9.6, 7.2, 2.4)];
    const raw = overheadRow("r", "raw", keel.map(cpuTotal), none.map(cpuTotal));
    const adj = overheadRow(
      "a",
      "adjusted",
      adjusted(keel, ["program", "providers"]),
      adjusted(none, ["program", "providers"]),
    );
    expect(raw.samples!.map((x) => +x.toFixed(1))).to.deep.equal([25, 4.2]);
    expect(adj.samples!.map((x) => +x.toFixed(1))).to.deep.equal([25, 25]);
    expect(adj.spread).to.be.closeTo(0, 1e-9);
  });

  it("adjusts one role alone the same way (the pack process in b.rules-pack-adj)", () => {
    const withPack = (pack: number, speed: number) => ({ ...split(8 * speed, 6 * speed, 2 * speed), pack });
    // The pack's 2.4 s at full speed and its 2.88 s on a machine 20 % slower are the same work.
    expect(
      adjusted([withPack(2.4, 1), withPack(2.88, 1.2)], ["program", "providers"], ["pack"]),
    ).to.deep.equal([0.3, 0.3]);
    expect(adjusted([withPack(2.4, 1)], ["program", "providers"])).to.deep.equal([(8 + 6 + 2.4 + 2) / 8]);
  });

  it("keeps, of a run's previews of one variant, the median one by adjusted CPU", () => {
    const p = (engine: number, program: number, tag: string) => ({ tag, cpu: split(engine, program, 2) });
    // Indices over program + providers: a 2.0, b 3.0 (a burst of load in the engine only), c 2.2.
    const runs = [p(8, 6, "a"), p(16, 6, "b"), p(12.4, 7, "c")];
    expect(medianPreview(runs, ["program", "providers"]).tag).to.equal("c");
    expect(medianPreview(runs.slice(0, 2), ["program", "providers"]).tag).to.equal("a");
    expect(medianPreview([runs[1]!], ["program", "providers"]).tag).to.equal("b");
    expect(() => medianPreview([], ["providers"])).to.throw(/no previews/);
  });

  it("refuses a control that did no work", () => {
    expect(() => adjusted([split(1, 0, 0)], ["program", "providers"])).to.throw(/non-positive base/);
    expect(() => workIndex([1, 2], [1])).to.throw(/differ in number/);
  });
});

describe("bench: manifests from a preview", () => {
  it("keeps custom resources only (no components, stack or providers), named by their URN", () => {
    const resources = customResources(steps);
    expect(resources.map((r) => `${r.type} ${r.name}`)).to.deep.equal([
      "kubernetes:core/v1:Namespace apps-ns",
      "kubernetes:core/v1:Secret apps-db",
      "kubernetes:apps/v1:Deployment apps-api",
      "random:index/randomPassword:RandomPassword apps-db",
    ]);
    expect(countByType(resources)).to.deep.equal({
      "kubernetes:apps/v1:Deployment": 1,
      "kubernetes:core/v1:Namespace": 1,
      "kubernetes:core/v1:Secret": 1,
      "random:index/randomPassword:RandomPassword": 1,
    });
  });

  it("renders Kubernetes objects with unknown and masked values as placeholders", () => {
    const objects = kubernetesObjects(customResources(steps));
    expect(objects.map((o) => o.kind)).to.deep.equal(["Namespace", "Secret", "Deployment"]);
    expect(objects[1]!.stringData).to.deep.equal({ value: PLACEHOLDER });
    expect((objects[2]!.metadata.annotations as Record<string, string>).hash).to.equal(PLACEHOLDER);
    expect((objects[2]!.spec as { replicas: number }).replicas).to.equal(2);
  });

  it("multiplies a manifest set into distinct namespaces and names, leaving the input alone", () => {
    const objects = kubernetesObjects(customResources(steps));
    const copies = multiply(objects, 3);
    expect(copies).to.have.length(9);
    const keys = copies.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);
    expect(new Set(keys).size).to.equal(9);
    expect(keys.slice(0, 3)).to.deep.equal([
      "Namespace//apps-0",
      "Secret/apps-0/db",
      "Deployment/apps-0/api",
    ]);
    expect(keys[8]).to.equal("Deployment/apps-2/api");
    expect(objects[0]!.metadata.name).to.equal("apps");
    expect(() => multiply(objects, 0)).to.throw(/positive integer/);
  });

  it("picks the number of copies closest to the target object count", () => {
    expect(copiesFor(5000, 290)).to.equal(17);
    expect(copiesFor(5000, 333)).to.equal(15);
    expect(copiesFor(10, 290)).to.equal(1);
    expect(() => copiesFor(5000, 0)).to.throw(/no objects/);
  });
});

describe("bench: engine floor", () => {
  it("maps type tokens to SDK class candidates", () => {
    expect(sdkLocation("kubernetes:apps/v1:Deployment")).to.deep.equal({
      pkg: "@pulumi/kubernetes",
      path: ["apps", "v1", "Deployment"],
    });
    expect(sdkLocation("kubernetes:networking.k8s.io/v1:NetworkPolicy").path).to.deep.equal([
      "networking",
      "v1",
      "NetworkPolicy",
    ]);
    expect(sdkLocation("random:index/randomPassword:RandomPassword")).to.deep.equal({
      pkg: "@pulumi/random",
      path: ["RandomPassword"],
    });
    expect(sdkLocation("tls:index/privateKey:PrivateKey").pkg).to.equal("@pulumi/tls");
    expect(() => sdkLocation("aws:s3/bucket:Bucket")).to.throw(/no SDK package/);
  });

  it("gives resources that share a type and name distinct names", () => {
    const r = { type: "kubernetes:core/v1:Secret", inputs: {} };
    const names = floorResources([
      { ...r, name: "a" },
      { ...r, name: "a" },
      { ...r, name: "b" },
      { ...r, type: "random:index/randomPassword:RandomPassword", name: "a" },
    ]).map((x) => x.name);
    expect(names).to.deep.equal(["a", "a-1", "b", "a"]);
  });

  it("generates a program that registers every entry with its class and revives unknowns", () => {
    const js = floorProgram({
      "kubernetes:apps/v1:Deployment": sdkLocation("kubernetes:apps/v1:Deployment"),
      "kubernetes:gateway.networking.k8s.io/v1:Gateway": CUSTOM_RESOURCE,
      "random:index/randomPassword:RandomPassword": sdkLocation("random:index/randomPassword:RandomPassword"),
    });
    expect(js).to.contain('const sdk__pulumi_kubernetes = require("@pulumi/kubernetes");');
    expect(js).to.contain('"kubernetes:apps/v1:Deployment": sdk__pulumi_kubernetes.apps.v1.Deployment,');
    expect(js).to.contain(
      '"kubernetes:gateway.networking.k8s.io/v1:Gateway": sdk__pulumi_kubernetes.apiextensions.CustomResource,',
    );
    expect(js).to.contain('"random:index/randomPassword:RandomPassword": sdk__pulumi_random.RandomPassword,');
    expect(js).to.contain("pulumi.secret(pulumi.unknown)");
    expect(js).to.contain(UNKNOWN);
    expect(() => new Function("require", js)).not.to.throw();
  });

  it("runs with V8's own stack traces, as keel's program does (no source mapping in the floor)", () => {
    const js = floorProgram({ "kubernetes:gateway.networking.k8s.io/v1:Gateway": CUSTOM_RESOURCE });
    const saved = Error.prepareStackTrace;
    Error.prepareStackTrace = () => "mapped";
    try {
      new Function("require", js)((id: string) => (id === "./resources.json" ? [] : { apiextensions: {} }));
      expect(Error.prepareStackTrace).to.equal(undefined);
    } finally {
      Error.prepareStackTrace = saved;
    }
  });
});

describe("bench: options", () => {
  it("defaults to 3 runs of every measure under the cluster lock", () => {
    const o = parseArgs([]);
    expect(o).to.deep.include({
      runs: 3,
      repeats: 1,
      lock: true,
      lockFile: "/tmp/keel-cluster.lock",
      objects: 5000,
    });
    expect(o.only).to.deep.equal(["a", "b", "c", "d", "e", "f"]);
  });

  it("reads --runs, --repeats, --only, --objects, --out, --no-lock and --keep", () => {
    const o = parseArgs([
      "--runs",
      "5",
      "--repeats=3",
      "--only=e,a",
      "--objects",
      "1000",
      "--out",
      "x",
      "--no-lock",
      "--keep",
    ]);
    expect(o).to.deep.include({ runs: 5, repeats: 3, objects: 1000, outDir: "x", lock: false, keep: true });
    expect(o.only).to.deep.equal(["a", "e"]);
  });

  it("refuses bad values with the flag's name", () => {
    expect(() => parseArgs(["--runs", "0"])).to.throw(/--runs needs a positive integer/);
    expect(() => parseArgs(["--runs"])).to.throw(/--runs/);
    expect(() => parseArgs(["--repeats", "-1"])).to.throw(/--repeats needs a positive integer/);
    expect(() => parseArgs(["--only", "a,z"])).to.throw(/--only.*got z/);
    expect(() => parseArgs(["--fast"])).to.throw(/unknown option --fast/);
  });
});
