/** The lawful-intercept replica's apps (Service names and `app.kubernetes.io/name`). */
export const lawfulInterceptApps = {
  synapse: "synapse-li",
  postgres: "synapse-li-postgres",
  replicationSetup: "li-replication-setup",
  sequenceSync: "li-sequence-sync",
  mediaSync: "li-media-sync",
  element: "element-web-li",
  admin: "synapse-admin-li",
  keyVault: "key-vault",
} as const;
