import { Workload } from "@keel/core";
import { staticWebApp } from "../clients";
import { GroupCallSettings, renderElementConfig } from "../config";
import { NamespaceContext, fromIngress, webIngress } from "./context";

/** One Element Web (`<name>-element`) for a homeserver, on its own host. */
export interface ElementWebArgs {
  appName: string;
  image: string;
  replicas: number;
  host: string;
  homeserverUrl: string;
  /** @default undefined (no group calls) */
  groupCalls?: GroupCallSettings;
}

/** Element Web with its generated config.json, reached through its ingress only. */
export function elementWeb(c: NamespaceContext, args: ElementWebArgs): Workload {
  const element = staticWebApp(
    `${c.name}-element`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      appName: args.appName,
      image: args.image,
      resources: c.resources.elementWeb,
      replicas: args.replicas,
      files: {
        "config.json": renderElementConfig({
          homeserverUrl: args.homeserverUrl,
          serverName: c.site.domain,
          groupCalls: args.groupCalls,
        }),
      },
      filesPath: "/app",
      env: { ELEMENT_WEB_PORT: "8080" },
      allowFrom: [fromIngress(c)],
    },
    { parent: c.parent },
  );
  webIngress(c, "element", args.host, element.serviceName, 8080);
  return element;
}
