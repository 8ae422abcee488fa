import { Workload } from "@keel/core";
import { staticWebApp } from "../clients";
import { renderWellKnown } from "../config";
import { MatrixContext, fromIngress, webIngress } from "./context";

/** nginx serving `/.well-known/matrix/{client,server}` as JSON with CORS (the server name's delegation). */
export function wellKnownServerConfig(docs: { client: string; server: string }): string {
  const location = (path: string, body: string) => [
    `    location = /.well-known/matrix/${path} {`,
    "        default_type application/json;",
    "        add_header Access-Control-Allow-Origin *;",
    `        return 200 '${body.trim().replace(/'/g, "\\'")}';`,
    "    }",
  ];
  return [
    "server {",
    "    listen 8080;",
    ...location("client", docs.client),
    ...location("server", docs.server),
    "    location = / {",
    "        return 200 'ok';",
    "    }",
    "    location / {",
    "        return 404;",
    "    }",
    "}",
    "",
  ].join("\n");
}

/** The server name's delegation: `<domain>/.well-known/matrix/*` points clients and servers at the homeserver. */
export function wellKnown(c: MatrixContext): Workload {
  const { plan } = c;
  const docs = renderWellKnown({
    homeserverUrl: plan.urls.homeserver,
    federationHost: `${plan.hosts.homeserver}:443`,
    groupCalls: plan.groupCalls,
  });
  const app = staticWebApp(
    `${c.name}-well-known`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      appName: "well-known",
      image: c.site.images.image("elementWeb"),
      resources: c.resources.elementWeb,
      replicas: plan.replicas.web,
      files: {},
      filesPath: "/srv",
      nginxServerConfig: wellKnownServerConfig(docs),
      allowFrom: [fromIngress(c)],
    },
    { parent: c.parent },
  );
  webIngress(c, "well-known", c.site.domain, app.serviceName, 8080, { path: "/.well-known/matrix" });
  return app;
}
