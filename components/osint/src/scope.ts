import { NetworkPeer } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { OsintPlan } from "./plan";

/** What every part of the platform is built in: its plan, its namespace and the component that owns it. */
export interface OsintScope {
  /** The component's name, prefix of every child's name. */
  readonly name: string;
  readonly plan: OsintPlan;
  readonly namespace: pulumi.Output<string>;
  /** The `Osint` component: every child's parent. */
  readonly parent: pulumi.Resource;
}

export const partOf = "osint";

/** Pods of these apps (every port). */
export const peers = (...apps: string[]): NetworkPeer[] => apps.map((a) => ({ app: a }));

/** Public addresses only: everything but the private ranges (the cluster included). */
export const publicAddresses = {
  cidr: "0.0.0.0/0",
  except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
};

/** Internet egress for crawlers: HTTP(S) to public addresses. */
export const internet: NetworkPeer[] = [{ ...publicAddresses, ports: [80, 443] }];
