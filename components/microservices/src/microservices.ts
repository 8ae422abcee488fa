import { IngressTls, Namespace, namespaceBudget } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { MicroservicesPlan } from "./plan";
import { MicroservicesScope } from "./scope";
import { microservicesServices } from "./services";
import { microservicesStores } from "./stores";

/** What `Microservices` builds from: its plan and the site's ingress certificates. */
export interface MicroservicesBuildArgs {
  plan: MicroservicesPlan;
  tls: IngressTls;
}

/**
 * The microservices platform: ai-service, a Playwright browser pool, an audit sink writing to ClickHouse and
 * a message queue on Redis Streams (no eviction, append-only persistence), each autoscaled with a PDB.
 */
export class Microservices extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly aiUrl: string;
  readonly secretNames: pulumi.Output<string[]>;

  constructor(name: string, { plan, tls }: MicroservicesBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:microservices:Microservices", name, {}, opts);
    this.aiUrl = `https://${plan.aiHost}`;
    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: plan.namespace,
        budget: namespaceBudget([...plan.demand], plan.site.sizing, plan.storageGi),
      },
      { parent: this },
    );
    this.namespace = ns.name;
    const scope: MicroservicesScope = { name, plan, namespace: ns.name, parent: this };
    const stores = microservicesStores(scope);
    microservicesServices(scope, stores, tls);
    const { keys, redis, clickhouse } = stores;
    this.secretNames = pulumi
      .all([keys.secretName, redis.credentials.secretName, clickhouse.credentials.secretName])
      .apply((names) => names as string[]);
    this.registerOutputs({ namespace: this.namespace, aiUrl: this.aiUrl, secretNames: this.secretNames });
  }
}
