import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  CpuProfile,
  ProfileSplit,
  busiestProfile,
  profilePart,
  profileRows,
  profileSplit,
} from "../../scripts/bench/profile";

const SNAP = "/tmp/keel-bench-x/snapshot";
const KEEL = [`${SNAP}/bin`, `${SNAP}/components`];
const frame = (functionName: string, url = "") => ({ functionName, url });

/** A profile in miniature: one sample of `ms` milliseconds per frame. */
function profile(frames: [ReturnType<typeof frame>, number][]): CpuProfile {
  return {
    nodes: frames.map(([callFrame], i) => ({ id: i + 1, callFrame })),
    samples: frames.map((_, i) => i + 1),
    timeDeltas: frames.map(([, ms]) => ms * 1000),
  };
}

const split = (parts: Partial<ProfileSplit>): ProfileSplit => ({
  keel: 0,
  sdk: 0,
  rpc: 0,
  load: 0,
  gc: 0,
  other: 0,
  ...parts,
});

describe("bench: the program's CPU profile by owner", () => {
  it("tells keel's own functions from the SDKs, RPC, module loading, GC and idle time", () => {
    const part = (f: ReturnType<typeof frame>) => profilePart(f, KEEL);
    expect(part(frame("render", `file://${SNAP}/components/core/dist/render.js`))).to.equal("keel");
    expect(part(frame("main", `${SNAP}/bin/index.js`))).to.equal("keel");
    expect(part(frame("x", `${SNAP}/components/core/node_modules/dep/index.js`))).to.equal("other");
    expect(part(frame("x", `${SNAP}/binaries/x.js`))).to.equal("other", "a folder that only starts like bin");
    expect(part(frame("serializeProperty", "/w/node_modules/@pulumi/pulumi/runtime/rpc.js"))).to.equal("sdk");
    expect(part(frame("Service", "/w/node_modules/@pulumi/kubernetes/core/v1/service.js"))).to.equal("sdk");
    expect(part(frame("call", "/w/node_modules/@grpc/grpc-js/build/src/call.js"))).to.equal("rpc");
    expect(part(frame("mb", "/w/node_modules/google-protobuf/google-protobuf.js"))).to.equal("rpc");
    expect(part(frame("request", "node:internal/http2/core"))).to.equal("rpc");
    expect(part(frame("wrapSafe", "node:internal/modules/cjs/loader"))).to.equal("load");
    expect(part(frame("(internalModuleStat)"))).to.equal("load");
    expect(part(frame("(garbage collector)"))).to.equal("gc");
    expect(part(frame("(program)"))).to.equal("other");
    expect(part(frame("(idle)"))).to.equal(undefined);
  });

  it("sums self time per owner in seconds, leaving idle time out", () => {
    const s = profileSplit(
      profile([
        [frame("a", `${SNAP}/bin/index.js`), 30],
        [frame("b", `${SNAP}/bin/program/deploy.js`), 20],
        [frame("c", "/w/node_modules/@pulumi/pulumi/output.js"), 100],
        [frame("(garbage collector)"), 40],
        [frame("(idle)"), 500],
      ]),
      KEEL,
    );
    expect(s.keel).to.be.closeTo(0.05, 1e-9);
    expect(s.sdk).to.be.closeTo(0.1, 1e-9);
    expect(s.gc).to.be.closeTo(0.04, 1e-9);
    expect(s.rpc + s.load + s.other).to.equal(0);
  });

  it("reads the busiest profile of a preview's folder, and says when there is none", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-prof-"));
    const write = (name: string, p: CpuProfile) => fs.writeFileSync(path.join(dir, name), JSON.stringify(p));
    write("CPU.1.cpuprofile", profile([[frame("a", `${SNAP}/bin/index.js`), 5]]));
    write("CPU.2.cpuprofile", profile([[frame("c", "/w/node_modules/@pulumi/pulumi/output.js"), 900]]));
    fs.writeFileSync(path.join(dir, "preview.json"), "{}");
    expect(busiestProfile(dir, KEEL).sdk).to.be.closeTo(0.9, 1e-9);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "keel-prof-"));
    expect(() => busiestProfile(empty, KEEL)).to.throw(`no CPU profile was written to ${empty}`);
  });

  it("reports keel's share of the program's samples and the program's parts over the skeleton's, run by run", () => {
    const rows = profileRows(
      [split({ keel: 0.1, sdk: 3, rpc: 1.9, gc: 1 }), split({ keel: 0.2, sdk: 3.2, rpc: 2.6, gc: 1 })],
      [split({ sdk: 2.5, rpc: 2, gc: 0.8 }), split({ sdk: 2.6, rpc: 2, gc: 0.9 })],
    );
    const row = (id: string) => rows.find((r) => r.id === id)!;
    expect(row("c.keel-share").unit).to.equal("%");
    expect(row("c.keel-share").samples!.map((v) => +v.toFixed(4))).to.deep.equal([1.6667, 2.8571]);
    expect(row("c.code-sdk").samples!.map((v) => +v.toFixed(6))).to.deep.equal([0.5, 0.6]);
    expect(row("c.code-rpc").samples!.map((v) => +v.toFixed(6))).to.deep.equal([-0.1, 0.6]);
    expect(row("c.code-keel").samples).to.deep.equal([0.1, 0.2]);
    expect(rows.map((r) => r.id)).to.deep.equal([
      "c.keel-share",
      "c.code-keel",
      "c.code-sdk",
      "c.code-rpc",
      "c.code-load",
      "c.code-gc",
      "c.code-other",
    ]);
  });
});
