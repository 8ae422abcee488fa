/**
 * The skeleton: the engine floor plus keel's structure. It registers every component and custom resource a
 * preview of the real program registers, under the same URNs (same types, names and parents), with the same
 * dependencies and resource options, component and stack outputs and custom inputs as constants — and none
 * of keel's code: no validation, no planning, no rendering, no outputs flowing between resources. The
 * skeleton over the floor is what the SDK and the engine charge for keel's component tree and dependency
 * edges; the program over the skeleton is what keel's own code costs.
 */
import { PreviewStep, STACK, registrations, urnName } from "./manifests";
import { SdkLocation, programPreamble } from "./floor";

/** One registration of the skeleton, in the order the real program's preview registered it. */
export interface SkeletonResource {
  urn: string;
  type: string;
  name: string;
  /** Custom resources: their inputs. Components have none (keel's pass `{}`). */
  inputs?: Record<string, unknown>;
  /** Components: the outputs they registered. */
  outputs?: Record<string, unknown>;
  /** Absent when the parent is the stack. */
  parent?: string;
  dependsOn: string[];
  options: { protect?: boolean; retainOnDelete?: boolean; ignoreChanges?: string[] };
}

export interface Skeleton {
  resources: SkeletonResource[];
  /** The root stack's outputs (the program's exports). */
  stackOutputs: Record<string, unknown>;
}

/**
 * The skeleton of a preview: every step but the stack and the default providers. Throws when a parent or a
 * dependency is registered after the resource naming it (the generated program creates them in order).
 */
export function skeletonOf(steps: readonly PreviewStep[]): Skeleton {
  const stack = steps.find((s) => s.newState?.type === STACK);
  if (!stack) throw new Error("the preview has no stack resource");
  const seen = new Set<string>();
  const resources: SkeletonResource[] = [];
  for (const s of registrations(steps)) {
    const st = s.newState;
    const parent = st.parent && st.parent !== stack.urn ? st.parent : undefined;
    const dependsOn = st.dependencies ?? [];
    for (const u of parent ? [parent, ...dependsOn] : dependsOn) {
      if (!seen.has(u)) throw new Error(`${s.urn} names ${u} before it is registered`);
    }
    seen.add(s.urn);
    const options: SkeletonResource["options"] = {};
    if (st.protect) options.protect = true;
    if (st.retainOnDelete) options.retainOnDelete = true;
    if (st.ignoreChanges?.length) options.ignoreChanges = st.ignoreChanges;
    const r: SkeletonResource = {
      urn: s.urn,
      type: st.type,
      name: urnName(s.urn),
      parent,
      dependsOn,
      options,
    };
    if (st.custom) r.inputs = st.inputs ?? {};
    else r.outputs = st.outputs ?? {};
    resources.push(r);
  }
  return { resources, stackOutputs: stack.newState?.outputs ?? {} };
}

/** A URN without its stack and project: `type$…$type::name`, the same in the program and its skeleton. */
function tail(urn: string): string {
  return urn.split("::").slice(2).join("::");
}

/**
 * What a preview's registrations look like without their values, one sorted line each: URN, parent and
 * dependencies (stack and project left out). Equal for the program and its skeleton.
 */
export function shapeOf(steps: readonly PreviewStep[]): string[] {
  return registrations(steps)
    .map((s) => {
      const deps = (s.newState.dependencies ?? []).map(tail).sort();
      const parent = s.newState.parent ? tail(s.newState.parent) : "";
      // The stack's own name is the project's and the stack's: only that it is the stack counts.
      return `${tail(s.urn)} < ${parent.startsWith(`${STACK}::`) ? STACK : parent} [${deps.join(" ")}]`;
    })
    .sort();
}

/** The skeleton program's index.js over `skeleton.json`: registrations in order, outputs last. */
export function skeletonProgram(classes: Record<string, SdkLocation>): string {
  return [
    ...programPreamble(classes, "the skeleton: keel's component tree and dependencies, constant values"),
    'const { resources, stackOutputs } = require("./skeleton.json");',
    "const made = new Map();",
    "for (const r of resources) {",
    "  const opts = { ...r.options };",
    "  if (r.parent) opts.parent = made.get(r.parent);",
    "  if (r.dependsOn.length) opts.dependsOn = r.dependsOn.map((u) => made.get(u));",
    "  made.set(",
    "    r.urn,",
    "    r.inputs",
    "      ? new classes[r.type](r.name, revive(r.inputs), opts)",
    "      : new pulumi.ComponentResource(r.type, r.name, {}, opts),",
    "  );",
    "}",
    "for (const r of [...resources].reverse()) if (!r.inputs) made.get(r.urn).registerOutputs(revive(r.outputs));",
    "module.exports = revive(stackOutputs);",
    "",
  ].join("\n");
}
