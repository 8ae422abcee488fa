import { IngressTls, PlatformPlan, Site } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";

/** Secret config values (set with `pulumi config set --secret`). */
export interface StackSecrets {
  tlsCertificate?: pulumi.Output<string>;
  tlsKey?: pulumi.Output<string>;
  /** The OpenCTI API token for the OSINT connector (generated when unset). */
  openctiToken?: pulumi.Output<string>;
  /** Model provider keys for the microservices' ai-service. */
  openaiApiKey?: pulumi.Output<string>;
  anthropicApiKey?: pulumi.Output<string>;
}

/** What planning a platform sees: the validated site, which platforms the stack enables, its secrets. */
export interface PlanContext {
  site: Site;
  enabled: readonly string[];
  secrets: StackSecrets;
}

/** What building a platform sees: every enabled platform's plan, what was built before it, and the TLS. */
export interface BuildContext {
  tls: IngressTls;
  /** The private CA's certificate in self-signed mode. */
  caCertificate?: pulumi.Output<string>;
  plans: Readonly<Record<string, PlatformPlan>>;
  /** Components already built, by platform key (the table's order). */
  built: Readonly<Record<string, pulumi.ComponentResource>>;
  /** Endpoints exported so far. */
  endpoints: Readonly<Record<string, string>>;
}

/** The stack outputs a platform contributes: never secret values. */
export interface PlatformOutputs {
  namespaces: Record<string, pulumi.Output<string>>;
  endpoints: Record<string, string>;
  generatedSecrets?: pulumi.Output<string[]>;
}

/** One row of the platform table: how the program plans and builds a platform from stack config. */
export interface PlatformEntry<
  P extends PlatformPlan = PlatformPlan,
  C extends pulumi.ComponentResource = pulumi.ComponentResource,
  S = unknown,
> {
  /** Name of its component (and prefix of its resources' names). */
  readonly name: string;
  /** Keys of its `keel:<key>` settings object. */
  readonly settingKeys: readonly string[];
  /**
   * Pure: resolves its settings (the `keel:<key>` object, unknown keys already refused) once and computes what
   * it will make; errors name `keel:<key>.*`.
   */
  plan(ctx: PlanContext, settings: S): P;
  /** Creates its resources from its plan. */
  build(plan: P, ctx: BuildContext): { component: C; outputs: PlatformOutputs };
}
