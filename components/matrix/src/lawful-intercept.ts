import {
  BackupPolicy,
  BatchJob,
  Demand,
  GeneratedSecret,
  ImageResolver,
  IngressTls,
  Namespace,
  Postgres,
  SizingProfile,
  WebIngress,
  Workload,
  namespaceBudget,
  sizedStorage,
  sharedClaim,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { spaServerConfig, staticWebApp } from "./clients";
import {
  SYNAPSE_PORTS,
  monolithWorkerCounts,
  renderElementConfig,
  renderHomeserverConfig,
  renderLogConfig,
} from "./config";
import { MatrixComponent, matrixSize } from "./sizes";
import { SynapseProcesses } from "./synapse";
import { SynapseSecrets } from "./synapse-secrets";

/** What the replica reads from the main deployment. */
export interface LawfulInterceptSource {
  postgresApp: string;
  database: string;
  replicationUser: string;
  replicationPassword: pulumi.Input<string>;
  publication: string;
  s3App: string;
  s3Port: number;
  s3AccessKey: pulumi.Input<string>;
  s3SecretKey: pulumi.Input<string>;
}

export interface LawfulInterceptArgs {
  /** The replica's namespace (labelled lawful-intercept). */
  namespace: string;
  /** The namespace it replicates; it never gets access to the replica. */
  mainNamespace: string;
  domain: string;
  sizing: SizingProfile;
  images: ImageResolver;
  fastStorageClass: string;
  bulkStorageClass: string;
  ingressClass: string;
  ingressTls: IngressTls;
  ingressControllerNamespace: string;
  /** @default false */
  ingressSkipAwait?: boolean;
  backup: Omit<BackupPolicy, "storageClass">;
  /** Media and sequence sync schedule. */
  schedule: string;
  main: LawfulInterceptSource;
  /** @default false */
  protectData?: boolean;
  /** @default 0 */
  secretRotation?: number;
}

/**
 * The replica's schema and subscription. Logical replication carries rows, not DDL or sequence values, so
 * the job copies the publisher's schema first, subscribes with an initial copy, and records which Synapse
 * version the schema came from. When Synapse is upgraded (its migrations change main's schema), the job is
 * replaced and resynchronises from scratch: the replica only ever holds replicated data, so nothing is lost.
 */
export function replicationSetupScript(): string {
  return [
    "set -euo pipefail",
    'main="host=${MAIN_HOST} port=5432 dbname=${MAIN_DB} user=${MAIN_USER} password=${MAIN_PASSWORD}"',
    'marker="keel-li-schema ${SCHEMA_VERSION}"',
    "current=\"$(psql -Atc \"SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = current_database()\")\"",
    'if [ "${current}" = "${marker}" ]; then',
    '  echo "schema is current (${SCHEMA_VERSION}); refreshing the subscription"',
    '  psql -v ON_ERROR_STOP=1 -c "ALTER SUBSCRIPTION synapse_li REFRESH PUBLICATION"',
    "  exit 0",
    "fi",
    'echo "resynchronising the replica to schema ${SCHEMA_VERSION}"',
    'pg_dump --schema-only --no-owner --no-privileges --no-publications --no-subscriptions "${main}" > /tmp/schema.sql',
    "psql -v ON_ERROR_STOP=1 <<SQL",
    "DROP SUBSCRIPTION IF EXISTS synapse_li;",
    "DROP SCHEMA IF EXISTS public CASCADE;",
    "CREATE SCHEMA public;",
    "SQL",
    "psql -v ON_ERROR_STOP=1 -f /tmp/schema.sql",
    'psql -v ON_ERROR_STOP=1 -v conn="${main}" -v pub="${PUBLICATION}" <<\'SQL\'',
    "CREATE SUBSCRIPTION synapse_li CONNECTION :'conn' PUBLICATION :\"pub\" WITH (copy_data = true);",
    "SQL",
    "psql -v ON_ERROR_STOP=1 -c \"COMMENT ON DATABASE ${PGDATABASE} IS '${marker}'\"",
    'echo "subscribed; initial copy running"',
  ].join("\n");
}

/** Copies sequence positions main → replica (logical replication does not). */
export function sequenceSyncScript(): string {
  return [
    "set -euo pipefail",
    'main="host=${MAIN_HOST} port=5432 dbname=${MAIN_DB} user=${MAIN_USER} password=${MAIN_PASSWORD}"',
    "psql -Atc \"SELECT format('SELECT setval(%L, %s, true);', schemaname || '.' || sequencename, last_value) FROM pg_sequences WHERE last_value IS NOT NULL\" \"${main}\" > /tmp/setval.sql",
    "psql -v ON_ERROR_STOP=1 --single-transaction -q -f /tmp/setval.sql",
    'echo "sequences synchronised: $(wc -l < /tmp/setval.sql)"',
  ].join("\n");
}

/** Every pod of the replica's namespace (jobs counted once each). */
export function lawfulInterceptDemand(sizing: SizingProfile): Demand[] {
  return (
    [
      ["synapseMain", 1, "synapse-li"],
      ["postgres", 1, "synapse-li-postgres"],
      ["syncJob", 1, "postgres-backup"],
      ["syncJob", 1, "li-replication-setup"],
      ["syncJob", 1, "li-sequence-sync"],
      ["syncJob", 1, "li-media-sync"],
      ["elementWeb", 1, "element-web-li"],
      ["synapseAdmin", 1, "synapse-admin-li"],
      ["keyVault", 1, "key-vault"],
    ] as [MatrixComponent, number, string][]
  ).map(([c, replicas, label]) => ({
    name: `matrix-li/${label}`,
    replicas,
    resources: matrixSize(sizing, c),
  }));
}

/**
 * The lawful-intercept replica in its own namespace: synapse-li on a PostgreSQL that subscribes to main's
 * publication, key_vault with its own database, element-web-li and synapse-admin-li, media copied from
 * main's object store on a schedule. NetworkPolicies give it no internet egress and main no way in.
 */
export class LawfulIntercept extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly secretNames: pulumi.Output<string>[];

  constructor(name: string, args: LawfulInterceptArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:matrix:LawfulIntercept", name, {}, opts);
    const partOf = "matrix-li";
    const child = { parent: this };
    const size = (c: MatrixComponent) => matrixSize(args.sizing, c);
    const protect = args.protectData ?? false;
    const rotation = args.secretRotation;
    const mainHost = `${args.main.postgresApp}.${args.mainNamespace}.svc`;
    const hosts = {
      homeserver: `li.${args.domain}`,
      element: `element-li.${args.domain}`,
      admin: `admin-li.${args.domain}`,
      keyVault: `keyvault-li.${args.domain}`,
    };
    const demands = lawfulInterceptDemand(args.sizing);
    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: args.namespace,
        lawfulInterceptOf: args.mainNamespace,
        budget: namespaceBudget(demands, (20 + 20 + 50 + 1) * args.sizing.storageScale),
      },
      child,
    );
    const namespace = ns.name;
    this.namespace = namespace;
    const ingressNs = args.ingressControllerNamespace;

    const replicaSecret = new GeneratedSecret(
      `${name}-main-access`,
      {
        namespace,
        secretName: "li-main-access",
        generate: {},
        provided: {
          "replication-password": args.main.replicationPassword,
          "s3-access-key": args.main.s3AccessKey,
          "s3-secret-key": args.main.s3SecretKey,
        },
      },
      child,
    );
    const postgres = new Postgres(
      `${name}-postgres`,
      {
        namespace,
        partOf,
        image: args.images.image("postgres"),
        appName: "synapse-li-postgres",
        resources: size("postgres"),
        storageClass: args.fastStorageClass,
        storageSize: sizedStorage(args.sizing, 20),
        database: "synapse",
        user: "synapse",
        initdbArgs: "--encoding=UTF8 --lc-collate=C --lc-ctype=C",
        extraDatabases: [{ database: "key_vault", user: "key_vault" }],
        allowFrom: [
          { app: "synapse-li" },
          { app: "key-vault" },
          { app: "li-replication-setup" },
          { app: "li-sequence-sync" },
        ],
        // The subscription's apply worker connects from this server to main's publication.
        egressTo: [{ app: args.main.postgresApp, namespace: args.mainNamespace, ports: [5432] }],
        backup: { ...args.backup, storageClass: args.bulkStorageClass },
        protect,
        rotation,
      },
      child,
    );
    const syncEnv = {
      MAIN_HOST: mainHost,
      MAIN_DB: args.main.database,
      MAIN_USER: args.main.replicationUser,
      PGHOST: "synapse-li-postgres",
      PGDATABASE: "synapse",
      PGUSER: "synapse",
      PUBLICATION: args.main.publication,
    };
    const syncSecrets = {
      MAIN_PASSWORD: replicaSecret.ref("replication-password"),
      PGPASSWORD: postgres.passwordRef(),
    };
    const toDatabases = [
      { app: args.main.postgresApp, namespace: args.mainNamespace, ports: [5432] },
      { app: "synapse-li-postgres", ports: [5432] },
    ];
    const synapseImage = args.images.image("synapseLi");
    new BatchJob(
      `${name}-replication-setup`,
      {
        namespace,
        partOf,
        appName: "li-replication-setup",
        image: args.images.image("postgres"),
        command: ["bash", "-c", replicationSetupScript()],
        runAsUser: 999,
        resources: size("syncJob"),
        env: { ...syncEnv, SCHEMA_VERSION: synapseImage.split(":").pop() ?? "unknown" },
        secretEnv: syncSecrets,
        egressTo: toDatabases,
      },
      { parent: this, dependsOn: [postgres] },
    );
    new BatchJob(
      `${name}-sequence-sync`,
      {
        namespace,
        partOf,
        appName: "li-sequence-sync",
        image: args.images.image("postgres"),
        command: ["bash", "-c", sequenceSyncScript()],
        runAsUser: 999,
        resources: size("syncJob"),
        schedule: args.schedule,
        deadlineSeconds: 600,
        env: syncEnv,
        secretEnv: syncSecrets,
        egressTo: toDatabases,
      },
      child,
    );

    // Media: main's object store → the replica's media volume (LI has no object store of its own to leak).
    const media = sharedClaim(
      `${name}-media`,
      {
        namespace,
        partOf,
        claimName: "synapse-li-media",
        storageClass: args.bulkStorageClass,
        size: sizedStorage(args.sizing, 50),
        protect,
      },
      child,
    );
    new BatchJob(
      `${name}-media-sync`,
      {
        namespace,
        partOf,
        appName: "li-media-sync",
        image: args.images.image("rclone"),
        command: ["rclone", "sync", "--s3-provider=Other", ":s3:synapse-media", "/media"],
        resources: size("syncJob"),
        schedule: args.schedule,
        deadlineSeconds: 1800,
        env: {
          RCLONE_S3_ENDPOINT: `http://${args.main.s3App}.${args.mainNamespace}.svc:${args.main.s3Port}`,
          RCLONE_CONFIG: "/tmp/rclone.conf",
          RCLONE_CACHE_DIR: "/tmp/rclone",
        },
        secretEnv: {
          RCLONE_S3_ACCESS_KEY_ID: replicaSecret.ref("s3-access-key"),
          RCLONE_S3_SECRET_ACCESS_KEY: replicaSecret.ref("s3-secret-key"),
        },
        sharedVolumes: [{ name: "media", mountPath: "/media", claimName: media.metadata.name }],
        egressTo: [{ app: args.main.s3App, namespace: args.mainNamespace, ports: [args.main.s3Port] }],
      },
      child,
    );

    const synapseSecrets = new SynapseSecrets(
      `${name}-synapse-secrets`,
      { namespace, partOf, app: "synapse-li", keyId: "a_li", rotation },
      child,
    );

    const database = { host: "synapse-li-postgres", database: "synapse", user: "synapse" };
    const synapse = new SynapseProcesses(
      `${name}-synapse`,
      {
        namespace,
        partOf,
        image: synapseImage,
        mainApp: "synapse-li",
        groups: [],
        homeserverYaml: renderHomeserverConfig({
          domain: args.domain,
          homeserverHost: hosts.homeserver,
          counts: monolithWorkerCounts,
          database,
          mediaStorePath: "/media/media_store",
          // The replica never federates.
          federationDomainWhitelist: [],
        }),
        logYaml: renderLogConfig(),
        database,
        databasePassword: postgres.passwordRef(),
        secretsSecretName: synapseSecrets.configSecretName,
        signingKeySecretName: synapseSecrets.signingKeySecretName,
        mainResources: size("synapseMain"),
        workerResources: size("synapseMain"),
        mediaStore: { name: "media", mountPath: "/media", claimName: media.metadata.name },
        httpClients: [{ namespace: ingressNs }, { app: "key-vault" }],
        metricsScrapers: [],
        egressTo: [{ app: "synapse-li-postgres", ports: [5432] }],
        federationEgress: [],
        protect,
      },
      child,
    );
    const ingress = (id: string, host: string, service: pulumi.Input<string>, port: number) =>
      new WebIngress(
        `${name}-${id}-ingress`,
        {
          namespace,
          partOf,
          host,
          serviceName: service,
          servicePort: port,
          ingressClass: args.ingressClass,
          tls: args.ingressTls,
          skipAwait: args.ingressSkipAwait,
        },
        child,
      );
    ingress("homeserver", hosts.homeserver, "synapse-li", SYNAPSE_PORTS.http);
    void synapse;

    const element = staticWebApp(
      `${name}-element`,
      {
        namespace,
        partOf,
        appName: "element-web-li",
        image: args.images.image("elementWebLi"),
        resources: size("elementWeb"),
        replicas: 1,
        files: {
          "config.json": renderElementConfig({
            homeserverUrl: `https://${hosts.homeserver}`,
            serverName: args.domain,
          }),
        },
        filesPath: "/app",
        env: { ELEMENT_WEB_PORT: "8080" },
        allowFrom: [{ namespace: ingressNs }],
      },
      child,
    );
    ingress("element", hosts.element, element.serviceName, 8080);
    const admin = staticWebApp(
      `${name}-admin`,
      {
        namespace,
        partOf,
        appName: "synapse-admin-li",
        image: args.images.image("synapseAdminLi"),
        resources: size("synapseAdmin"),
        replicas: 1,
        files: { "config.json": JSON.stringify({ restrictBaseUrl: `https://${hosts.homeserver}` }) + "\n" },
        filesPath: "/app",
        nginxServerConfig: spaServerConfig("/app"),
        stockNginx: true,
        allowFrom: [{ namespace: ingressNs }],
      },
      child,
    );
    ingress("admin", hosts.admin, admin.serviceName, 8080);

    const keyVaultSecret = new GeneratedSecret(
      `${name}-key-vault`,
      { namespace, secretName: "key-vault", generate: { "django-secret-key": { length: 64 } }, rotation },
      child,
    );
    const health = { http: { path: "/health/", port: 8000 } };
    const keyVault = new Workload(
      `${name}-key-vault`,
      {
        namespace,
        appName: "key-vault",
        partOf,
        image: args.images.image("keyVault"),
        resources: size("keyVault"),
        bootSeconds: 60,
        probes: {
          startup: { ...health, periodSeconds: 5, failureThreshold: 12, timeoutSeconds: 3 },
          readiness: { ...health, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
          liveness: { ...health, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
        },
        ports: [{ name: "http", port: 8000 }],
        env: {
          DATABASE_HOST: "synapse-li-postgres",
          DATABASE_NAME: "key_vault",
          DATABASE_USER: "key_vault",
          DJANGO_ALLOWED_HOSTS: hosts.keyVault,
          SYNAPSE_URL: `http://synapse-li:${SYNAPSE_PORTS.http}`,
        },
        secretEnv: {
          DATABASE_PASSWORD: postgres.extraPasswordRef("key_vault"),
          DJANGO_SECRET_KEY: keyVaultSecret.ref("django-secret-key"),
        },
        critical: true,
        allowFrom: [{ namespace: ingressNs }],
        egressTo: [
          { app: "synapse-li-postgres", ports: [5432] },
          { app: "synapse-li", ports: [SYNAPSE_PORTS.http] },
        ],
      },
      child,
    );
    ingress("key-vault", hosts.keyVault, keyVault.serviceName, 8000);

    this.secretNames = [
      postgres.credentials.secretName,
      replicaSecret.secretName,
      ...synapseSecrets.secretNames(),
      keyVaultSecret.secretName,
    ];
    this.registerOutputs({ namespace: this.namespace });
  }
}
