/**
 * Plain copies of the properties @pulumi/policy hands a stack policy, read once instead of through its
 * proxies on every access.
 *
 * @pulumi/policy 1.21 wraps each resource's properties in `unknownCheckingProxy` (proxy.js): every property a
 * rule reads allocates the path so far and, for an object, a new proxy. Over keel's 49 stack policies and the
 * prod stack's 957 resources that was about a fifth of the rules' CPU (docs/benchmarks.md). The copy keeps
 * what the proxies do: a value unknown at preview (one of the proxy module's sentinels) becomes a getter
 * that throws the proxy module's own `UnknownValueError` with the same path, when (and only when) a rule
 * reads it.
 */

export interface UnknownValues {
  /** The sentinels the engine's unknowns deserialize to. */
  sentinels: ReadonlySet<unknown>;
  /** The error a proxy throws for `sentinel` read at `path`. */
  error(sentinel: unknown, path: string[]): Error;
}

/** A deep copy of `value` (plain objects and arrays) in which each unknown throws when read. */
export function plainProps(value: unknown, unknown: UnknownValues, path: string[] = []): unknown {
  if (typeof value !== "object" || value === null) {
    return value;
  }
  const source = value as Record<string, unknown>;
  const copy = (Array.isArray(value) ? new Array<unknown>(value.length) : {}) as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const field = source[key];
    const at = [...path, key];
    if (unknown.sentinels.has(field)) {
      Object.defineProperty(copy, key, {
        enumerable: true,
        configurable: true,
        get: () => {
          throw unknown.error(field, at);
        },
      });
    } else {
      copy[key] = plainProps(field, unknown, at);
    }
  }
  return copy;
}

interface ProxyModule {
  UnknownValueError: new (sentinel: unknown, props: string[]) => Error;
  [sentinel: string]: unknown;
}

const SENTINELS = ["Boolean", "Number", "String", "Array", "Asset", "Archive", "Object"].map(
  (t) => `unknown${t}Value`,
);

/** @pulumi/policy's own sentinels and error (proxy.js), or undefined when the module has another shape. */
export function policyUnknownValues(): UnknownValues | undefined {
  // A subpath with no typings, internal to @pulumi/policy, which package.json pins exactly.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proxy = require("@pulumi/policy/proxy") as ProxyModule;
  const sentinels = SENTINELS.map((name) => proxy[name]);
  if (typeof proxy.UnknownValueError !== "function" || sentinels.some((s) => typeof s !== "string")) {
    return undefined;
  }
  return {
    sentinels: new Set(sentinels),
    error: (sentinel, path) => new proxy.UnknownValueError(sentinel, path),
  };
}
