import * as pulumi from "@pulumi/pulumi";
import { MicroservicesPlan } from "./plan";

/** What every part of the platform is built in: its plan, its namespace and the component that owns it. */
export interface MicroservicesScope {
  /** The component's name, prefix of every child's name. */
  readonly name: string;
  readonly plan: MicroservicesPlan;
  readonly namespace: pulumi.Output<string>;
  /** The `Microservices` component: every child's parent. */
  readonly parent: pulumi.Resource;
}

export const partOf = "microservices";
