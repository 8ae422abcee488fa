// The container images a stack uses: read from the resources the engine renders, checked against the list
// the program declares (its `images` output).

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const containerKeys = ["containers", "initContainers", "ephemeralContainers"];

/** Every container image anywhere in an object (pod specs, templates, job templates, custom resources). */
export function imagesIn(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {
      v.forEach(walk);
      return;
    }
    if (!v || typeof v !== "object") return;
    const o = v as Json;
    for (const key of containerKeys) {
      if (Array.isArray(o[key])) {
        for (const c of o[key]) if (c && typeof c.image === "string") out.push(c.image);
      }
    }
    Object.values(o).forEach(walk);
  };
  walk(value);
  return [...new Set(out)];
}

/** Steps whose new state is not part of the stack after the update. */
const goneOps = new Set([
  "delete",
  "delete-replaced",
  "discard",
  "discard-replaced",
  "remove-pending-replace",
]);

/**
 * Images of every resource a `pulumi preview --json` leaves in the stack (creates, updates, replacements and
 * unchanged resources carried from state), with the URNs that use each.
 */
export function imagesInPreview(preview: Json): Map<string, string[]> {
  const byImage = new Map<string, string[]>();
  for (const step of Array.isArray(preview.steps) ? preview.steps : []) {
    if (goneOps.has(step.op) || !step.newState) continue;
    for (const image of imagesIn(step.newState.inputs ?? {})) {
      byImage.set(image, [...(byImage.get(image) ?? []), String(step.urn)]);
    }
  }
  return byImage;
}

/**
 * Images of the resources in a stack export that the preview has no step for. `pulumi preview --json` lists
 * only the steps that change something (unless --show-sames), so an update's unchanged workloads are read
 * from the state the preview ran against.
 */
export function imagesKeptFromState(state: Json, preview: Json): Map<string, string[]> {
  const stepped = new Set(
    (Array.isArray(preview.steps) ? preview.steps : []).map((s: Json) => String(s.urn)),
  );
  const byImage = new Map<string, string[]>();
  for (const r of state?.deployment?.resources ?? []) {
    if (stepped.has(String(r.urn))) continue;
    for (const image of imagesIn(r.inputs ?? {})) {
      byImage.set(image, [...(byImage.get(image) ?? []), String(r.urn)]);
    }
  }
  return byImage;
}

/** Both maps' images, each with the URNs of both. */
export function mergeImageUses(a: Map<string, string[]>, b: Map<string, string[]>): Map<string, string[]> {
  const out = new Map(a);
  for (const [image, urns] of b) out.set(image, [...(out.get(image) ?? []), ...urns]);
  return out;
}

export interface ImageCheck {
  /** Rendered images the declared list lacks: a mirroring tool reading the list would miss them. */
  undeclared: string[];
  /** Rendered images outside the private registry prefix (the override did not reach them). */
  outsideRegistry: string[];
  /** Declared images no resource of this stack uses (e.g. platforms it does not enable). */
  unused: string[];
}

export function imageUnderRegistry(image: string, registry: string): boolean {
  return image.startsWith(`${registry.replace(/\/+$/, "")}/`);
}

/** Compares the declared list with the rendered images; the bundle fails on `undeclared` or `outsideRegistry`. */
export function checkImages(declared: string[], rendered: string[], registry?: string): ImageCheck {
  const d = new Set(declared);
  const r = new Set(rendered);
  return {
    undeclared: [...r].filter((i) => !d.has(i)).sort(),
    outsideRegistry: registry ? [...r].filter((i) => !imageUnderRegistry(i, registry)).sort() : [],
    unused: [...d].filter((i) => !r.has(i)).sort(),
  };
}

/**
 * `<source> <destination>` lines for a mirroring tool: each rendered image with the reference it has without
 * the registry override. `declared` and `sources` are the program's list with and without the override, in
 * the same (catalog) order.
 */
export function mirrorPairs(declared: string[], sources: string[], rendered: string[]): string {
  if (declared.length !== sources.length)
    throw new Error("the image lists with and without the override differ in length");
  const sourceOf = new Map(declared.map((d, i) => [d, sources[i]]));
  return [...new Set(rendered)]
    .sort()
    .map((image) => {
      const source = sourceOf.get(image);
      if (!source) throw new Error(`${image} is not in the program's images list`);
      return `${source} ${image}\n`;
    })
    .join("");
}
