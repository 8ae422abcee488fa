/**
 * One AnalyzeStack call, analysed once instead of once per policy.
 *
 * CrossGuard runs our 45 stack policies one after another on the same request, and for each of them
 * @pulumi/policy 1.21 (server.js makeAnalyzeStackRpcFun) deserializes every resource's properties again,
 * after which our validateStack converted and indexed every object again: 45 times the same work, about
 * 1 s of CPU for the prod stack (see docs/benchmarks.md). Two shares remove the repetition:
 *
 * - shareDeserialization(): @pulumi/policy's deserializeProperties remembers its result per protobuf Struct.
 *   The request's resources are the same Struct objects for every policy of one call, so each resource is
 *   deserialized once. Only the read-only path is shared (proxySecrets = false: analyze and analyzeStack);
 *   remediation, whose result a policy may change, keeps its own copy.
 * - SharedStack: the Kubernetes objects and StackIndex of the last call, reused while every resource's
 *   properties are @pulumi/policy proxies over the same objects (within one call, once deserialization is
 *   shared). Plain objects (tests, the audit command) are converted every time.
 *
 * - SharedStack converts plain copies of the properties behind those proxies (plain-props.ts), so rules do
 *   not read through a proxy, which allocates on every property read.
 *
 * All are pure caches: values unknown at preview still throw @pulumi/policy's UnknownValueError when a rule
 * reads them, and a request with other properties is always converted afresh.
 */
import type { K8sObject } from "../core/k8s";
import { StackIndex } from "../core/stack-index";
import { UnknownValues, plainProps, policyUnknownValues } from "./plain-props";
import type { EngineResource } from "./resource-conversion";

type Deserialize = (struct: unknown, proxySecrets: boolean) => unknown;
interface DeserializeModule {
  deserializeProperties?: Deserialize;
}

const SHARED = Symbol.for("keel.sharedDeserialization");

/**
 * Makes @pulumi/policy's deserializeProperties share its result per Struct; returns a function that undoes
 * it, or undefined when the module does not have the expected shape (the pack then works as before).
 */
export function shareDeserialization(
  module: DeserializeModule = policyDeserializeModule(),
): (() => void) | undefined {
  const original = module.deserializeProperties;
  if (typeof original !== "function" || (original as unknown as Record<symbol, unknown>)[SHARED]) {
    return undefined;
  }
  const results = new WeakMap<object, unknown>();
  const shared: Deserialize = (struct, proxySecrets) => {
    if (proxySecrets || typeof struct !== "object" || struct === null) {
      return original(struct, proxySecrets);
    }
    if (!results.has(struct)) {
      results.set(struct, original(struct, false));
    }
    return results.get(struct);
  };
  (shared as unknown as Record<symbol, unknown>)[SHARED] = true;
  module.deserializeProperties = shared;
  return () => {
    module.deserializeProperties = original;
  };
}

function policyDeserializeModule(): DeserializeModule {
  // The module server.js calls through (`deserialize_1.deserializeProperties(...)`); internal to
  // @pulumi/policy, which package.json pins exactly.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a subpath with no typings, loaded when needed
  return require("@pulumi/policy/deserialize") as DeserializeModule;
}

/** @pulumi/policy's proxies hand out their target for this key (proxy.js getSpecialProxyTarget). */
const PROXY_TARGET = "__getSpecialProxyTarget";

/** The object behind @pulumi/policy's proxy, or undefined for plain props (tests), which are never cached. */
function underlying(props: Record<string, unknown>): unknown {
  return props[PROXY_TARGET];
}

export interface KubernetesView {
  objects: K8sObject[];
  urns: Map<K8sObject, string>;
}

export interface SharedStackValue extends KubernetesView {
  index: StackIndex;
}

/** The Kubernetes view of a stack, converted once per distinct set of resources. */
export class SharedStack {
  private last?: { urns: string[]; targets: unknown[]; value: SharedStackValue };
  /** How many times a stack was converted and indexed (for tests and benchmarks). */
  conversions = 0;

  constructor(
    private readonly convert: (resources: readonly EngineResource[]) => KubernetesView,
    private readonly unknownValues: () => UnknownValues | undefined = policyUnknownValues,
  ) {}

  get(resources: readonly EngineResource[]): SharedStackValue {
    const urns = resources.map((r) => r.urn);
    const targets = resources.map((r) => underlying(r.props));
    const proxied = targets.every((t) => t !== undefined);
    const last = this.last;
    if (last && proxied && same(last.urns, urns) && same(last.targets, targets)) {
      return last.value;
    }
    // Behind @pulumi/policy's proxies: convert plain copies, so rules do not read through proxies.
    const unknown = proxied ? this.unknownValues() : undefined;
    const view = this.convert(
      unknown
        ? resources.map((r, i) => ({
            ...r,
            props: plainProps(targets[i], unknown) as Record<string, unknown>,
          }))
        : resources,
    );
    this.conversions++;
    const value = { ...view, index: new StackIndex(view.objects) };
    this.last = { urns, targets, value };
    return value;
  }
}

function same(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
