/** Annotation and label keys shared with the policy pack; see docs/conventions.md. */
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
} as const;

export const namespaceLabels = {
  lawfulIntercept: "keel.dev/lawful-intercept",
  intercepts: "keel.dev/intercepts",
} as const;

/** Key of the annotation that exempts an object from one policy rule; its value is the required reason. */
export function exemptionKey(ruleId: string): string {
  return `exempt.keel.dev/${ruleId}`;
}

/** Standard labels on every object the program creates. */
export function appLabels(app: string, partOf: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": app,
    "app.kubernetes.io/part-of": partOf,
    "app.kubernetes.io/managed-by": "keel",
  };
}

/** The subset of labels that selects an app's pods (stable across updates). */
export function selectorLabels(app: string, partOf: string): Record<string, string> {
  return { "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": partOf };
}
