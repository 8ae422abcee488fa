import {
  K8sObject,
  apiGroupOf,
  asArray,
  asString,
  isCustomGroup,
  isRecord,
  nameOf,
  specOf,
} from "../core/k8s";
import { resourceRule } from "../core/rule";
import { perElement, readOr } from "../core/unknown";

interface Settings {
  allowedStorageClasses: string[];
}

/** F4: a claim names the storage class it binds to; `storageClassName: ""` never binds without static PVs. */
export const pvcStorageClass = resourceRule<Settings>({
  id: "pvc-storage-class",
  findings: ["F4"],
  description:
    "PersistentVolumeClaims and StatefulSet volumeClaimTemplates set a non-empty storageClassName (from the allow-list when configured); " +
    'custom resources (operators\' Cluster, Tenant...) have no `storageClassName: ""` or `storageClass: ""` anywhere in their spec.',
  fix: "`storageClassName: fast-ssd` (an existing class)",
  defaultLevel: "mandatory",
  config: {
    schema: {
      allowedStorageClasses: {
        type: "array",
        items: { type: "string" },
        description: "Storage classes claims may use (empty: any non-empty name).",
      },
    },
    defaults: { allowedStorageClasses: [] },
  },
  check(obj, settings) {
    const allowed = asArray<string>(settings.allowedStorageClasses);
    const checkClaim = (label: string, spec: Record<string, unknown>): string[] => {
      const value = spec.storageClassName;
      const className = asString(value);
      const suggestion =
        allowed.length > 0 ? allowed.join(" or ") : "an existing StorageClass, e.g. fast-ssd";
      if (value === undefined || value === null) {
        return [
          `set spec.storageClassName of ${label} to ${suggestion} (unset means the cluster default, which may not exist)`,
        ];
      } else if (className === undefined || className.trim() === "") {
        return [
          `set spec.storageClassName of ${label} to ${suggestion}: "" disables dynamic provisioning and the claim stays Pending`,
        ];
      } else if (allowed.length > 0 && !allowed.includes(className)) {
        return [`storageClassName '${className}' of ${label} is not allowed: use ${allowed.join(" or ")}`];
      }
      return [];
    };
    if (obj.kind !== "PersistentVolumeClaim" && obj.kind !== "StatefulSet") {
      if (!isCustomGroup(apiGroupOf(asString(obj.apiVersion)))) {
        return [];
      }
      const suggestion =
        allowed.length > 0 ? allowed.join(" or ") : "an existing StorageClass, e.g. fast-ssd";
      return emptyClassPaths(specOf(obj), "spec").map(
        (path) =>
          `set ${path} to ${suggestion}: "" disables dynamic provisioning and the claims the operator creates stay Pending`,
      );
    }
    return obj.kind === "StatefulSet"
      ? perElement<K8sObject | undefined>(
          () => specOf(obj).volumeClaimTemplates,
          (t) => (isRecord(t) ? checkClaim(`volumeClaimTemplate '${nameOf(t)}'`, specOf(t)) : []),
        )
      : checkClaim("the claim", specOf(obj));
  },
});

const CLASS_FIELDS = new Set(["storageClassName", "storageClass"]);

/** Dotted paths of `storageClassName`/`storageClass` fields set to "" (values unknown at preview are skipped). */
export function emptyClassPaths(value: unknown, path: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, i) =>
      emptyClassPaths(
        readOr(() => item as unknown, undefined),
        `${path}[${i}]`,
      ),
    );
  }
  if (!isRecord(value)) {
    return [];
  }
  return Object.keys(value).flatMap((key) => {
    const child = readOr(() => value[key], undefined);
    if (CLASS_FIELDS.has(key) && typeof child === "string") {
      return child.trim() === "" ? [`${path}.${key}`] : [];
    }
    return emptyClassPaths(child, `${path}.${key}`);
  });
}
