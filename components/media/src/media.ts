import {
  IngressTls,
  Namespace,
  NodePortServices,
  PlatformPlan,
  Site,
  ValidationError,
  WebIngress,
  Workload,
  namespaceBudget,
  sharedClaim,
  throwIfInvalid,
  ImageKey,
} from "@keel/core";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MediaAppSpec, mediaApps } from "./apps";
import { MediaAppSettings, ResolvedMediaSettings, resolveMediaSettings } from "./settings";
import { MediaApp, baseSizes, configGi, mediaSize } from "./sizes";

/** Every catalogue image the platform may run, whatever its settings (its plan's `images`). */
export const mediaImages: readonly ImageKey[] = [
  "jellyfin",
  "prowlarr",
  "sonarr",
  "radarr",
  "lidarr",
  "qbittorrent",
  "seerr",
];

export interface MediaArgs {
  /** @default "media" */
  namespace?: string;
  /** @default see MediaAppSettings */
  app?: MediaAppSettings;
}

/** The apps' uid/gid: they share the library, so they share a group that owns it. */
export const mediaUid = 1000;

/** What the media stack will make; `planMedia` computes it and `Media` builds it. */
export interface MediaPlan extends PlatformPlan {
  readonly namespace: string;
  readonly settings: ResolvedMediaSettings;
  /** Size of the shared library in Gi. */
  readonly libraryGi: number;
  readonly apps: readonly MediaAppSpec[];
  /** Gi of persistent storage the stack claims: the library and every app's config. */
  readonly storageGi: number;
}

export function validateMediaArgs(args: MediaArgs): ValidationError[] {
  try {
    resolveMediaSettings(args.app);
    return [];
  } catch (e) {
    return [e as ValidationError];
  }
}

function configSize(site: Site, app: MediaApp): number {
  return Math.ceil(configGi[app] * site.sizing.storageScale);
}

/** Resolves the media stack's settings once and computes everything the cluster must hold for it. */
export function planMedia(site: Site, args: MediaArgs = {}): MediaPlan {
  throwIfInvalid(validateMediaArgs(args));
  const settings = resolveMediaSettings(args.app);
  const namespace = args.namespace ?? "media";
  const libraryGi = settings.libraryGi ?? 100 * site.sizing.storageScale;
  const configTotal = (Object.keys(configGi) as MediaApp[]).reduce((s, app) => s + configSize(site, app), 0);
  return {
    site,
    namespace,
    settings,
    libraryGi,
    apps: mediaApps(settings.timezone, site.domain, settings.torrentPort),
    storageGi: libraryGi + configTotal,
    namespaces: [namespace],
    demand: (Object.keys(baseSizes) as MediaApp[]).map((app) => ({
      name: `media/${app}`,
      replicas: 1,
      resources: mediaSize(site.sizing, app),
    })),
    nodePorts: [
      { port: settings.torrentPort, protocol: "TCP" },
      { port: settings.torrentPort, protocol: "UDP" },
    ],
    scrapeTargets: [],
    images: mediaImages,
  };
}

/** What `Media` builds from: its plan and the site's ingress certificates. */
export interface MediaBuildArgs {
  plan: MediaPlan;
  tls: IngressTls;
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

  constructor(name: string, args: MediaBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:media:Media", name, {}, opts);
    const { plan } = args;
    const child = { parent: this };
    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: plan.namespace,
        budget: namespaceBudget([...plan.demand], plan.site.sizing, plan.storageGi),
      },
      child,
    );
    this.namespace = ns.name;
    const library = sharedClaim(
      `${name}-library`,
      {
        namespace: this.namespace,
        partOf,
        claimName: "media-library",
        storageClass: plan.site.storageClasses.bulk,
        size: `${plan.libraryGi}Gi`,
        protect: plan.site.protectData,
      },
      child,
    );
    this.urls = {} as Record<MediaApp, string>;
    for (const spec of plan.apps) {
      const workload = mediaApp(`${name}-${spec.app}`, plan, spec, this.namespace, library, this);
      const host = `${spec.host}.${plan.site.domain}`;
      new WebIngress(
        `${name}-${spec.app}-ingress`,
        {
          namespace: this.namespace,
          partOf,
          host,
          serviceName: workload.serviceName,
          servicePort: spec.port,
          ingressClass: plan.site.ingress.className,
          tls: args.tls,
          skipAwait: plan.site.ingress.skipAwait,
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
        namespace: this.namespace,
        partOf,
        app: "qbittorrent",
        ports: [
          { name: "bt-tcp", protocol: "TCP", start: plan.settings.torrentPort },
          { name: "bt-udp", protocol: "UDP", start: plan.settings.torrentPort },
        ],
        reason:
          "BitTorrent peers connect to the port qBittorrent announces; it is exposed on every node as-is (port = nodePort)",
      },
      child,
    );
    this.registerOutputs({ namespace: this.namespace, urls: this.urls });
  }
}

const partOf = "media";

/** One app: its config volume on block storage, the library when it needs it, and its network peers. */
function mediaApp(
  name: string,
  plan: MediaPlan,
  spec: MediaAppSpec,
  namespace: pulumi.Output<string>,
  library: k8s.core.v1.PersistentVolumeClaim,
  parent: pulumi.Resource,
): Workload {
  const port = (app: MediaApp) => plan.apps.find((a) => a.app === app)!.port;
  return new Workload(
    name,
    {
      namespace,
      appName: spec.app,
      partOf,
      image: plan.site.images.image(spec.image),
      resources: mediaSize(plan.site.sizing, spec.app),
      bootSeconds: spec.bootSeconds,
      probes: spec.probes,
      ports: [{ name: "http", port: spec.port }],
      env: spec.env,
      runAsUser: mediaUid,
      persistentVolumes: [
        {
          name: "config",
          mountPath: spec.configPath,
          size: `${configSize(plan.site, spec.app)}Gi`,
          storageClass: plan.site.storageClasses.fast,
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
        { namespace: plan.site.ingress.controllerNamespace },
        ...spec.calledBy.map((a) => ({ app: a, ports: [spec.port] })),
      ],
      egressTo: [...spec.calls.map((a) => ({ app: a, ports: [port(a)] })), ...spec.internet],
    },
    { parent, protect: plan.site.protectData },
  );
}
