import { Workload } from "@keel/core";
import { spaServerConfig, staticWebApp } from "../clients";
import { NamespaceContext, fromIngress, webIngress } from "./context";

/** One Synapse Admin (`<name>-admin`) restricted to a homeserver, on its own host. */
export interface SynapseAdminArgs {
  appName: string;
  image: string;
  replicas: number;
  host: string;
  homeserverUrl: string;
}

/** Synapse Admin on the stock nginx image, usable only against `homeserverUrl`, reached through its ingress. */
export function synapseAdmin(c: NamespaceContext, args: SynapseAdminArgs): Workload {
  const admin = staticWebApp(
    `${c.name}-admin`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      appName: args.appName,
      image: args.image,
      resources: c.resources.synapseAdmin,
      replicas: args.replicas,
      files: { "config.json": JSON.stringify({ restrictBaseUrl: args.homeserverUrl }) + "\n" },
      filesPath: "/app",
      nginxServerConfig: spaServerConfig("/app"),
      stockNginx: true,
      allowFrom: [fromIngress(c)],
    },
    { parent: c.parent },
  );
  webIngress(c, "admin", args.host, admin.serviceName, 8080);
  return admin;
}
