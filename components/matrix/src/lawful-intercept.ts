import {
  Demand,
  IngressTls,
  Namespace,
  NetworkPeer,
  ResourceSpec,
  Site,
  SizingProfile,
  namespaceBudget,
  sizedStorage,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { lawfulInterceptApps } from "./li/apps";
import { liDatabase } from "./li/database";
import { liKeyVault } from "./li/key-vault";
import { liMedia } from "./li/media";
import { liSynapse } from "./li/synapse";
import { NamespaceContext } from "./services/context";
import { elementWeb } from "./services/element";
import { synapseAdmin } from "./services/synapse-admin";
import { MatrixComponent, matrixSize, matrixSizes } from "./sizes";

export { lawfulInterceptApps } from "./li/apps";
export { replicationSetupScript, sequenceSyncScript } from "./li/database";

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
  /** Media and sequence sync schedule. */
  schedule: string;
  /** Sizes of the components. @default the site's sizing profile */
  resources?: Readonly<Record<MatrixComponent, ResourceSpec>>;
}

/** What the replica will make; `planLawfulIntercept` computes it and `LawfulIntercept` builds it. */
export interface LawfulInterceptPlan {
  readonly site: Site;
  readonly namespace: string;
  readonly mainNamespace: string;
  readonly schedule: string;
  readonly hosts: {
    readonly homeserver: string;
    readonly element: string;
    readonly admin: string;
    readonly keyVault: string;
  };
  readonly resources: Readonly<Record<MatrixComponent, ResourceSpec>>;
  readonly storage: { readonly postgres: string; readonly media: string };
  /** The LI Synapse image, and its tag: the schema version the replica copies. */
  readonly synapseImage: string;
  readonly schemaVersion: string;
  /** Who in the replica's namespace reads main's database and object store (their allowFrom). */
  readonly readers: {
    readonly database: readonly NetworkPeer[];
    readonly objectStore: readonly NetworkPeer[];
  };
  /** Every pod of its namespace (jobs counted once each), and the Gi it claims. */
  readonly demand: readonly Demand[];
  readonly storageGi: number;
}

/** Every pod of the replica's namespace (jobs counted once each). */
export function lawfulInterceptDemand(sizing: SizingProfile): Demand[] {
  const a = lawfulInterceptApps;
  return (
    [
      ["synapseMain", 1, a.synapse],
      ["postgres", 1, a.postgres],
      ["syncJob", 1, "postgres-backup"],
      ["syncJob", 1, a.replicationSetup],
      ["syncJob", 1, a.sequenceSync],
      ["syncJob", 1, a.mediaSync],
      ["elementWeb", 1, a.element],
      ["synapseAdmin", 1, a.admin],
      ["keyVault", 1, a.keyVault],
    ] as [MatrixComponent, number, string][]
  ).map(([c, replicas, label]) => ({
    name: `matrix-li/${label}`,
    replicas,
    resources: matrixSize(sizing, c),
  }));
}

/** Computes the replica's hosts, sizes, readers of main and demand; pure. */
export function planLawfulIntercept(site: Site, args: LawfulInterceptArgs): LawfulInterceptPlan {
  const d = site.domain;
  const a = lawfulInterceptApps;
  const synapseImage = site.images.image("synapseLi");
  const inLi = (app: string) => ({ app, namespace: args.namespace });
  return {
    site,
    namespace: args.namespace,
    mainNamespace: args.mainNamespace,
    schedule: args.schedule,
    hosts: {
      homeserver: `li.${d}`,
      element: `element-li.${d}`,
      admin: `admin-li.${d}`,
      keyVault: `keyvault-li.${d}`,
    },
    resources: args.resources ?? matrixSizes(site.sizing),
    storage: { postgres: sizedStorage(site.sizing, 20), media: sizedStorage(site.sizing, 50) },
    synapseImage,
    schemaVersion: synapseImage.split(":").pop() ?? "unknown",
    readers: {
      database: [a.postgres, a.replicationSetup, a.sequenceSync].map(inLi),
      objectStore: [inLi(a.mediaSync)],
    },
    demand: lawfulInterceptDemand(site.sizing),
    storageGi: (20 + 20 + 50 + 1) * site.sizing.storageScale,
  };
}

/** What `LawfulIntercept` builds from: its plan, the ingress certificates and what it reads from main. */
export interface LawfulInterceptBuildArgs {
  plan: LawfulInterceptPlan;
  tls: IngressTls;
  main: LawfulInterceptSource;
}

/**
 * The lawful-intercept replica in its own namespace: synapse-li on a PostgreSQL that subscribes to main's
 * publication, key_vault with its own database, element-web-li and synapse-admin-li, media copied from
 * main's object store on a schedule. NetworkPolicies give it no internet egress and main no way in.
 */
export class LawfulIntercept extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly secretNames: pulumi.Output<string>[];

  constructor(name: string, args: LawfulInterceptBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:matrix:LawfulIntercept", name, {}, opts);
    const { plan, main } = args;
    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: plan.namespace,
        lawfulInterceptOf: plan.mainNamespace,
        budget: namespaceBudget([...plan.demand], plan.site.sizing, plan.storageGi),
      },
      { parent: this },
    );
    this.namespace = ns.name;
    const c: NamespaceContext = {
      name,
      site: plan.site,
      tls: args.tls,
      namespace: this.namespace,
      partOf: "matrix-li",
      parent: this,
      resources: plan.resources,
    };
    const db = liDatabase(c, plan, main);
    const media = liMedia(c, plan, main, db.mainAccess);
    const synapse = liSynapse(c, plan, db.postgres, media);
    const homeserverUrl = `https://${plan.hosts.homeserver}`;
    const images = plan.site.images;
    elementWeb(c, {
      appName: lawfulInterceptApps.element,
      image: images.image("elementWebLi"),
      replicas: 1,
      host: plan.hosts.element,
      homeserverUrl,
    });
    synapseAdmin(c, {
      appName: lawfulInterceptApps.admin,
      image: images.image("synapseAdminLi"),
      replicas: 1,
      host: plan.hosts.admin,
      homeserverUrl,
    });
    const keyVault = liKeyVault(c, plan, db.postgres);
    this.secretNames = [
      db.postgres.credentials.secretName,
      db.mainAccess.secretName,
      ...synapse.secrets.secretNames(),
      keyVault.secret.secretName,
    ];
    this.registerOutputs({ namespace: this.namespace });
  }
}
