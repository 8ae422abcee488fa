/**
 * `npm run bench`: what preview, up, the policy pack, the audit command and the unit suite cost, measured
 * side by side on this machine. See docs/benchmarks.md for what each row means.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { BenchOptions, Measure, USAGE, parseArgs } from "./args";
import { CUSTOM_RESOURCE, SdkLocation, floorResources, sdkLocation } from "./floor";
import {
  PreviewResource,
  PreviewStep,
  copiesFor,
  countByType,
  customResources,
  kubernetesObjects,
  multiply,
} from "./manifests";
import { floorProject, programProject, skeletonProject, snapshotTree } from "./projects";
import { shapeOf, skeletonOf } from "./skeleton";
import { BenchResult, Row, Skipped, derived, measured, misses, renderMarkdown } from "./report";
import { Run, must, run, runMeasured, say, benchEnvironment } from "./shell";
import { median, ratio } from "./stats";
import { CpuAccounting, CpuGroup, CpuSplit, cpuDelta, cpuTotal, findCgroupRoot } from "./cpu";
import { wrappedToolchain } from "./cpu-tools";
import { adjusted, cpuRow, groupRow, medianPreview, overheadRow, shareRow } from "./cpu-rows";
import { appendHistory, historyEntry } from "./history";
import { ProfileSplit, busiestProfile, profileRows } from "./profile";

/** The targets of issues #8, #17 and #22; the % targets are on CPU time (user + system) of the whole tree. */
export const TARGETS = {
  policyPackOverheadPercent: { kind: "max", limit: 10 },
  /** Issue #22: the program's CPU over the engine floor's. */
  programOverheadPercent: { kind: "max", limit: 10 },
  /** Issue #22: CPU of the pack's process until its server is up. */
  packStartCpuSeconds: { kind: "max", limit: 0.3 },
  /** Issue #22: keel's pack over an empty pack, in % of the preview without a pack. */
  rulesOverEmptyPercent: { kind: "max", limit: 2 },
  noOpUpOverPreview: { kind: "max", limit: 1.2 },
  auditObjectsPerSecondOneCore: { kind: "min", limit: 2000 },
  /** Issue #17: CPU (user + sys) of the installed `keel-audit` command on a one-object file. */
  auditStartupCpuSeconds: { kind: "max", limit: 0.15 },
} as const;

/** The one-object input of e.startup: a Deployment as a user would audit it before applying it. */
const ONE_OBJECT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example.org/shop/web:2.4.1
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {cpu: 500m, memory: 256Mi}
`;

/** Samples per command in e.startup: each run is a fraction of a second, GNU time counts in 10 ms steps. */
const STARTUP_RUNS = 21;

const root = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`Pulumi.yaml not found above ${__dirname}`);
    dir = up;
  }
  return dir;
})();

let interrupted = false;
function checkInterrupted(): void {
  if (interrupted) throw new Error("interrupted");
}

class Bench {
  readonly rows: Row[] = [];
  readonly skipped: Skipped[] = [];
  readonly details: Record<string, unknown> = {};
  readonly env: NodeJS.ProcessEnv;
  /** `env` with the wrapped toolchain: every pulumi command's processes are counted per role. */
  readonly pulumiEnv: NodeJS.ProcessEnv;
  readonly cpu: CpuAccounting;
  /** The compiled tree the previews run (projects.ts snapshotTree), laid out like the repository. */
  readonly snap: string;
  private prodPreview?: { resources: PreviewResource[]; all: PreviewStep[] };

  constructor(
    readonly opts: BenchOptions,
    readonly tmp: string,
    passphrase: string,
  ) {
    const state = path.join(tmp, "state");
    fs.mkdirSync(state);
    say(`temporary backend file://${state}`);
    this.env = benchEnvironment(root, {
      PULUMI_BACKEND_URL: `file://${state}`,
      PULUMI_CONFIG_PASSPHRASE: passphrase,
    });
    this.snap = snapshotTree(root, path.join(tmp, "snapshot"));
    this.cpu = new CpuAccounting(findCgroupRoot(), path.basename(tmp));
    const wrapper = path.join(root, "scripts", "bench", "cpu-wrap.sh");
    this.pulumiEnv = wrappedToolchain(this.env, path.join(tmp, "cpu"), wrapper, this.cpu.dir);
    this.pulumi(tmp, ["login", `file://${state}`]);
  }

  /** Runs pulumi through the wrapped toolchain; `cpu` is what its process trees used, per role. */
  pulumi(cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Run & { cpu: CpuSplit } {
    const before = this.cpu.read();
    const env = { ...this.pulumiEnv, ...extraEnv };
    const r = must("pulumi", [...args, "--non-interactive"], { cwd, env });
    this.cpu.settle();
    return { ...r, cpu: cpuDelta(before, this.cpu.read()) };
  }

  /** Samples `runs` times; each sample is one call of `measure`, with a progress line. */
  sample<T>(label: string, measure: (i: number) => T & { seconds: number }): (T & { seconds: number })[] {
    const out: (T & { seconds: number })[] = [];
    for (let i = 0; i < this.opts.runs; i++) {
      checkInterrupted();
      const r = measure(i);
      say(`  ${label} ${i + 1}/${this.opts.runs}: ${r.seconds.toFixed(2)} s`);
      out.push(r);
    }
    return out;
  }

  /**
   * Previews of each variant, back to back in every run in rotated order (drift in the machine's load does
   * not always hit the same variant), `--repeats` rounds per run; each run keeps, per variant, the preview
   * whose CPU adjusted over `control` is the median. Every preview's CPU, in the order run, goes to the
   * results' details (`previews`), so other estimators can be tried on a run afterwards.
   */
  pairedPreviews<V extends string>(
    label: string,
    variants: readonly V[],
    control: readonly CpuGroup[],
    preview: (v: V) => { seconds: number; cpu: CpuSplit },
  ): { times: Record<V, number[]>; cpus: Record<V, CpuSplit[]> } {
    const times = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<V, number[]>;
    const cpus = Object.fromEntries(variants.map((v) => [v, [] as CpuSplit[]])) as Record<V, CpuSplit[]>;
    const k = this.opts.repeats;
    const all: { run: number; variant: V; seconds: number; cpu: CpuSplit }[] = [];
    ((this.details.previews ??= {}) as Record<string, unknown>)[label] = all;
    this.sample(label, (i) => {
      const got = Object.fromEntries(variants.map((v) => [v, [] as { seconds: number; cpu: CpuSplit }[]]));
      let total = 0;
      for (let round = 0; round < k; round++) {
        for (const v of variants.map((_, j) => variants[(j + i * k + round) % variants.length]!)) {
          checkInterrupted();
          const r = preview(v);
          got[v]!.push(r);
          all.push({ run: i, variant: v, seconds: r.seconds, cpu: r.cpu });
          total += r.seconds;
        }
      }
      for (const v of variants) {
        const kept = medianPreview(got[v]!, control);
        times[v].push(kept.seconds);
        cpus[v].push(kept.cpu);
      }
      return { seconds: total };
    });
    return { times, cpus };
  }

  private prodProjectDir?: string;
  prodProject(): string {
    if (!this.prodProjectDir) {
      this.prodProjectDir = programProject(this.snap, path.join(this.tmp, "prod"), "prod");
      this.pulumi(this.prodProjectDir, ["stack", "init", "prod", "--secrets-provider", "passphrase"]);
    }
    return this.prodProjectDir;
  }

  previewJson(
    cwd: string,
    stack: string,
    extra: string[] = [],
  ): { seconds: number; cpu: CpuSplit; steps: PreviewStep[] } {
    const r = this.pulumi(cwd, ["preview", "--json", "--stack", stack, ...extra]);
    const steps = (JSON.parse(r.stdout) as { steps?: PreviewStep[] }).steps ?? [];
    return { seconds: r.seconds, cpu: r.cpu, steps };
  }

  /** A preview with every Node.js process under `node --cpu-prof`: the program process's CPU by owner. */
  profiledPreview(cwd: string, stack: string): { seconds: number; split: ProfileSplit } {
    const dir = fs.mkdtempSync(path.join(this.tmp, `profile-${stack}-`));
    const options = `${this.pulumiEnv.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${dir}`.trim();
    const r = this.pulumi(cwd, ["preview", "--json", "--stack", stack], { NODE_OPTIONS: options });
    const keel = ["bin", "components"].map((d) => path.join(this.snap, d));
    const split = busiestProfile(dir, keel);
    fs.rmSync(dir, { recursive: true, force: true });
    return { seconds: r.seconds, split };
  }

  policyArgs(stack: string): string[] {
    return [
      "--policy-pack",
      path.join(this.snap, "policy-pack"),
      "--policy-pack-config",
      path.join(this.snap, "policy-pack", "config", `${stack}.json`),
    ];
  }

  /** The prod stack's preview (warm-up, untimed): the resources the floor and the audit start from. */
  prod(): { resources: PreviewResource[]; all: PreviewStep[] } {
    if (!this.prodPreview) {
      say("warm-up preview of the prod stack (untimed)");
      const { steps } = this.previewJson(this.prodProject(), "prod");
      this.prodPreview = { resources: customResources(steps), all: steps };
      fs.writeFileSync(path.join(this.tmp, "prod-steps.json"), JSON.stringify(steps));
      this.details.prodResourcesByType = countByType(this.prodPreview.resources);
      this.details.prodSteps = steps.length;
    }
    return this.prodPreview;
  }

  /** (a) preview of the prod stack and (b) the same with the policy pack, interleaved. */
  previews(): void {
    const prod = this.prod();
    const cwd = this.prodProject();
    say("warm-up preview of the prod stack with the policy pack (untimed; checks the pack loads)");
    const check = this.pulumi(cwd, [
      "preview",
      "--diff=false",
      "--stack",
      "prod",
      ...this.policyArgs("prod"),
    ]);
    if (!/Loading policy packs\.\.\.: done/.test(check.stdout + check.stderr)) {
      throw new Error(`the policy pack did not load:\n${check.stdout.slice(-3000)}`);
    }
    const empty = emptyPolicyPack(path.join(this.tmp, "empty-pack"));
    const modules = modulesPolicyPack(
      path.join(this.snap, "policy-pack"),
      path.join(this.tmp, "modules-pack"),
    );
    const variants = {
      none: [] as string[],
      empty: ["--policy-pack", empty],
      keel: this.policyArgs("prod"),
      modules: ["--policy-pack", modules, ...this.policyArgs("prod").slice(2)],
    };
    // The same program and resources in every variant: only the engine's and the pack's work differ.
    const control = ["program", "providers"] as const;
    const { times, cpus } = this.pairedPreviews(
      "(a)+(b) prod preview without a pack / empty pack / keel's pack / keel's pack unbundled",
      Object.keys(variants) as (keyof typeof variants)[],
      control,
      (v) => {
        const r = this.previewJson(cwd, "prod", variants[v]);
        if (customResources(r.steps).length !== prod.resources.length) {
          throw new Error(
            `preview registered ${customResources(r.steps).length} resources, expected ${prod.resources.length}`,
          );
        }
        return r;
      },
    );
    const replays = this.sample("(b) AnalyzeStack replay of keel's pack (in-process)", () => this.replay());
    const count = derived(
      "a.resources",
      "prod stack: custom resources registered",
      "count",
      prod.resources.length,
    );
    count.note = `${prod.all.length} steps with components`;
    const total = (v: keyof typeof variants) => cpus[v].map(cpuTotal);
    const index = (v: keyof typeof variants) => adjusted(cpus[v], control);
    const starts = this.sample("(b) pack start: keel's pack / the empty pack (CPU to its port)", () => {
      const keel = this.packStart(path.join(this.snap, "policy-pack"));
      const bare = this.packStart(empty);
      const unbundled = this.packStart(modules);
      return { keel, bare, unbundled, seconds: keel + bare + unbundled };
    });
    const r0 = replays[0]!;
    this.details.analyzeStackReplay = {
      policies: r0.policies,
      resources: r0.resources,
      requestBytes: r0.requestBytes,
    };
    this.rows.push(
      count,
      cpuRow("a.cpu", "`pulumi preview` of the prod stack: CPU of all its processes", cpus.none),
      measured("a.preview", "the same, wall time", "s", times.none),
      cpuRow("b.cpu", "the same with `--policy-pack policy-pack` (prod config): CPU", cpus.keel),
      cpuRow("b.empty-cpu", "the same with an empty policy pack (one no-op stack policy): CPU", cpus.empty),
      measured("b.preview", "with keel's pack, wall time", "s", times.keel),
      measured("b.empty", "with the empty pack, wall time", "s", times.empty),
      overheadRow(
        "b.overhead",
        "keel's policy pack: CPU over the preview without a pack",
        total("keel"),
        total("none"),
        TARGETS.policyPackOverheadPercent,
      ),
      overheadRow(
        "b.engine",
        "of which any Node.js pack costs (empty pack over none), CPU",
        total("empty"),
        total("none"),
      ),
      shareRow(
        "b.rules",
        "of which keel's policies cost (keel over empty pack, in % of no pack), CPU",
        total("keel"),
        total("empty"),
        total("none"),
        TARGETS.rulesOverEmptyPercent,
      ),
      overheadRow(
        "b.overhead-adj",
        "keel's pack over none, CPU adjusted for the machine's speed (over program + providers)",
        index("keel"),
        index("none"),
        TARGETS.policyPackOverheadPercent,
      ),
      overheadRow("b.engine-adj", "empty pack over none, CPU adjusted", index("empty"), index("none")),
      shareRow(
        "b.rules-adj",
        "keel over the empty pack, in % of no pack, CPU adjusted",
        index("keel"),
        index("empty"),
        index("none"),
        TARGETS.rulesOverEmptyPercent,
      ),
      shareRow(
        "b.rules-pack",
        "keel over the empty pack: the pack process's CPU only, in % of no pack",
        cpus.keel.map((c) => c.pack),
        cpus.empty.map((c) => c.pack),
        total("none"),
        TARGETS.rulesOverEmptyPercent,
      ),
      shareRow(
        "b.rules-pack-adj",
        "the same, CPU adjusted (the pack process over program + providers)",
        adjusted(cpus.keel, control, ["pack"]),
        adjusted(cpus.empty, control, ["pack"]),
        index("none"),
        TARGETS.rulesOverEmptyPercent,
      ),
      overheadRow("b.overhead-wall", "keel's pack over no pack, wall time", times.keel, times.none),
      measured(
        "b.start",
        "pack start: CPU of keel's pack process until its server writes its port",
        "s",
        starts.map((r) => r.keel),
        TARGETS.packStartCpuSeconds,
      ),
      measured(
        "b.start-empty",
        "the same for the empty pack",
        "s",
        starts.map((r) => r.bare),
      ),
      measured(
        "b.start-unbundled",
        "the same for keel's pack as compiled modules (package.json main before #22)",
        "s",
        starts.map((r) => r.unbundled),
      ),
      cpuRow("b.unbundled-cpu", "the preview with keel's pack as compiled modules: CPU", cpus.modules),
      overheadRow(
        "b.overhead-unbundled",
        "keel's pack as compiled modules (before #22): CPU over no pack",
        total("modules"),
        total("none"),
      ),
      overheadRow(
        "b.overhead-unbundled-adj",
        "keel's pack as compiled modules over none, CPU adjusted",
        index("modules"),
        index("none"),
      ),
      measured(
        "b.load-lib",
        "pack start: loading @pulumi/policy and @pulumi/pulumi (CPU, in-process)",
        "s",
        replays.map((r) => r.load.libraryCpuMs / 1000),
      ),
      measured(
        "b.load",
        "pack start: loading keel's pack itself (CPU, in-process)",
        "s",
        replays.map((r) => r.load.cpuMs / 1000),
      ),
      measured(
        "b.analyze",
        "AnalyzeStack of the prod preview: decode + all of keel's policies (CPU, in-process)",
        "s",
        replays.map((r) => (r.decodeCpuMs + r.analyzeCpuMs) / 1000),
      ),
    );
  }

  /** One in-process replay of the prod preview's AnalyzeStack request through keel's pack. */
  replay(): ReplayResult & { seconds: number } {
    const stepsFile = path.join(this.tmp, "prod-steps.json");
    const script = path.join(__dirname, "analyze-stack-replay.js");
    // The compiled modules, not the bundle (package.json main): the replay swaps @pulumi/policy's server.
    const pack = path.join(this.snap, "policy-pack");
    const entry = path.join(pack, "bin", "src", "index.js");
    const r = must(process.execPath, [script, pack, stepsFile, entry], {
      cwd: root,
      env: process.env,
    });
    const result = JSON.parse(r.stdout) as ReplayResult;
    return { ...result, seconds: (result.decodeCpuMs + result.analyzeCpuMs) / 1000 };
  }

  /** CPU seconds of a policy pack's process from its start until its server is up (pack-start.ts). */
  packStart(packDir: string): number {
    const script = path.join(__dirname, "pack-start.js");
    const r = must(process.execPath, [script, packDir], { cwd: root, env: this.env });
    const last = r.stderr.trim().split("\n").pop() ?? "";
    return (JSON.parse(last) as { cpuMs: number }).cpuMs / 1000;
  }

  /** (c) the engine floor and the skeleton (keel's component tree over the same resources), previewed alike. */
  floor(): void {
    const prod = this.prod();
    const classes: Record<string, SdkLocation> = {};
    for (const type of new Set(prod.resources.map((r) => r.type))) classes[type] = resolveClass(type);
    this.details.floorClasses = Object.fromEntries(
      Object.entries(classes).map(([t, c]) => [t, `${c.pkg} ${c.path.join(".")}`]),
    );
    const projects = {
      floor: floorProject(this.snap, path.join(this.tmp, "floor"), floorResources(prod.resources), classes),
      skeleton: skeletonProject(this.snap, path.join(this.tmp, "skeleton"), skeletonOf(prod.all), classes),
    };
    // The floor registers the same custom resources; the skeleton the same URNs, parents and dependencies.
    const registered = (steps: readonly PreviewStep[], stack: string) =>
      stack === "skeleton" ? shapeOf(steps).join("\n") : JSON.stringify(countByType(customResources(steps)));
    for (const [stack, cwd] of Object.entries(projects)) {
      this.pulumi(cwd, ["stack", "init", stack, "--secrets-provider", "passphrase"]);
      say(`warm-up preview of the ${stack} (untimed; checks it registers what the program does)`);
      const got = registered(this.previewJson(cwd, stack).steps, stack);
      const want = registered(prod.all, stack);
      if (got !== want) {
        fs.writeFileSync(path.join(this.tmp, `${stack}-got.txt`), got);
        fs.writeFileSync(path.join(this.tmp, `${stack}-want.txt`), want);
        throw new Error(
          `the ${stack} registers other resources than the program (${this.tmp}/${stack}-{got,want}.txt)`,
        );
      }
    }
    // `again` is the floor once more: its ratio to the floor is zero but for the bench's own noise.
    const variants = ["prod", "skeleton", "floor", "again"] as const;
    // The same resources and inputs in all four: the providers' work is the control.
    const control = ["providers"] as const;
    const { times, cpus } = this.pairedPreviews(
      "(c) prod preview / skeleton preview / engine floor preview / the floor again",
      variants,
      control,
      (v) => {
        if (v === "prod") return this.previewJson(this.prodProject(), "prod");
        return v === "again" ? this.previewJson(projects.floor, "floor") : this.previewJson(projects[v], v);
      },
    );
    const profiled = { prod: [] as ProfileSplit[], skeleton: [] as ProfileSplit[] };
    this.sample("(c) the program and the skeleton under node --cpu-prof", (i) => {
      let seconds = 0;
      for (const v of i % 2 === 0 ? (["prod", "skeleton"] as const) : (["skeleton", "prod"] as const)) {
        const r = this.profiledPreview(v === "prod" ? this.prodProject() : projects.skeleton, v);
        profiled[v].push(r.split);
        seconds += r.seconds;
      }
      return { seconds };
    });
    const total = (v: (typeof variants)[number]) => cpus[v].map(cpuTotal);
    const index = (v: (typeof variants)[number]) => adjusted(cpus[v], control);
    this.rows.push(
      cpuRow("c.floor-cpu", "engine floor: same resources, constant inputs, no components: CPU", cpus.floor),
      cpuRow(
        "c.skeleton-cpu",
        "skeleton: the floor plus keel's components, parents and dependencies: CPU",
        cpus.skeleton,
      ),
      cpuRow("c.cpu", "`pulumi preview` of the prod stack (paired with the floor): CPU", cpus.prod),
      measured("c.floor", "engine floor, wall time", "s", times.floor),
      measured("c.preview", "prod preview, wall time", "s", times.prod),
      overheadRow(
        "c.overhead",
        "program overhead over the engine floor, CPU",
        total("prod"),
        total("floor"),
        TARGETS.programOverheadPercent,
      ),
      overheadRow(
        "c.structure",
        "of which keel's component tree costs (skeleton over floor), CPU",
        total("skeleton"),
        total("floor"),
      ),
      shareRow(
        "c.code",
        "of which keel's code costs (program over skeleton, in % of the floor), CPU",
        total("prod"),
        total("skeleton"),
        total("floor"),
      ),
      overheadRow(
        "c.overhead-adj",
        "program over the engine floor, CPU adjusted for the machine's speed (over providers)",
        index("prod"),
        index("floor"),
        TARGETS.programOverheadPercent,
      ),
      overheadRow("c.structure-adj", "skeleton over floor, CPU adjusted", index("skeleton"), index("floor")),
      shareRow(
        "c.code-adj",
        "program over skeleton, in % of the floor, CPU adjusted",
        index("prod"),
        index("skeleton"),
        index("floor"),
      ),
      overheadRow("c.null", "the floor over itself (the bench's noise), CPU", total("again"), total("floor")),
      overheadRow("c.null-adj", "the floor over itself, CPU adjusted", index("again"), index("floor")),
      groupRow("c.program", "of which the program's Node.js process, CPU", cpus.prod, "program"),
      groupRow("c.skeleton-program", "the skeleton's Node.js process, CPU", cpus.skeleton, "program"),
      groupRow("c.floor-program", "the floor's Node.js process, CPU", cpus.floor, "program"),
      ...profileRows(profiled.prod, profiled.skeleton),
      overheadRow(
        "c.overhead-wall",
        "program overhead over the engine floor, wall time",
        times.prod,
        times.floor,
      ),
    );
  }

  /** (d) up of the dev stack on the local cluster, no-op up against no-op preview, then destroy. */
  upAndDestroy(): void {
    const kube = must(
      "kubectl",
      ["get", "namespaces", "-l", "app.kubernetes.io/managed-by=keel", "-o", "name"],
      {
        cwd: root,
        env: this.env,
      },
    ).stdout.trim();
    if (kube) {
      this.skipped.push({
        id: "d",
        reason: `a keel stack is deployed on the cluster (${kube.split("\n").join(", ")}); the dev stack would collide`,
      });
      return;
    }
    const cwd = programProject(this.snap, path.join(this.tmp, "dev"), "dev");
    this.pulumi(cwd, ["stack", "init", "dev", "--secrets-provider", "passphrase"]);
    // Whatever happens from the first up on (failure, Ctrl-C), the dev stack is destroyed below.
    let failure: unknown;
    try {
      say("(d) pulumi up of the dev stack (creates everything)");
      const up = this.pulumi(cwd, ["up", "--yes", "--skip-preview", "--stack", "dev"]);
      say(`  up: ${up.seconds.toFixed(1)} s`);
      const previews: number[] = [];
      const ups: number[] = [];
      this.sample("(d) no-op preview / no-op up", (i) => {
        const order = i % 2 === 0 ? ["preview", "up"] : ["up", "preview"];
        let total = 0;
        for (const op of order) {
          const args =
            op === "up"
              ? ["up", "--yes", "--skip-preview", "--expect-no-changes", "--stack", "dev"]
              : ["preview", "--expect-no-changes", "--stack", "dev"];
          const r = this.pulumi(cwd, args);
          (op === "up" ? ups : previews).push(r.seconds);
          total += r.seconds;
        }
        return { seconds: total };
      });
      this.rows.push(
        derived("d.up", "`pulumi up` of the dev stack on the local cluster (one run)", "s", up.seconds),
        measured("d.preview", "no-op `pulumi preview` of the deployed dev stack", "s", previews),
        measured("d.noop-up", "no-op `pulumi up --skip-preview`", "s", ups),
        derived(
          "d.ratio",
          "no-op up over no-op preview",
          "x",
          ratio(median(ups), median(previews)),
          TARGETS.noOpUpOverPreview,
        ),
      );
    } catch (e) {
      failure = e;
    }
    say("(d) pulumi destroy of the dev stack");
    const d = run("pulumi", ["destroy", "--yes", "--skip-preview", "--stack", "dev", "--non-interactive"], {
      cwd,
      env: this.pulumiEnv,
    });
    if (d.status !== 0) {
      this.opts.keep = true;
      throw new Error(
        `destroy of the dev stack FAILED; state kept in ${this.tmp}. Retry with:\n` +
          `  PULUMI_BACKEND_URL=file://${this.tmp}/state PULUMI_CONFIG_PASSPHRASE=$(cat ${this.tmp}/passphrase) ` +
          `pulumi destroy --yes --cwd ${cwd} --stack dev\n${d.stdout.slice(-3000)}\n${d.stderr.slice(-3000)}`,
      );
    }
    this.rows.push(derived("d.destroy", "`pulumi destroy` of the dev stack (one run)", "s", d.seconds));
    this.pulumi(cwd, ["stack", "rm", "dev", "--yes"]);
    if (failure) throw failure;
  }

  /**
   * (e) start-up: CPU (user + sys, GNU time) of a one-object audit through the package's bin `keel-audit`
   * (launcher/keel-audit.js run as the shell runs an installed bin: it drops NODE_EXTRA_CA_CERTS, then runs the
   * bundle from its code cache), next to Node.js alone with and without NODE_EXTRA_CA_CERTS, the compiled
   * modules and kube-score when built (scripts/kube-score/install.sh). The commands run interleaved,
   * STARTUP_RUNS times each, in the bench's environment; medians.
   */
  startup(): void {
    const dir = path.join(this.tmp, "startup");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "one.yaml");
    fs.writeFileSync(file, ONE_OBJECT);
    const cli = path.join(root, "policy-pack", "bin", "src", "cli");
    const bin = path.join(root, "policy-pack", "launcher", "keel-audit.js");
    const kubeScore = path.join(
      process.env.KEEL_CACHE ?? path.join(os.homedir(), ".cache", "keel"),
      "kube-score-v1.20.0",
      "kube-score",
    );
    const commands: Array<{ id: string; measure: string; cmd: string[]; target?: Row["target"] }> = [
      {
        id: "e.startup",
        measure: "CPU of a one-object audit: `keel-audit --format json one.yaml` (the package's bin)",
        cmd: [bin, "--format", "json", file],
        target: TARGETS.auditStartupCpuSeconds,
      },
      {
        id: "e.startup-node",
        measure: "CPU of `node -e 0` (Node.js's own start-up) in the bench's environment",
        cmd: [process.execPath, "-e", "0"],
      },
      {
        id: "e.startup-node-no-extra-ca",
        measure: "CPU of `env -u NODE_EXTRA_CA_CERTS node -e 0`",
        cmd: ["env", "-u", "NODE_EXTRA_CA_CERTS", process.execPath, "-e", "0"],
      },
      {
        id: "e.startup-modules",
        measure:
          "CPU of the same audit through the compiled modules (`node policy-pack/bin/src/cli/audit.js`)",
        cmd: [process.execPath, path.join(cli, "audit.js"), "--format", "json", file],
      },
    ];
    if (fs.existsSync(kubeScore)) {
      commands.push({
        id: "e.startup-kube-score",
        measure: "CPU of `kube-score score one.yaml` (v1.20.0) on the same file",
        cmd: [kubeScore, "score", file],
      });
    } else {
      this.skipped.push({
        id: "e.startup-kube-score",
        reason: `no kube-score at ${kubeScore} (scripts/kube-score/install.sh)`,
      });
    }
    const samples = new Map<string, number[]>(commands.map((c) => [c.id, []]));
    say(`(e) start-up: ${commands.length} commands × ${STARTUP_RUNS} runs on one object`);
    for (let i = 0; i < STARTUP_RUNS; i++) {
      checkInterrupted();
      for (const c of commands) {
        const r = runMeasured(c.cmd[0]!, c.cmd.slice(1), { cwd: root, env: this.env }, this.tmp);
        if (r.status !== 0 && r.status !== 1)
          throw new Error(`${c.cmd.join(" ")} failed (exit ${r.status}):\n${r.stderr}`);
        samples.get(c.id)!.push(r.cpuSeconds);
      }
    }
    for (const c of commands) this.rows.push(measured(c.id, c.measure, "s", samples.get(c.id)!, c.target));
  }

  /** (e) the audit command over the rendered prod stack repeated to ~opts.objects objects, all cores and one. */
  audit(): void {
    const objects = kubernetesObjects(this.prod().resources);
    const copies = copiesFor(this.opts.objects, objects.length);
    const set = multiply(objects, copies);
    const file = path.join(this.tmp, "audit", "prod-x" + copies + ".yaml");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, set.map((o) => stringify(o)).join("---\n"));
    this.details.audit = {
      objectsPerCopy: objects.length,
      copies,
      objects: set.length,
      bytes: fs.statSync(file).size,
    };
    const cli = path.join(root, "policy-pack", "bin", "src", "cli", "audit.js");
    const args = [
      "--format",
      "json",
      "--config",
      path.join(root, "policy-pack", "config", "prod.json"),
      file,
    ];
    const audit = (oneCore: boolean) => {
      const cmd = oneCore ? ["taskset", "-c", "0", process.execPath] : [process.execPath];
      const r = runMeasured(cmd[0]!, [...cmd.slice(1), cli, ...args], { cwd: root, env: this.env }, this.tmp);
      if (r.status !== 0 && r.status !== 1) throw new Error(`audit failed (exit ${r.status}):\n${r.stderr}`);
      const findings = (JSON.parse(r.stdout) as unknown[]).length;
      (this.details.audit as Record<string, unknown>).findings = findings;
      return r;
    };
    const all: ReturnType<typeof audit>[] = [];
    const one: ReturnType<typeof audit>[] = [];
    this.sample(`(e) audit of ${set.length} objects, all cores / one core`, (i) => {
      const order = i % 2 === 0 ? [false, true] : [true, false];
      let total = 0;
      for (const oneCore of order) {
        const r = audit(oneCore);
        (oneCore ? one : all).push(r);
        total += r.seconds;
      }
      return { seconds: total };
    });
    const rate = (rs: typeof all) => rs.map((r) => set.length / r.seconds);
    const input = derived("e.objects", "audit input: the rendered prod stack repeated", "count", set.length);
    input.note = `${copies} × ${objects.length}`;
    this.rows.push(
      input,
      measured("e.rate", "`npm run audit -- --format json`, all cores", "objects/s", rate(all)),
      measured(
        "e.rss",
        "peak memory, all cores",
        "MiB",
        all.map((r) => r.maxRssMiB),
      ),
      measured(
        "e.rate-1",
        "the same on one core (`taskset -c 0`)",
        "objects/s",
        rate(one),
        TARGETS.auditObjectsPerSecondOneCore,
      ),
      measured(
        "e.rss-1",
        "peak memory, one core",
        "MiB",
        one.map((r) => r.maxRssMiB),
      ),
    );
  }

  /** (f) the unit suite (mocha over the compiled tests). */
  unit(): void {
    let passing = 0;
    const runs = this.sample("(f) unit tests", () => {
      const r = must(process.execPath, [path.join(root, "node_modules", "mocha", "bin", "mocha.js")], {
        cwd: root,
        env: { ...process.env, FORCE_COLOR: "0" },
      });
      passing = Number(/(\d+) passing/.exec(r.stdout)?.[1] ?? 0);
      if (passing === 0) throw new Error(`no passing tests in mocha's output:\n${r.stdout.slice(-2000)}`);
      return r;
    });
    const row = measured(
      "f.unit",
      "unit suite (mocha, compiled tests)",
      "s",
      runs.map((r) => r.seconds),
    );
    row.note = `${passing} tests`;
    this.rows.push(row);
  }

  versions(): Record<string, string> {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const packPkg = JSON.parse(fs.readFileSync(path.join(root, "policy-pack", "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const server = run("kubectl", ["version", "-o", "json"], { cwd: root, env: this.env });
    let kube = "unreachable";
    try {
      kube = (JSON.parse(server.stdout) as { serverVersion: { gitVersion: string } }).serverVersion
        .gitVersion;
    } catch {
      // left as unreachable
    }
    return {
      node: process.version,
      pulumi: run("pulumi", ["version"], { cwd: root, env: this.env }).stdout.trim(),
      "@pulumi/pulumi": pkg.dependencies["@pulumi/pulumi"]!,
      "@pulumi/kubernetes": pkg.dependencies["@pulumi/kubernetes"]!,
      "@pulumi/random": pkg.dependencies["@pulumi/random"]!,
      "@pulumi/tls": pkg.dependencies["@pulumi/tls"]!,
      "@pulumi/policy": packPkg.dependencies["@pulumi/policy"]!,
      "kube-apiserver": kube,
    };
  }
}

interface ReplayResult {
  policies: number;
  resources: number;
  requestBytes: number;
  /** CPU to load @pulumi/policy (and the @pulumi/pulumi it pulls in), then the pack's own modules. */
  load: { libraryCpuMs: number; cpuMs: number; wallMs: number };
  decodeCpuMs: number;
  analyzeCpuMs: number;
  diagnostics: number;
}

/** keel's pack as it was packaged before issue #22: its compiled modules (bin/src/index.js) as `main`. */
function modulesPolicyPack(src: string, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const pkg = JSON.parse(fs.readFileSync(path.join(src, "package.json"), "utf8")) as Record<string, unknown>;
  pkg.main = path.join(src, "bin", "src", "index.js");
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg) + "\n");
  fs.copyFileSync(path.join(src, "PulumiPolicy.yaml"), path.join(dir, "PulumiPolicy.yaml"));
  fs.symlinkSync(path.join(src, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/** A policy pack with one stack policy that does nothing: what any Node.js pack costs the engine. */
function emptyPolicyPack(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "PulumiPolicy.yaml"),
    "runtime:\n  name: nodejs\n  options:\n    typescript: false\ndescription: empty pack (keel bench)\n",
  );
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "keel-bench-empty-pack", version: "0.0.0", private: true, main: "index.js" }) +
      "\n",
  );
  fs.writeFileSync(
    path.join(dir, "index.js"),
    [
      'const { PolicyPack } = require("@pulumi/policy");',
      'new PolicyPack("keel-bench-empty", {',
      '  policies: [{ name: "noop", description: "does nothing", enforcementLevel: "advisory", validateStack: () => {} }],',
      "});",
      "",
    ].join("\n"),
  );
  fs.symlinkSync(path.join(root, "policy-pack", "node_modules"), path.join(dir, "node_modules"));
  // Packaged like keel's pack (one file, policy-pack/scripts/bundle-pack.js), so b.rules compares rules only.
  const bundler = path.join(root, "policy-pack", "scripts", "bundle-pack.js");
  must(process.execPath, [bundler, dir, "index.js", path.join(dir, "bundle.js")], {
    cwd: dir,
    env: process.env,
  });
  const pkg = { name: "keel-bench-empty-pack", version: "0.0.0", private: true, main: "bundle.js" };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg) + "\n");
  return dir;
}

/** The SDK class registering `type`: checked by its `__pulumiType`; Kubernetes types the SDK lacks use CustomResource. */
function resolveClass(type: string): SdkLocation {
  const find = (loc: SdkLocation): unknown => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    let v: unknown = require(require.resolve(loc.pkg, { paths: [root] }));
    for (const p of loc.path)
      v = v === undefined || v === null ? undefined : (v as Record<string, unknown>)[p];
    return v;
  };
  const loc = sdkLocation(type);
  const cls = find(loc) as { __pulumiType?: string } | undefined;
  if (cls?.__pulumiType === type) return loc;
  if (type.startsWith("kubernetes:") && find(CUSTOM_RESOURCE)) return CUSTOM_RESOURCE;
  throw new Error(`no SDK class registers ${type} (looked at ${loc.pkg} ${loc.path.join(".")})`);
}

function machine(start: number[]) {
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGi: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: { start, end: os.loadavg() },
  };
}

/** The commit the tree is at, `+changes` when tracked files differ from it. */
function commitOf(dir: string): string {
  const rev = run("git", ["rev-parse", "--short", "HEAD"], { cwd: dir, env: process.env });
  if (rev.status !== 0) return "unknown";
  const dirty = run("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: dir, env: process.env });
  return rev.stdout.trim() + (dirty.stdout.trim() ? "+changes" : "");
}

function stamp(d: Date): string {
  return d.toISOString().slice(0, 19).replace(/:/g, "-");
}

function benchmark(opts: BenchOptions): number {
  const started = new Date();
  const loadStart = os.loadavg();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "keel-bench-"));
  const passphrase = crypto.randomBytes(24).toString("base64");
  fs.writeFileSync(path.join(tmp, "passphrase"), passphrase, { mode: 0o600 });
  let failed = false;
  let bench: Bench | undefined;
  try {
    bench = new Bench(opts, tmp, passphrase);
    const steps: Record<Measure, () => void> = {
      a: () => bench!.previews(),
      b: () => undefined, // measured with (a): the two previews are interleaved
      c: () => bench!.floor(),
      d: () => bench!.upAndDestroy(),
      e: () => {
        bench!.startup();
        bench!.audit();
      },
      f: () => bench!.unit(),
    };
    const only =
      opts.only.includes("b") && !opts.only.includes("a") ? [...opts.only, "a" as const] : opts.only;
    for (const m of ["a", "c", "e", "f", "d"] as const) {
      if (!only.includes(m)) continue;
      try {
        checkInterrupted();
        steps[m]();
      } catch (e) {
        failed = true;
        const message = (e as Error).message;
        say(`(${m}) FAILED: ${message}`);
        bench.skipped.push({ id: m, reason: `failed: ${message.split("\n")[0]}` });
        if (/destroy of the dev stack FAILED|interrupted/.test(message)) break;
      }
    }
    const result: BenchResult = {
      date: started.toISOString(),
      runs: opts.runs,
      machine: machine(loadStart),
      versions: bench.versions(),
      rows: bench.rows,
      skipped: bench.skipped,
      details: bench.details,
    };
    const outDir = path.resolve(root, opts.outDir);
    fs.mkdirSync(outDir, { recursive: true });
    const base = path.join(outDir, stamp(started));
    const markdown = renderMarkdown(result);
    fs.writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + "\n");
    fs.writeFileSync(`${base}.md`, markdown);
    process.stdout.write(markdown + "\n" + JSON.stringify(result, null, 2) + "\n");
    say(`results: ${base}.md and ${base}.json`);
    // A run with a failed measure is not history: the guard would compare it against a partial table.
    if (opts.history && !failed) {
      appendHistory(path.resolve(root, opts.history), historyEntry(result, commitOf(root)));
      say(`appended to ${opts.history} (npm run -s bench:compare compares it with the run before)`);
    }
    const missed = misses(result);
    if (missed.length > 0) say(`targets missed: ${missed.map((r) => r.id).join(", ")}`);
  } catch (e) {
    failed = true;
    say(`FAILED: ${(e as Error).message}`);
  } finally {
    try {
      bench?.cpu.remove();
    } catch (e) {
      say(`could not remove the bench's cgroups: ${(e as Error).message}`);
    }
    if (opts.keep) say(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

function main(argv: string[]): number {
  let opts: BenchOptions;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  // Ctrl-C reaches pulumi too, which stops cleanly; we then destroy what we created before exiting.
  process.on("SIGINT", () => (interrupted = true));
  process.on("SIGTERM", () => (interrupted = true));
  if (opts.lock && process.env.KEEL_BENCH_LOCK_HELD !== "1") {
    say(`taking ${opts.lockFile} (waits while another run uses the shared cluster)`);
    const r = spawnSync("flock", [opts.lockFile, process.execPath, __filename, ...argv], {
      stdio: "inherit",
      env: { ...process.env, KEEL_BENCH_LOCK_HELD: "1" },
    });
    if (r.error) throw r.error;
    return r.status ?? 1;
  }
  return benchmark(opts);
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
