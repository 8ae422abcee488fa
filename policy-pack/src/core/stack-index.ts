import {
  DeclaredScopes,
  K8sObject,
  LONG_RUNNING_KINDS,
  POD_WORKLOAD_KINDS,
  StringMap,
  annotationsOf,
  asNumber,
  asString,
  declaredReplicas,
  declaredScopes,
  isClusterScoped,
  isRecord,
  kindOf,
  labelsOf,
  nameOf,
  namespaceOf,
  specOf,
} from "./k8s";
import { UnknownValueLike, isUnknownValueError, readOr } from "./unknown";

/**
 * Every object of a stack, indexed once by kind and by namespace so that stack rules stay linear.
 * Kind, namespace and name are read defensively: a value unknown at preview counts as "".
 */
export class StackIndex {
  readonly objects: readonly K8sObject[];
  private readonly kinds = new Map<string, K8sObject[]>();
  private readonly namespaced = new Map<string, Map<string, K8sObject[]>>();
  private readonly namespaceObjects = new Map<string, K8sObject>();
  private readonly identity = new Map<K8sObject, { kind: string; namespace: string; name: string }>();
  private hpaByTarget?: Map<string, K8sObject[]>;
  private readonly hpaUnknown = new Map<string, UnknownValueLike>();

  /** Scopes of custom kinds declared by the stack's CustomResourceDefinitions. */
  readonly scopes: DeclaredScopes;

  constructor(objects: readonly K8sObject[]) {
    this.objects = objects;
    this.scopes = declaredScopes(objects);
    for (const obj of objects) {
      const kind = readOr(() => kindOf(obj), "");
      const namespace = readOr(() => namespaceOf(obj, this.scopes), "");
      const name = readOr(() => nameOf(obj), "");
      this.identity.set(obj, { kind, namespace, name });
      push(this.kinds, kind, obj);
      let byKind = this.namespaced.get(namespace);
      if (!byKind) {
        byKind = new Map();
        this.namespaced.set(namespace, byKind);
      }
      push(byKind, kind, obj);
      if (kind === "Namespace") {
        this.namespaceObjects.set(name, obj);
      }
    }
  }

  kindOf(obj: K8sObject): string {
    return this.identity.get(obj)?.kind ?? readOr(() => kindOf(obj), "");
  }

  namespaceOf(obj: K8sObject): string {
    return this.identity.get(obj)?.namespace ?? readOr(() => namespaceOf(obj, this.scopes), "");
  }

  /** Whether the object's kind lives outside namespaces (built-in table, or a CRD of this stack). */
  isClusterScoped(obj: K8sObject): boolean {
    return isClusterScoped(
      this.kindOf(obj),
      readOr(() => asString(obj.apiVersion), undefined),
      this.scopes,
    );
  }

  nameOf(obj: K8sObject): string {
    return this.identity.get(obj)?.name ?? readOr(() => nameOf(obj), "");
  }

  ofKind(kind: string): readonly K8sObject[] {
    return this.kinds.get(kind) ?? [];
  }

  inNamespace(namespace: string, kind: string): readonly K8sObject[] {
    return this.namespaced.get(namespace)?.get(kind) ?? [];
  }

  namespaceObject(name: string): K8sObject | undefined {
    return this.namespaceObjects.get(name);
  }

  /** Pod-bearing objects: Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs... */
  workloads(): K8sObject[] {
    const result: K8sObject[] = [];
    for (const kind of POD_WORKLOAD_KINDS) {
      result.push(...this.ofKind(kind));
    }
    return result;
  }

  /** Pod-bearing objects of one namespace. */
  workloadsIn(namespace: string): K8sObject[] {
    const result: K8sObject[] = [];
    for (const kind of POD_WORKLOAD_KINDS) {
      result.push(...this.inNamespace(namespace, kind));
    }
    return result;
  }

  /** Workloads that run until stopped (not Jobs or CronJobs). */
  longRunningWorkloads(): K8sObject[] {
    return this.workloads().filter((w) => LONG_RUNNING_KINDS.has(this.kindOf(w)));
  }

  /** Namespaces that contain at least one pod-bearing object, sorted. */
  workloadNamespaces(): string[] {
    const names = new Set<string>();
    for (const w of this.workloads()) {
      names.add(this.namespaceOf(w));
    }
    return [...names].filter((n) => n !== "").sort();
  }

  /** Labels a namespaceSelector sees: the Namespace object's labels plus kubernetes.io/metadata.name. */
  namespaceLabels(name: string): StringMap {
    const obj = this.namespaceObject(name);
    const labels = obj ? readOr(() => labelsOf(obj), {}) : {};
    return { ...labels, "kubernetes.io/metadata.name": name };
  }

  namespaceAnnotations(name: string): StringMap {
    const obj = this.namespaceObject(name);
    return obj ? readOr(() => annotationsOf(obj), {}) : {};
  }

  /** HorizontalPodAutoscalers whose scaleTargetRef names the workload (same namespace, kind and name). */
  autoscalersOf(workload: K8sObject): readonly K8sObject[] {
    const byTarget = this.autoscalerIndex();
    return (
      byTarget.get(targetKey(this.namespaceOf(workload), this.kindOf(workload), this.nameOf(workload))) ?? []
    );
  }

  /** The unknown value that hides the target of some HorizontalPodAutoscaler of the namespace at preview, if any. */
  unknownAutoscalerIn(namespace: string): UnknownValueLike | undefined {
    this.autoscalerIndex();
    return this.hpaUnknown.get(namespace);
  }

  private autoscalerIndex(): Map<string, K8sObject[]> {
    if (!this.hpaByTarget) {
      this.hpaByTarget = new Map();
      for (const hpa of this.ofKind("HorizontalPodAutoscaler")) {
        try {
          const ref = specOf(hpa).scaleTargetRef;
          if (isRecord(ref)) {
            const key = targetKey(this.namespaceOf(hpa), asString(ref.kind) ?? "", asString(ref.name) ?? "");
            push(this.hpaByTarget, key, hpa);
          }
        } catch (err) {
          if (!isUnknownValueError(err)) {
            throw err;
          }
          const namespace = this.namespaceOf(hpa);
          this.hpaUnknown.set(namespace, this.hpaUnknown.get(namespace) ?? err);
        }
      }
    }
    return this.hpaByTarget;
  }

  /** Worst-case replicas: the HPA's maxReplicas when one targets the workload, else spec.replicas. */
  maxReplicas(workload: K8sObject): number | undefined {
    const hpaMax = this.autoscalersOf(workload)
      .map((hpa) => readOr(() => asNumber(specOf(hpa).maxReplicas), undefined))
      .filter((n): n is number => n !== undefined);
    if (hpaMax.length > 0) {
      return Math.max(...hpaMax);
    }
    return readOr(() => declaredReplicas(workload), undefined);
  }
}

function targetKey(namespace: string, kind: string, name: string): string {
  return `${namespace}\u0000${kind}\u0000${name}`;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) {
    list.push(value);
  } else {
    map.set(key, [value]);
  }
}
