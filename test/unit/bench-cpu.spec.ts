import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  CPU_GROUPS,
  CpuAccounting,
  CpuSplit,
  cpuDelta,
  cpuTotal,
  findCgroupRoot,
  parseCpuStat,
  parseCpuacctUsage,
} from "../../scripts/bench/cpu";
import { overheadRow, shareRow } from "../../scripts/bench/cpu-rows";
import { pairedOverheads, pairedShares, spread } from "../../scripts/bench/stats";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const WRAPPER = path.join(ROOT, "scripts", "bench", "cpu-wrap.sh");

function split(values: Partial<CpuSplit>): CpuSplit {
  return { engine: 0, langhost: 0, program: 0, pack: 0, providers: 0, ...values };
}

describe("bench: CPU accounting arithmetic", () => {
  it("reads cgroup v2 cpu.stat and v1 cpuacct.usage as seconds", () => {
    expect(parseCpuStat("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")).to.equal(2.5);
    expect(parseCpuacctUsage("1500000000\n")).to.equal(1.5);
    expect(() => parseCpuStat("user_usec 1\n")).to.throw(/usage_usec/);
    expect(() => parseCpuacctUsage("x")).to.throw(/not a number/);
  });

  it("subtracts and sums splits over every role", () => {
    const d = cpuDelta(split({ engine: 1, program: 2 }), split({ engine: 3, program: 2.5, pack: 1 }));
    expect(d).to.deep.equal(split({ engine: 2, program: 0.5, pack: 1 }));
    expect(cpuTotal(d)).to.equal(3.5);
    expect(Object.keys(d)).to.deep.equal([...CPU_GROUPS]);
  });

  it("pairs runs: each run's ratio against its own base, the spread around their median", () => {
    expect(pairedOverheads([11, 24, 9], [10, 20, 10])).to.deep.equal([
      10.000000000000009, 19.999999999999996, -9.999999999999998,
    ]);
    expect(pairedShares([12, 13], [11, 11], [10, 20])).to.deep.equal([10, 10]);
    expect(spread([10, 12, 7])).to.equal(3);
    expect(() => pairedOverheads([1, 2], [1])).to.throw(/differ/);
    expect(() => pairedShares([1], [1], [0])).to.throw(/non-positive/);
  });

  it("a paired row's value is the median of the per-run figures, with their spread", () => {
    const row = overheadRow("b.overhead", "pack over none", [11, 12, 13], [10, 10, 10], {
      kind: "max",
      limit: 25,
    });
    expect(row.value).to.be.closeTo(20, 1e-9);
    expect(row.samples!.length).to.equal(3);
    expect(row.spread).to.be.closeTo(10, 1e-9);
    expect(row.verdict).to.equal("pass");
    expect(shareRow("b.rules", "keel over empty", [12], [11], [10]).value).to.be.closeTo(10, 1e-9);
  });
});

describe("bench: CPU accounting in cgroups (real kernel)", function () {
  let root: ReturnType<typeof findCgroupRoot> | undefined;
  before(function () {
    try {
      root = findCgroupRoot();
    } catch (e) {
      // Not a pass: reported as pending, with the reason.
      this.skip();
      void e;
    }
  });

  it("counts a wrapped process's CPU, and its child's, in the role's group after they exited", function () {
    const acct = new CpuAccounting(root!, `keel-bench-test-${process.pid}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-bench-cpu-"));
    try {
      fs.symlinkSync(WRAPPER, path.join(dir, "node"));
      fs.writeFileSync(path.join(dir, "node.real"), process.execPath + "\n");
      const before = acct.read();
      // The wrapped node burns 0.3 s of CPU, then starts a child that burns 0.3 s and is never waited for.
      const busy = "const c=process.cpuUsage();while(process.cpuUsage(c).user<300000){}";
      const code = `${busy};require("child_process").spawn(process.execPath,["-e",${JSON.stringify(busy)}],{detached:true,stdio:"ignore"}).unref()`;
      const r = spawnSync(path.join(dir, "node"), ["-e", code], {
        env: { ...process.env, KEEL_BENCH_CGROUP: acct.dir },
        encoding: "utf8",
      });
      expect(r.status, r.stderr).to.equal(0);
      acct.settle();
      const used = cpuDelta(before, acct.read());
      expect(used.program).to.be.greaterThan(0.6);
      expect(used.pack + used.engine + used.langhost + used.providers).to.equal(0);
    } finally {
      acct.settle();
      acct.remove();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the wrapper puts a policy pack's node (-e with run-policy-pack) in the pack group", function () {
    const acct = new CpuAccounting(root!, `keel-bench-test-${process.pid}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-bench-cpu-"));
    try {
      fs.symlinkSync(WRAPPER, path.join(dir, "node"));
      fs.writeFileSync(path.join(dir, "node.real"), process.execPath + "\n");
      const before = acct.read();
      const code = "// run-policy-pack\nconst c=process.cpuUsage();while(process.cpuUsage(c).user<200000){}";
      const r = spawnSync(path.join(dir, "node"), ["-e", code], {
        env: { ...process.env, KEEL_BENCH_CGROUP: acct.dir },
        encoding: "utf8",
      });
      expect(r.status, r.stderr).to.equal(0);
      acct.settle();
      const used = cpuDelta(before, acct.read());
      expect(used.pack).to.be.greaterThan(0.2);
      expect(used.program).to.equal(0);
    } finally {
      acct.remove();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
