import { Media, MediaArgs, planMedia, validateMediaArgs } from "@keel/media";
import { expect } from "chai";
import { testSite, testTls } from "./fixtures";
import { Recorded, get, installMocks, ofType, settle } from "./harness";

const apps = ["jellyfin", "prowlarr", "sonarr", "radarr", "lidarr", "qbittorrent", "seerr"];

const pod = (res: Recorded[], app: string) =>
  get(res, "Deployment", `media-${app}`).inputs.spec.template.spec;
const startupSeconds = (p: any) => p.initialDelaySeconds + p.periodSeconds * p.failureThreshold;

describe("the media stack", () => {
  let res: Recorded[];
  before(async () => {
    await installMocks();
    new Media("media", { plan: planMedia(testSite()), tls: testTls });
    res = await settle();
  });

  it("deploys the seven apps from the pinned catalog, Seerr instead of Jellyseerr", () => {
    for (const app of apps) expect(pod(res, app).containers[0].image, app).to.match(/:[\w.-]*\d[\w.-]*$/);
    expect(pod(res, "seerr").containers[0].image).to.match(/^ghcr\.io\/seerr-team\/seerr:v3\./);
    expect(pod(res, "sonarr").containers[0].image).to.match(/^ghcr\.io\/home-operations\/sonarr:4\.0\./);
    expect(JSON.stringify(res.map((r) => r.inputs))).not.to.contain("jellyseerr");
  });

  it("keeps each app's config on the fast (block) class with the Recreate strategy", () => {
    for (const app of apps) {
      expect(get(res, "PersistentVolumeClaim", `media-${app}-config`).inputs.spec).to.deep.include({
        storageClassName: "fast",
        accessModes: ["ReadWriteOnce"],
      });
      expect(get(res, "Deployment", `media-${app}`).inputs.spec.strategy.type, app).to.equal("Recreate");
    }
  });

  it("shares one library on the bulk class: read-write for the managers, read-only for Jellyfin", () => {
    const library = get(res, "PersistentVolumeClaim", "media-library").inputs;
    expect(library.spec).to.deep.include({ storageClassName: "bulk", accessModes: ["ReadWriteMany"] });
    expect(library.spec.resources.requests.storage).to.equal("100Gi");
    const mount = (app: string) =>
      pod(res, app).containers[0].volumeMounts.find((m: any) => m.name === "library");
    expect(mount("jellyfin")).to.deep.include({ mountPath: "/data", readOnly: true });
    for (const app of ["sonarr", "radarr", "lidarr", "qbittorrent"])
      expect(mount(app).readOnly, app).to.equal(false);
    expect(mount("seerr")).to.equal(undefined);
    expect(pod(res, "jellyfin").volumes.find((v: any) => v.name === "library").persistentVolumeClaim).to
      .exist;
  });

  it("gives startup probes room for migrations and grace periods for a clean shutdown", () => {
    const jellyfin = pod(res, "jellyfin");
    expect(jellyfin.terminationGracePeriodSeconds).to.equal(600);
    expect(startupSeconds(jellyfin.containers[0].startupProbe)).to.be.at.least(1200);
    expect(jellyfin.containers[0].readinessProbe.httpGet.path).to.equal("/health");
    for (const app of ["sonarr", "radarr", "lidarr"]) {
      const p = pod(res, app);
      expect(startupSeconds(p.containers[0].startupProbe), app).to.be.at.least(600);
      expect(p.containers[0].readinessProbe.httpGet.path, app).to.equal("/ping");
      expect(p.terminationGracePeriodSeconds, app).to.be.at.least(60);
    }
    for (const app of apps) {
      const l = pod(res, app).containers[0].livenessProbe;
      expect(l.initialDelaySeconds + l.periodSeconds * l.failureThreshold, app).to.be.at.most(60);
    }
  });

  it("runs every app as uid/gid 1000 with fsGroup ownership (no chown init container)", () => {
    for (const app of apps) {
      const p = pod(res, app);
      expect(p.securityContext, app).to.deep.include({
        runAsUser: 1000,
        fsGroup: 1000,
        fsGroupChangePolicy: "OnRootMismatch",
      });
      expect(p.initContainers, app).to.equal(undefined);
    }
  });

  it("publishes every app through its own TLS ingress", () => {
    const hosts = ofType(res, "Ingress").map((i) => i.inputs.spec.rules[0].host);
    expect(hosts.sort()).to.deep.equal(
      ["jellyfin", "lidarr", "prowlarr", "radarr", "requests", "sonarr", "torrent"].map(
        (h) => `${h}.example.org`,
      ),
    );
    for (const i of ofType(res, "Ingress"))
      expect(i.inputs.spec.tls[0].hosts).to.deep.equal([i.inputs.spec.rules[0].host]);
  });

  it("announces qBittorrent's torrent port, TCP and UDP, on one NodePort Service (port = targetPort = nodePort)", () => {
    // Node ports are allocated across protocols: TCP and UDP of one number must share a Service.
    const services = ofType(res, "Service").filter((s) => s.inputs.spec.type === "NodePort");
    expect(services.map((s) => s.inputs.metadata.name)).to.deep.equal(["qbittorrent-bt"]);
    const ports = services[0].inputs.spec.ports;
    expect(ports.map((p: any) => p.protocol)).to.deep.equal(["TCP", "UDP"]);
    for (const p of ports) expect([p.port, p.targetPort, p.nodePort]).to.deep.equal([30083, 30083, 30083]);
    expect(services[0].inputs.metadata.annotations["exempt.keel.dev/service-exposure"]).to.match(
      /BitTorrent/,
    );
    const env = Object.fromEntries(
      pod(res, "qbittorrent").containers[0].env.map((e: any) => [e.name, e.value]),
    );
    expect(env.QBT_TORRENTING_PORT).to.equal("30083");
  });

  it("lets the managers reach qBittorrent and Prowlarr, and nothing else in", () => {
    const qbit = get(res, "NetworkPolicy", "media-qbittorrent-netpol").inputs.spec;
    const from = qbit.ingress.map((r: any) => r.from[0].podSelector?.matchLabels["app.kubernetes.io/name"]);
    expect(from.filter(Boolean).sort()).to.deep.equal(["lidarr", "radarr", "sonarr"]);
    const sonarrEgress = get(res, "NetworkPolicy", "media-sonarr-netpol").inputs.spec.egress;
    const targets = sonarrEgress.map((r: any) => r.to[0].podSelector?.matchLabels["app.kubernetes.io/name"]);
    expect(targets).to.include.members(["prowlarr", "qbittorrent", "jellyfin"]);
  });

  it("refuses a torrent port outside the node-port range, naming the field", () => {
    const args: MediaArgs = { app: { torrentPort: 6881 } };
    expect(validateMediaArgs(args).map((p) => p.field)).to.deep.equal(["app.torrentPort"]);
    expect(() => planMedia(testSite(), args)).to.throw(/app\.torrentPort/);
    expect(planMedia(testSite()).demand.map((d) => d.name)).to.have.length(7);
  });
});
