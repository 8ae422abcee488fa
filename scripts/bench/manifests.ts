/**
 * From `pulumi preview --json` to Kubernetes manifests: the custom resources the preview would create, their
 * inputs as plain objects, and copies of a manifest set under distinct names for the audit's throughput run.
 */

/** How the engine writes a value it cannot know at preview (the SDK's `unknownValue`). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** How `pulumi preview --json` masks a secret value. */
export const SECRET = "[secret]";
/** What an unknown or masked value becomes in a rendered manifest. */
export const PLACEHOLDER = "unknown-at-preview";

export interface PreviewStep {
  op: string;
  urn: string;
  newState?: {
    type: string;
    custom?: boolean;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    parent?: string;
    dependencies?: string[];
    protect?: boolean;
    retainOnDelete?: boolean;
    ignoreChanges?: string[];
  };
}

export interface PreviewResource {
  type: string;
  /** The resource's name (the last part of its URN). */
  name: string;
  inputs: Record<string, unknown>;
}

/** A resource's name: the last part of its URN. */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The type token of the root stack resource. */
export const STACK = "pulumi:pulumi:Stack";

/** What a program registers itself: every step's new state but the stack's and the default providers'. */
export function registrations(
  steps: readonly PreviewStep[],
): (PreviewStep & { newState: NonNullable<PreviewStep["newState"]> })[] {
  return steps.filter(
    (s): s is PreviewStep & { newState: NonNullable<PreviewStep["newState"]> } =>
      !!s.newState && s.newState.type !== STACK && !s.newState.type.startsWith("pulumi:providers:"),
  );
}

/** The custom resources (not components, not providers) a preview registers, in registration order. */
export function customResources(steps: readonly PreviewStep[]): PreviewResource[] {
  return registrations(steps)
    .filter((s) => s.newState.custom)
    .map((s) => ({ type: s.newState.type, name: urnName(s.urn), inputs: s.newState.inputs ?? {} }));
}

/** Resource count per type, sorted by type. */
export function countByType(resources: readonly { type: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of [...resources].sort((a, b) => a.type.localeCompare(b.type))) {
    counts[r.type] = (counts[r.type] ?? 0) + 1;
  }
  return counts;
}

export type KubernetesObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; [key: string]: unknown };
};

function replacePlaceholders(value: unknown): unknown {
  if (typeof value === "string") return value === SECRET || value.includes(UNKNOWN) ? PLACEHOLDER : value;
  if (Array.isArray(value)) return value.map(replacePlaceholders);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replacePlaceholders(v)]));
  }
  return value;
}

/**
 * The Kubernetes objects among `resources`, as manifests. Values unknown at preview become a placeholder
 * string; a Secret's masked `data`/`stringData` becomes one placeholder entry.
 */
export function kubernetesObjects(resources: readonly PreviewResource[]): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const r of resources) {
    if (!r.type.startsWith("kubernetes:")) continue;
    const inputs: Record<string, unknown> = { ...r.inputs };
    for (const field of ["data", "stringData"]) {
      if (inputs[field] === SECRET) inputs[field] = { value: SECRET };
    }
    const obj = replacePlaceholders(inputs) as KubernetesObject;
    if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
      throw new Error(`${r.type} ${r.name}: preview inputs carry no apiVersion/kind`);
    }
    objects.push(obj);
  }
  return objects;
}

/**
 * `copies` copies of `objects`, copy i suffixed `-i`: namespaced objects move to namespace `<ns>-i`,
 * Namespaces and other cluster-scoped objects are renamed `<name>-i`. Inputs are not modified.
 */
export function multiply(objects: readonly KubernetesObject[], copies: number): KubernetesObject[] {
  if (!Number.isInteger(copies) || copies < 1)
    throw new Error(`copies must be a positive integer, got ${copies}`);
  const text = JSON.stringify(objects);
  const result: KubernetesObject[] = [];
  for (let i = 0; i < copies; i++) {
    for (const obj of JSON.parse(text) as KubernetesObject[]) {
      const meta = (obj.metadata ??= {});
      if (obj.kind !== "Namespace" && meta.namespace) meta.namespace = `${meta.namespace}-${i}`;
      else meta.name = `${meta.name}-${i}`;
      result.push(obj);
    }
  }
  return result;
}

/** The number of copies of a set of `perCopy` objects that comes closest to `target` objects (at least 1). */
export function copiesFor(target: number, perCopy: number): number {
  if (perCopy < 1) throw new Error("no objects to copy");
  return Math.max(1, Math.round(target / perCopy));
}
