import { IngressTls, Namespace, WebIngress, namespaceBudget } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { aiCoreKeycloak } from "./keycloak";
import { orchestrator } from "./orchestrator";
import { AiCorePlan, partOf } from "./plan";
import { speechServices } from "./speech";
import { aiCoreStores } from "./stores";

/** What `AiCore` builds from: its plan and the site's ingress certificates. */
export interface AiCoreBuildArgs {
  plan: AiCorePlan;
  tls: IngressTls;
}

/**
 * The AI voice-assistant core: orchestrator, Keycloak, PostgreSQL, Redis and, with a GPU, speech-to-text
 * and text-to-speech services with their models on volumes.
 */
export class AiCore extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly assistantUrl: string;
  readonly authUrl: string;
  /** Names of the generated Secrets an operator may need (never their values). */
  readonly secretNames: pulumi.Output<string[]>;

  constructor(name: string, args: AiCoreBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:ai:AiCore", name, {}, opts);
    const { plan, tls } = args;
    const { site } = plan;
    this.assistantUrl = `https://${plan.hosts.assistant}`;
    this.authUrl = `https://${plan.hosts.auth}`;
    const ns = new Namespace(
      `${name}-ns`,
      { namespaceName: plan.namespace, budget: namespaceBudget([...plan.demand], site.sizing) },
      { parent: this },
    );
    const namespace = ns.name;
    this.namespace = namespace;

    const { postgres, redis } = aiCoreStores(name, plan, namespace, this);
    const keycloak = aiCoreKeycloak(name, plan, { namespace, postgres, authUrl: this.authUrl }, this);
    const speech = plan.speech ? speechServices(name, plan, namespace, this) : [];
    const assistant = orchestrator(
      name,
      plan,
      { namespace, postgres, redis, authUrl: this.authUrl, speech },
      this,
    );

    const ingress = (host: string, component: string, service: pulumi.Input<string>) =>
      new WebIngress(
        `${name}-${component}-ingress`,
        {
          namespace,
          partOf,
          host,
          serviceName: service,
          servicePort: 8080,
          ingressClass: site.ingress.className,
          tls,
          skipAwait: site.ingress.skipAwait,
        },
        { parent: this },
      );
    ingress(plan.hosts.assistant, "assistant", assistant.serviceName);
    ingress(plan.hosts.auth, "auth", keycloak.workload.serviceName);

    this.secretNames = pulumi
      .all([postgres.credentials.secretName, redis.credentials.secretName, keycloak.admin.secretName])
      .apply((names) => names as string[]);
    this.registerOutputs({
      namespace: this.namespace,
      assistantUrl: this.assistantUrl,
      authUrl: this.authUrl,
      secretNames: this.secretNames,
    });
  }
}
