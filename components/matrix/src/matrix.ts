import { IngressTls, Namespace, namespaceBudget } from "@keel/core";
import { scrapedBy } from "@keel/monitoring";
import * as pulumi from "@pulumi/pulumi";
import { LawfulIntercept } from "./lawful-intercept";
import { MatrixPlan } from "./plan";
import { matrixAntivirus } from "./services/antivirus";
import { MatrixCalls, groupCalls } from "./services/calls";
import { MatrixContext } from "./services/context";
import { MatrixDatabase, matrixDatabase } from "./services/database";
import { elementWeb } from "./services/element";
import { matrixExporters } from "./services/exporters";
import { haproxyRouter } from "./services/haproxy";
import { MatrixMediaStore, mediaStore } from "./services/media-store";
import { synapseRedis } from "./services/redis";
import { synapseAdmin } from "./services/synapse-admin";
import { synapseProcesses, synapseSecrets } from "./services/synapse";
import { wellKnown } from "./services/well-known";

export type { MatrixCalls };

/** What `Matrix` builds from: its plan, the ingress certificates and the peers it was planned with. */
export interface MatrixBuildArgs {
  plan: MatrixPlan;
  tls: IngressTls;
  /** PEM of the stack's private CA (self-signed mode): trusted for federation. @default undefined */
  caCertificate?: pulumi.Input<string>;
  /** Group calls and TURN from the WebRTC platform: required exactly when planned with `peers.calls`. */
  calls?: MatrixCalls;
  /** Namespace of Prometheus: required exactly when planned with `peers.monitoring`. */
  monitoringNamespace?: string;
}

/** The build must get the peers the plan counted on (and no others): they decide what runs. */
function checkPeers(args: MatrixBuildArgs): void {
  const { plan } = args;
  const mismatch = (what: string, planned: boolean) =>
    new Error(
      `Matrix was planned ${planned ? "with" : "without"} ${what} but is built ${planned ? "without" : "with"} it`,
    );
  if (plan.calls !== (args.calls !== undefined)) throw mismatch("group calls (calls)", plan.calls);
  if (plan.monitored !== (args.monitoringNamespace !== undefined))
    throw mismatch("monitoring (monitoringNamespace)", plan.monitored);
}

/**
 * Matrix: Synapse's main process and workers behind generated HAProxy routing, PostgreSQL (UTF8, C collation)
 * behind PgBouncer in session mode, Redis for replication, media on a shared volume mirrored into the S3
 * object store, Element Web, Synapse Admin, group calls through the WebRTC platform's LiveKit with
 * lk-jwt-service, and the isolated lawful-intercept replica.
 */
export class Matrix extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly liNamespace?: pulumi.Output<string>;
  /** Public URLs. */
  readonly urls: { homeserver: string; element: string; admin: string };
  /** Names of the generated Secrets (never their values). */
  readonly secretNames: pulumi.Output<string[]>;

  constructor(name: string, args: MatrixBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:matrix:Matrix", name, {}, opts);
    checkPeers(args);
    const { plan, calls } = args;
    this.urls = { ...plan.urls };
    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: plan.namespace,
        budget: namespaceBudget([...plan.mainDemand], plan.site.sizing, plan.storageGi),
      },
      { parent: this },
    );
    this.namespace = ns.name;
    const c: MatrixContext = {
      name,
      plan,
      site: plan.site,
      tls: args.tls,
      namespace: this.namespace,
      partOf: "matrix",
      parent: this,
      resources: plan.resources,
      scrapers: args.monitoringNamespace ? [scrapedBy(args.monitoringNamespace)] : [],
    };

    const database = matrixDatabase(c);
    const redis = synapseRedis(c);
    const media = mediaStore(c);
    const secrets = synapseSecrets(c, calls?.turnSharedSecret);
    // Antivirus: clamd, scan workers on their own queue, Synapse's module on every process.
    const antivirus =
      plan.antivirus && matrixAntivirus(c, plan.antivirus, secrets.generated.ref("registration"));
    const synapse = synapseProcesses(c, {
      database,
      redis,
      media,
      secrets,
      antivirus,
      caCertificate: args.caCertificate,
      turnUris: calls?.turnUris,
    });
    if (args.monitoringNamespace) matrixExporters(c, database, redis, args.monitoringNamespace);

    const haproxy = haproxyRouter(c, synapse);
    wellKnown(c);
    const images = plan.site.images;
    const homeserverUrl = plan.urls.homeserver;
    elementWeb(c, {
      appName: "element-web",
      image: images.image("elementWeb"),
      replicas: plan.replicas.web,
      host: plan.hosts.element,
      homeserverUrl,
      groupCalls: plan.groupCalls,
    });
    synapseAdmin(c, {
      appName: "synapse-admin",
      image: images.image("synapseAdmin"),
      replicas: plan.replicas.web,
      host: plan.hosts.admin,
      homeserverUrl,
    });

    const secretNames: pulumi.Input<string>[] = [
      database.postgres.credentials.secretName,
      redis.server.credentials.secretName,
      media.objectStore.credentials.secretName,
      ...secrets.secretNames(),
    ];
    if (calls) secretNames.push(groupCalls(c, calls, haproxy).keys.secretName);
    if (plan.lawfulIntercept) {
      const li = new LawfulIntercept(
        `${name}-li`,
        { plan: plan.lawfulIntercept, tls: args.tls, main: lawfulInterceptSource(database, media) },
        // The replication setup copies main's schema: only once main's Synapse is ready (its migrations ran).
        { parent: this, dependsOn: [database.postgres, synapse] },
      );
      this.liNamespace = li.namespace;
      secretNames.push(...li.secretNames);
    }
    this.secretNames = pulumi.all(secretNames);
    this.registerOutputs({ namespace: this.namespace, urls: this.urls, secretNames: this.secretNames });
  }
}

/** What the LI replica reads from main: the database's publication and the media mirror. */
function lawfulInterceptSource(database: MatrixDatabase, media: MatrixMediaStore) {
  const publication = database.publication!;
  const s3 = media.objectStore;
  return {
    postgresApp: database.serverApp,
    database: database.database,
    replicationUser: publication.user,
    replicationPassword: database.postgres.credentials.values[`${publication.user}-password`],
    publication: publication.name,
    s3App: media.objectStoreApp,
    s3Port: s3.port,
    s3AccessKey: s3.credentials.values["access-key"],
    s3SecretKey: s3.credentials.values["secret-key"],
  };
}
