// Generated from contract/conventions.ts by `npm run contract`; edit that file, not this copy.
/** Annotation keys keel's components write and its policy pack reads; see docs/conventions.md. */
export const annotations = {
  critical: "keel.dev/critical",
  scalable: "keel.dev/scalable",
  bootSeconds: "keel.dev/boot-seconds",
  database: "keel.dev/database",
  dbMaxConnections: "keel.dev/db-max-connections",
  dbReservedConnections: "keel.dev/db-reserved-connections",
  dbPools: "keel.dev/db-pools",
  backupOf: "keel.dev/backup-of",
  backupRetention: "keel.dev/backup-retention",
  configHash: "keel.dev/config-hash",
  /** The generation of the generated credentials a pod uses (`keel:secretRotation`): a bump rolls it. */
  secretRotation: "keel.dev/secret-rotation",
} as const;

/** Namespace labels of the lawful-intercept replica and of the namespace it intercepts. */
export const namespaceLabels = {
  lawfulIntercept: "keel.dev/lawful-intercept",
  intercepts: "keel.dev/intercepts",
} as const;

/** Prefix of keel's own annotation and label keys. */
export const keelKeyPrefix = "keel.dev/";

/** Prefix of the annotations that exempt an object from one policy rule. */
export const exemptionPrefix = "exempt.keel.dev/";

/** Key of the annotation that exempts an object from one policy rule; its value is the required reason. */
export function exemptionKey(ruleId: string): string {
  return `${exemptionPrefix}${ruleId}`;
}

/** The `app.kubernetes.io/managed-by` value on every object keel creates. */
export const managedBy = "keel";

/** Standard labels on every object the program creates. */
export function appLabels(app: string, partOf: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": app,
    "app.kubernetes.io/part-of": partOf,
    "app.kubernetes.io/managed-by": managedBy,
  };
}

/** The subset of labels that selects an app's pods (stable across updates). */
export function selectorLabels(app: string, partOf: string): Record<string, string> {
  return { "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": partOf };
}
