import { NetworkPeer, Probes, ResourceSpec, SecretKeyRef, Workload, exemptionKey } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";

function httpProbes(path: string, port: number): Probes {
  const check = { http: { path, port } };
  return {
    startup: { ...check, periodSeconds: 2, failureThreshold: 15, timeoutSeconds: 2 },
    readiness: { ...check, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
    liveness: { ...check, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
  };
}

/**
 * The stock nginx image (Synapse Admin's base) writes its pid to /var/run and request buffers to
 * /var/cache/nginx; Element's nginx-unprivileged base keeps both in /tmp, which every Workload has.
 */
const stockNginxScratch = [
  { name: "nginx-temp", mountPath: "/var/cache/nginx", sizeLimit: "64Mi" },
  { name: "run", mountPath: "/var/run", sizeLimit: "1Mi" },
];

export interface StaticWebAppArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  appName: string;
  image: string;
  resources: ResourceSpec;
  replicas: number;
  /** Files mounted next to the app (e.g. Element's config.json). */
  files: Record<string, string>;
  /** Where `files` go, e.g. `/app` for config.json. */
  filesPath: string;
  /** Who may connect on 8080. */
  allowFrom: NetworkPeer[];
  /**
   * A server block replacing the image's own (Synapse Admin's image listens on 80, which a non-root process
   * cannot bind). @default undefined (the image's nginx config, e.g. Element's ELEMENT_WEB_PORT)
   */
  nginxServerConfig?: string;
  /** The image is the stock nginx (root-oriented paths) rather than nginx-unprivileged. @default false */
  stockNginx?: boolean;
  /** @default {} */
  env?: Record<string, string>;
}

/**
 * A static single-page app on nginx (Element Web, Synapse Admin): non-root on 8080, read-only root
 * filesystem, its generated config mounted as a file.
 */
export function staticWebApp(name: string, args: StaticWebAppArgs, opts: pulumi.ComponentResourceOptions) {
  return new Workload(
    name,
    {
      namespace: args.namespace,
      appName: args.appName,
      partOf: args.partOf,
      image: args.image,
      replicas: args.replicas,
      resources: args.resources,
      probes: httpProbes("/", 8080),
      ports: [{ name: "http", port: 8080 }],
      env: args.env ?? {},
      runAsUser: 101,
      configFiles: [
        ...Object.entries(args.files).map(([file, content]) => ({
          name: file.replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, ""),
          mountPath: `${args.filesPath}/${file}`,
          files: { [file]: content },
          subPath: file,
        })),
        ...(args.nginxServerConfig
          ? [
              {
                name: "nginx",
                mountPath: "/etc/nginx/conf.d",
                files: { "default.conf": args.nginxServerConfig },
              },
            ]
          : []),
      ],
      scratchVolumes: [
        ...(args.stockNginx ? stockNginxScratch : []),
        // Element's entrypoint renders its nginx template into conf.d.
        ...(args.nginxServerConfig
          ? []
          : [{ name: "conf", mountPath: "/etc/nginx/conf.d", sizeLimit: "1Mi" }]),
      ],
      allowFrom: args.allowFrom,
      annotations: args.stockNginx
        ? {
            [exemptionKey("emptydir-cache")]:
              "/var/cache/nginx holds nginx's request and proxy buffers, rebuilt per request, not a data cache",
          }
        : {},
    },
    opts,
  );
}

/** An nginx server block on 8080 serving a single-page app from `root`. */
export function spaServerConfig(root: string): string {
  return [
    "server {",
    "    listen 8080;",
    `    root ${root};`,
    "    index index.html;",
    "    location / {",
    "        try_files $uri $uri/ /index.html;",
    "    }",
    "}",
    "",
  ].join("\n");
}

export interface LkJwtServiceArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  image: string;
  resources: ResourceSpec;
  replicas: number;
  /** `wss://livekit.<domain>`: what clients are told to connect to. */
  livekitUrl: string;
  apiKey: SecretKeyRef;
  apiSecret: SecretKeyRef;
  /** Homeservers whose users may create rooms (the stack's server name). */
  fullAccessHomeservers: string[];
  allowFrom: NetworkPeer[];
  egressTo: NetworkPeer[];
}

/** lk-jwt-service's app (Service name). */
export const lkJwtApp = "lk-jwt-service";

/** lk-jwt-service: turns Matrix OpenID tokens into LiveKit JWTs for Element Call group calls. */
export function lkJwtService(name: string, args: LkJwtServiceArgs, opts: pulumi.ComponentResourceOptions) {
  return new Workload(
    name,
    {
      namespace: args.namespace,
      appName: lkJwtApp,
      partOf: args.partOf,
      image: args.image,
      replicas: args.replicas,
      resources: args.resources,
      probes: httpProbes("/healthz", 8080),
      ports: [{ name: "http", port: 8080 }],
      env: {
        LIVEKIT_URL: args.livekitUrl,
        LIVEKIT_FULL_ACCESS_HOMESERVERS: args.fullAccessHomeservers.join(","),
        LIVEKIT_JWT_PORT: "8080",
      },
      secretEnv: { LIVEKIT_KEY: args.apiKey, LIVEKIT_SECRET: args.apiSecret },
      allowFrom: args.allowFrom,
      egressTo: args.egressTo,
    },
    opts,
  );
}
