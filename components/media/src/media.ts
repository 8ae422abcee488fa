import {
  Demand,
  ImageResolver,
  IngressTls,
  Namespace,
  NodePortServices,
  SizingProfile,
  ValidationError,
  WebIngress,
  Workload,
  namespaceBudget,
  throwIfInvalid,
  sharedClaim,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { MediaAppSpec, mediaApps } from "./apps";
import { MediaAppSettings, resolveMediaSettings } from "./settings";
import { MediaApp, baseSizes, configGi, mediaSize } from "./sizes";

export interface MediaArgs {
  /** @default "media" */
  namespace?: string;
  /** Base domain; each app gets `<app>.<domain>` (Seerr: `requests.<domain>`, qBittorrent: `torrent.<domain>`). */
  domain: string;
  sizing: SizingProfile;
  images: ImageResolver;
  /** Block storage for the apps' config (SQLite must not sit on network file systems). */
  fastStorageClass: string;
  /** Bulk storage for the shared library; it must support ReadWriteMany. */
  bulkStorageClass: string;
  ingressClass: string;
  ingressTls: IngressTls;
  /** @default "ingress-nginx" */
  ingressControllerNamespace?: string;
  /** @default false */
  ingressSkipAwait?: boolean;
  /** Protect the library and config volumes from `pulumi destroy`. @default false */
  protectData?: boolean;
  /** @default see MediaAppSettings */
  app?: MediaAppSettings;
}

const hostRe = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** The apps' uid/gid: they share the library, so they share a group that owns it. */
export const mediaUid = 1000;

export function validateMediaArgs(args: MediaArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!hostRe.test(args.domain))
    problems.push(new ValidationError("domain", `"${args.domain}" is not a DNS domain`));
  for (const field of ["fastStorageClass", "bulkStorageClass"] as const) {
    if (!args[field]?.trim()) problems.push(new ValidationError(field, "must name a storage class"));
  }
  try {
    resolveMediaSettings(args.app);
  } catch (e) {
    problems.push(e as ValidationError);
  }
  return problems;
}

export function mediaDemand(args: MediaArgs): Demand[] {
  return (Object.keys(baseSizes) as MediaApp[]).map((app) => ({
    name: `media/${app}`,
    replicas: 1,
    resources: mediaSize(args.sizing, app),
  }));
}

function libraryGi(args: MediaArgs): number {
  return resolveMediaSettings(args.app).libraryGi ?? 100 * args.sizing.storageScale;
}

function configSize(args: MediaArgs, app: MediaApp): number {
  return Math.ceil(configGi[app] * args.sizing.storageScale);
}

/** Gi of persistent storage the stack claims: the library and every app's config. */
export function mediaStorageGi(args: MediaArgs): number {
  return (
    libraryGi(args) + (Object.keys(configGi) as MediaApp[]).reduce((s, app) => s + configSize(args, app), 0)
  );
}

/**
 * The media stack: Jellyfin, Prowlarr, Sonarr, Radarr, Lidarr, qBittorrent and Seerr. Each app keeps its
 * config on block storage (fast class) and shares one library volume (bulk class, ReadWriteMany); each has
 * its ingress, a startup budget for migrations and a grace period for a clean shutdown.
 */
export class Media extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  /** https URL of every app's ingress, by app. */
  readonly urls: Record<MediaApp, string>;

  constructor(name: string, args: MediaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:media:Media", name, {}, opts);
    throwIfInvalid(validateMediaArgs(args));
    const settings = resolveMediaSettings(args.app);
    const partOf = "media";
    const child = { parent: this };
    const ingressNs = args.ingressControllerNamespace ?? "ingress-nginx";

    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: args.namespace ?? "media",
        budget: namespaceBudget(mediaDemand(args), mediaStorageGi(args)),
      },
      child,
    );
    const namespace = ns.name;
    this.namespace = namespace;

    const library = sharedClaim(
      `${name}-library`,
      {
        namespace,
        partOf,
        claimName: "media-library",
        storageClass: args.bulkStorageClass,
        size: `${libraryGi(args)}Gi`,
        protect: args.protectData,
      },
      child,
    );

    const apps = mediaApps(settings.timezone, args.domain, settings.torrentPort);
    const byApp = Object.fromEntries(apps.map((a) => [a.app, a])) as Record<MediaApp, MediaAppSpec>;
    this.urls = {} as Record<MediaApp, string>;
    for (const spec of apps) {
      const workload = new Workload(
        `${name}-${spec.app}`,
        {
          namespace,
          appName: spec.app,
          partOf,
          image: args.images.image(spec.image),
          resources: mediaSize(args.sizing, spec.app),
          bootSeconds: spec.bootSeconds,
          probes: spec.probes,
          ports: [{ name: "http", port: spec.port }],
          env: spec.env,
          runAsUser: mediaUid,
          persistentVolumes: [
            {
              name: "config",
              mountPath: spec.configPath,
              size: `${configSize(args, spec.app)}Gi`,
              storageClass: args.fastStorageClass,
            },
          ],
          sharedVolumes: spec.library
            ? [
                {
                  name: "library",
                  mountPath: "/data",
                  claimName: library.metadata.name,
                  readOnly: spec.library === "read-only",
                },
              ]
            : [],
          terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
          allowFrom: [
            { namespace: ingressNs },
            ...spec.calledBy.map((a) => ({ app: a, ports: [spec.port] })),
          ],
          egressTo: [...spec.calls.map((a) => ({ app: a, ports: [byApp[a].port] })), ...spec.internet],
        },
        { parent: this, protect: args.protectData ?? false },
      );
      const host = `${spec.host}.${args.domain}`;
      new WebIngress(
        `${name}-${spec.app}-ingress`,
        {
          namespace,
          partOf,
          host,
          serviceName: workload.serviceName,
          servicePort: spec.port,
          ingressClass: args.ingressClass,
          tls: args.ingressTls,
          skipAwait: args.ingressSkipAwait,
          // Uploads (torrent files, posters, backups) exceed the controller's 1 MiB default.
          annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "64m" },
        },
        child,
      );
      this.urls[spec.app] = `https://${host}`;
    }

    new NodePortServices(
      `${name}-bittorrent`,
      {
        namespace,
        partOf,
        app: "qbittorrent",
        ports: [
          { name: "bt-tcp", protocol: "TCP", start: settings.torrentPort },
          { name: "bt-udp", protocol: "UDP", start: settings.torrentPort },
        ],
        reason:
          "BitTorrent peers connect to the port qBittorrent announces; it is exposed on every node as-is (port = nodePort)",
      },
      child,
    );

    this.registerOutputs({ namespace: this.namespace, urls: this.urls });
  }
}
