import { ImageKey, NetworkPeer, Probes, ProbeCheck } from "@keel/core";
import { MediaApp } from "./sizes";

/** How one app of the stack runs: what differs between Jellyfin, the *arr apps, qBittorrent and Seerr. */
export interface MediaAppSpec {
  app: MediaApp;
  image: ImageKey;
  port: number;
  /** Sub-domain of its ingress. */
  host: string;
  /** Seconds it may need to start, database migrations included. */
  bootSeconds: number;
  terminationGracePeriodSeconds: number;
  probes: Probes;
  /** Where the config volume is mounted. */
  configPath: string;
  /** How the shared library is mounted: read-write for the managers, read-only for the player. */
  library?: "read-write" | "read-only";
  env: Record<string, string>;
  /** Other apps of the stack that call this one. */
  calledBy: MediaApp[];
  /** Other apps of the stack this one calls. */
  calls: MediaApp[];
  /** Outside the cluster. */
  internet: NetworkPeer[];
}

const period = 10;

/** Startup allows `bootSeconds` (checked every 10 s); readiness and liveness detect failure in 30 s. */
function probes(startup: ProbeCheck, readiness: ProbeCheck, bootSeconds: number): Probes {
  return {
    startup: {
      ...startup,
      periodSeconds: period,
      failureThreshold: Math.ceil(bootSeconds / period),
      timeoutSeconds: 5,
    },
    readiness: { ...readiness, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
    liveness: { ...readiness, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
  };
}

const privateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
const https: NetworkPeer = { cidr: "0.0.0.0/0", except: privateRanges, ports: [443] };
const web: NetworkPeer = { cidr: "0.0.0.0/0", except: privateRanges, ports: [80, 443] };

function arr(app: "sonarr" | "radarr" | "lidarr", image: ImageKey, port: number): MediaAppSpec {
  const ping = { http: { path: "/ping", port } };
  return {
    app,
    image,
    port,
    host: app,
    // Database migrations on upgrade run before the web server answers.
    bootSeconds: 600,
    terminationGracePeriodSeconds: 120,
    probes: probes(ping, ping, 600),
    configPath: "/config",
    library: "read-write",
    env: {},
    calledBy: app === "lidarr" ? ["prowlarr"] : ["prowlarr", "seerr"],
    calls: ["prowlarr", "qbittorrent", "jellyfin"],
    internet: [https],
  };
}

export function mediaApps(timezone: string, domain: string, torrentPort: number): MediaAppSpec[] {
  const tz = { TZ: timezone };
  const jellyfinHealth = { http: { path: "/health", port: 8096 } };
  const specs: MediaAppSpec[] = [
    {
      app: "jellyfin",
      image: "jellyfin",
      port: 8096,
      host: "jellyfin",
      // 10.11 migrates the library database on first start of a new version: allow 20 minutes.
      bootSeconds: 1200,
      // Finishing transcodes and flushing the library database on shutdown.
      terminationGracePeriodSeconds: 600,
      probes: probes({ tcp: { port: 8096 } }, jellyfinHealth, 1200),
      configPath: "/config",
      library: "read-only",
      env: {
        JELLYFIN_DATA_DIR: "/config/data",
        JELLYFIN_CONFIG_DIR: "/config/config",
        JELLYFIN_CACHE_DIR: "/config/cache",
        JELLYFIN_LOG_DIR: "/config/log",
        JELLYFIN_PublishedServerUrl: `https://jellyfin.${domain}`,
      },
      calledBy: ["sonarr", "radarr", "lidarr", "seerr"],
      calls: [],
      internet: [https],
    },
    {
      app: "prowlarr",
      image: "prowlarr",
      port: 9696,
      host: "prowlarr",
      bootSeconds: 300,
      terminationGracePeriodSeconds: 60,
      probes: probes({ http: { path: "/ping", port: 9696 } }, { http: { path: "/ping", port: 9696 } }, 300),
      configPath: "/config",
      env: {},
      calledBy: ["sonarr", "radarr", "lidarr"],
      calls: ["sonarr", "radarr", "lidarr"],
      internet: [web],
    },
    arr("sonarr", "sonarr", 8989),
    arr("radarr", "radarr", 7878),
    arr("lidarr", "lidarr", 8686),
    {
      app: "qbittorrent",
      image: "qbittorrent",
      port: 8080,
      host: "torrent",
      bootSeconds: 120,
      // Writing resume data for every torrent before exiting.
      terminationGracePeriodSeconds: 120,
      probes: probes({ tcp: { port: 8080 } }, { http: { path: "/api/v2/app/version", port: 8080 } }, 120),
      configPath: "/config",
      library: "read-write",
      env: { QBT_WEBUI_PORT: "8080", QBT_TORRENTING_PORT: String(torrentPort) },
      calledBy: ["sonarr", "radarr", "lidarr"],
      calls: [],
      // Peers are anywhere, on any port and protocol.
      internet: [{ cidr: "0.0.0.0/0", except: privateRanges }],
    },
    {
      app: "seerr",
      image: "seerr",
      port: 5055,
      host: "requests",
      bootSeconds: 300,
      terminationGracePeriodSeconds: 30,
      probes: probes(
        { http: { path: "/api/v1/status", port: 5055 } },
        { http: { path: "/api/v1/status", port: 5055 } },
        300,
      ),
      configPath: "/app/config",
      env: { PORT: "5055" },
      calledBy: [],
      calls: ["jellyfin", "sonarr", "radarr"],
      internet: [https],
    },
  ];
  return specs.map((s) => ({ ...s, env: { ...tz, ...s.env } }));
}
