import { GeneratedSecret, Workload, validateGeneratedSecretArgs } from "@keel/core";
import { expect } from "chai";
import { get, installMocks, settle } from "./harness";
import { workloadArgs } from "./fixtures";

const rotationKey = "keel.dev/secret-rotation";

describe("secret rotation building blocks", () => {
  const secret = (rotation: number) =>
    new GeneratedSecret(`s${rotation}`, {
      namespace: "apps",
      generate: { a: {}, b: { neverRotated: "kept in the software's data" } },
      rotation,
    });

  it("rotates a value with its keeper unless it is marked neverRotated, and each ref carries its rotation", async () => {
    await installMocks();
    const s = secret(2);
    expect([s.ref("a").rotation, s.ref("b").rotation]).to.deep.equal([2, 0]);
    const res = await settle();
    expect(get(res, "RandomPassword", "s2-a").inputs.keepers).to.deep.equal({ rotation: "2" });
    expect(get(res, "RandomPassword", "s2-b").inputs.keepers).to.deep.equal({ rotation: "0" });
    const bad = validateGeneratedSecretArgs({ namespace: "x", generate: { a: { neverRotated: " " } } });
    expect(bad.map((e) => e.message)).to.deep.equal(["generate.a.neverRotated: must give the reason"]);
  });

  it("marks a Workload's pods with the highest rotation of the Secrets they read, and nothing at 0", async () => {
    await installMocks();
    const [s0, s3] = [secret(0), secret(3)];
    new Workload("none", workloadArgs({ secretEnv: { A: s0.ref("a"), B: s3.ref("b") } }));
    new Workload("env", workloadArgs({ secretEnv: { A: s0.ref("a"), B: s3.ref("a") } }));
    const files = { name: "f", mountPath: "/f", secretName: "derived", rotation: 3 };
    new Workload("files", workloadArgs({ secretFiles: [files] }));
    const res = await settle();
    const mark = (name: string) =>
      get(res, "Deployment", name).inputs.spec.template.metadata.annotations?.[rotationKey];
    expect([mark("none"), mark("env"), mark("files")]).to.deep.equal([undefined, "3", "3"]);
  });
});
