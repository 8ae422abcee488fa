import { expect } from "chai";
import { CUSTOM_RESOURCE } from "../../scripts/bench/floor";
import { PreviewStep } from "../../scripts/bench/manifests";
import { shapeOf, skeletonOf, skeletonProgram } from "../../scripts/bench/skeleton";

const urn = (chain: string, name: string) => `urn:pulumi:prod::keel::${chain}::${name}`;
const STACK = urn("pulumi:pulumi:Stack", "keel-prod");
const NS = urn("keel:core:Namespace", "media");
const SECRET = urn("keel:core:Namespace$kubernetes:core/v1:Secret", "media-key");
const DEPLOY = urn("keel:core:Namespace$kubernetes:apps/v1:Deployment", "media-app");

/** A prod preview in miniature: the stack, a provider, a component with two children, one depending on the other. */
function steps(): PreviewStep[] {
  return [
    { op: "create", urn: STACK, newState: { type: "pulumi:pulumi:Stack", outputs: { url: "https://x" } } },
    {
      op: "create",
      urn: urn("pulumi:providers:kubernetes", "default_4_25_0"),
      newState: { type: "pulumi:providers:kubernetes", custom: true },
    },
    {
      op: "create",
      urn: NS,
      newState: { type: "keel:core:Namespace", parent: STACK, outputs: { name: "media" } },
    },
    {
      op: "create",
      urn: SECRET,
      newState: {
        type: "kubernetes:core/v1:Secret",
        custom: true,
        parent: NS,
        inputs: { data: "[secret]" },
        retainOnDelete: true,
      },
    },
    {
      op: "create",
      urn: DEPLOY,
      newState: {
        type: "kubernetes:apps/v1:Deployment",
        custom: true,
        parent: NS,
        dependencies: [SECRET],
        inputs: { spec: { replicas: 2 } },
        protect: true,
        ignoreChanges: ["spec.replicas"],
      },
    },
  ];
}

describe("bench: skeleton", () => {
  it("keeps every registration but the stack and providers, with parents, dependencies and options", () => {
    const s = skeletonOf(steps());
    expect(s.stackOutputs).to.deep.equal({ url: "https://x" });
    expect(s.resources.map((r) => r.name)).to.deep.equal(["media", "media-key", "media-app"]);
    const [ns, secret, deploy] = s.resources;
    expect(ns).to.deep.include({
      type: "keel:core:Namespace",
      parent: undefined,
      outputs: { name: "media" },
    });
    expect(ns!.inputs).to.equal(undefined);
    expect(secret).to.deep.include({ parent: NS, dependsOn: [], options: { retainOnDelete: true } });
    expect(deploy).to.deep.include({ parent: NS, dependsOn: [SECRET], inputs: { spec: { replicas: 2 } } });
    expect(deploy!.options).to.deep.equal({ protect: true, ignoreChanges: ["spec.replicas"] });
  });

  it("refuses a parent or dependency registered after the resource naming it", () => {
    const s = steps();
    const late = [s[0]!, s[1]!, s[4]!, s[2]!, s[3]!];
    expect(() => skeletonOf(late)).to.throw(/names .*media.* before it is registered/);
    expect(() => skeletonOf(s.slice(1))).to.throw(/no stack resource/);
  });

  it("describes the shape without stack, project or values, so a program and its skeleton compare equal", () => {
    const other = steps().map(
      (s) =>
        JSON.parse(
          JSON.stringify(s)
            .replace(/prod::keel::/g, "skeleton::keel-skeleton::")
            .replace(/keel-prod/g, "keel-skeleton-skeleton"),
        ) as PreviewStep,
    );
    other[4]!.newState!.inputs = { spec: { replicas: 5 } };
    expect(shapeOf(other)).to.deep.equal(shapeOf(steps()));
    expect(shapeOf(steps())).to.include(
      "keel:core:Namespace$kubernetes:apps/v1:Deployment::media-app < keel:core:Namespace::media [keel:core:Namespace$kubernetes:core/v1:Secret::media-key]",
    );
    expect(shapeOf(steps())).to.include("keel:core:Namespace::media < pulumi:pulumi:Stack []");
    other[4]!.newState!.dependencies = [];
    expect(shapeOf(other)).not.to.deep.equal(shapeOf(steps()));
  });

  it("generates a program that registers components and resources in order with their parents and dependencies", () => {
    const made: { kind: string; name: string; opts: Record<string, unknown>; outputs?: unknown }[] = [];
    class Component {
      constructor(
        public type: string,
        public name: string,
        _args: unknown,
        opts: Record<string, unknown>,
      ) {
        made.push({ kind: type, name, opts });
      }
      registerOutputs(o: unknown) {
        made.find((m) => m.name === this.name)!.outputs = o;
      }
    }
    class Custom {
      constructor(name: string, inputs: Record<string, unknown>, opts: Record<string, unknown>) {
        made.push({ kind: "custom", name, opts: { ...opts, inputs } });
      }
    }
    const pulumi = { ComponentResource: Component, secret: (v: unknown) => ({ secret: v }), unknown: "?" };
    const mod: { exports: unknown } = { exports: {} };
    const js = skeletonProgram({
      "kubernetes:core/v1:Secret": CUSTOM_RESOURCE,
      "kubernetes:apps/v1:Deployment": CUSTOM_RESOURCE,
    });
    const requireFake = (id: string) =>
      id === "./skeleton.json"
        ? skeletonOf(steps())
        : id === "@pulumi/pulumi"
          ? pulumi
          : { apiextensions: { CustomResource: Custom } };
    new Function("require", "module", js)(requireFake, mod);
    expect(made.map((m) => m.name)).to.deep.equal(["media", "media-key", "media-app"]);
    const [ns, secret, deploy] = made;
    expect(ns!.outputs).to.deep.equal({ name: "media" });
    expect(secret!.opts).to.deep.include({ retainOnDelete: true, inputs: { data: { secret: "?" } } });
    expect(secret!.opts.parent).to.be.instanceOf(Component).and.to.include({ name: "media" });
    expect(deploy!.opts.parent).to.equal(secret!.opts.parent);
    expect(deploy!.opts.dependsOn)
      .to.have.length(1)
      .and.to.satisfy((d: unknown[]) => d[0] instanceof Custom);
    expect(deploy!.opts).to.deep.include({ protect: true, ignoreChanges: ["spec.replicas"] });
    expect(mod.exports).to.deep.equal({ url: "https://x" });
  });
});
