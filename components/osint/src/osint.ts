import { IngressTls, Namespace, namespaceBudget } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { openctiConnector } from "./connector";
import { osintDatastores } from "./datastores";
import { osintOpsUis } from "./ops-ui";
import { OsintPlan } from "./plan";
import { OsintScope } from "./scope";
import { osintWorkers } from "./workers";

/** What `Osint` builds from: its plan and the site's ingress certificates. */
export interface OsintBuildArgs {
  plan: OsintPlan;
  tls: IngressTls;
}

/**
 * The OSINT platform (June Dark): PostgreSQL, Elasticsearch with Kibana, Redis, RabbitMQ, Neo4j and an S3
 * object store, the collector and enricher workers (autoscaled), the orchestrator, the OpenCTI connector
 * and the ops UI.
 */
export class Osint extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly opsUrl: string;
  readonly kibanaUrl: string;
  /** Names of the generated Secrets (never their values). */
  readonly secretNames: pulumi.Output<string[]>;

  constructor(name: string, { plan, tls }: OsintBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:osint:Osint", name, {}, opts);
    this.opsUrl = `https://${plan.hosts.ops}`;
    this.kibanaUrl = `https://${plan.hosts.kibana}`;
    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: plan.namespace,
        budget: namespaceBudget([...plan.demand], plan.site.sizing, plan.storageGi),
      },
      { parent: this },
    );
    this.namespace = ns.name;
    const scope: OsintScope = { name, plan, namespace: ns.name, parent: this };
    const stores = osintDatastores(scope);
    const connector = openctiConnector(scope, stores);
    const workers = osintWorkers(scope, stores);
    const { kibana } = osintOpsUis(scope, stores, workers.orchestrator, tls);
    const { postgres, redis, elasticsearch, rabbitmq, neo4j, objectStore } = stores;
    this.secretNames = pulumi
      .all([
        postgres.credentials.secretName,
        redis.credentials.secretName,
        elasticsearch.credentials.secretName,
        kibana.keys.secretName,
        rabbitmq.credentials.secretName,
        neo4j.credentials.secretName,
        objectStore.credentials.secretName,
        connector.token.secretName,
      ])
      .apply((names) => names as string[]);
    this.registerOutputs({
      namespace: this.namespace,
      opsUrl: this.opsUrl,
      kibanaUrl: this.kibanaUrl,
      secretNames: this.secretNames,
    });
  }
}
