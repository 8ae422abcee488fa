import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Recorded } from "../unit/harness";
import {
  HttpAnswer,
  Running,
  dataOf,
  ensureProgram,
  freePort,
  httpRequest,
  objectIn,
  renderStack,
  scratchDir,
  unprivileged,
  versionOf,
  waitFor,
} from "./harness";

/*
 * Every nginx site of the Matrix platform, served by the real nginx (Debian 12's nginx-light 1.22.1; the pods
 * run the nginx inside ghcr.io/element-hq/element-web:v1.12.6 and awesometechnologies/synapse-admin:0.11.1,
 * both nginx:alpine based). Each site runs as its own nginx, unprivileged like the pods (runAsUser 101).
 *
 * What is rendered is used as rendered. Rewrites, and nothing else:
 *  1. `listen 8080;` → `listen 127.0.0.1:<free port>;` (after checking 8080 is the pod's probe and container port)
 *  2. `root /app;` → `root <scratch>/app;` (after checking /app is where the pod mounts the rendered files)
 *  3. file mounts: `/app/<file>` → `<scratch>/app/<file>`
 * Stand-ins for what the images have and the program does not render:
 *  - the images' nginx.conf: an http block with mime.types, `default_type application/octet-stream` and
 *    `include conf.d/*.conf`, as nginx:alpine's; pid, temp paths and mime.types point into scratch/Debian's
 *  - the apps' index.html
 *  - Element Web's own server block (image-internal, rendered by its entrypoint from ELEMENT_WEB_PORT): a
 *    server on the rendered ELEMENT_WEB_PORT with root /app; it is not ours, so only our files are checked
 */

const namespace = "matrix";
const podPort = 8080;
/** The Deployments running an nginx image, by app name; the first test checks this is all of them. */
const sites = ["well-known", "element-web", "synapse-admin", "element-web-li", "synapse-admin-li"] as const;
type SiteName = (typeof sites)[number];
const nginxImages = /element-web|synapse-admin/;

const get = (port: number, urlPath: string) => httpRequest(port, urlPath, { timeout: 5000 });

function deploymentOf(res: Recorded[], app: string): Recorded {
  const d = res.find(
    (r) =>
      r.type === "kubernetes:apps/v1:Deployment" &&
      r.inputs.metadata?.namespace?.startsWith(namespace) &&
      r.inputs.metadata?.name === app,
  );
  if (!d) throw new Error(`no Deployment ${app}`);
  return d;
}

/** What the pod of a site gets: its container, the rendered files by mount path, its server block if any. */
interface RenderedSite {
  image: string;
  container: any;
  /** mountPath → content, for ConfigMap files mounted one by one (subPath). */
  files: Record<string, string>;
  /** The rendered conf.d/default.conf, when the program replaces the image's server block. */
  serverConf?: string;
}

function renderedSite(res: Recorded[], app: SiteName): RenderedSite {
  const d = deploymentOf(res, app);
  const spec = d.inputs.spec.template.spec;
  const ns = d.inputs.metadata.namespace;
  const container = spec.containers[0];
  const files: Record<string, string> = {};
  let serverConf: string | undefined;
  for (const m of container.volumeMounts) {
    const cmName = spec.volumes.find((v: any) => v.name === m.name)?.configMap?.name;
    if (!cmName) continue;
    const data = dataOf(objectIn(res, "ConfigMap", ns, cmName));
    if (m.mountPath === "/etc/nginx/conf.d") serverConf = data["default.conf"];
    else if (m.subPath) files[m.mountPath] = data[m.subPath];
    else throw new Error(`${app}: unexpected ConfigMap mount ${m.mountPath}`);
  }
  return { image: container.image, container, files, serverConf };
}

/** Checks the pod listens, is probed and exposes one port, 8080, and returns its HTTP probe paths. */
function probePaths(site: RenderedSite): string[] {
  const c = site.container;
  expect(c.ports.map((p: any) => p.containerPort)).to.deep.equal([podPort]);
  const probes = [c.startupProbe, c.readinessProbe, c.livenessProbe];
  for (const p of probes) expect(p.httpGet.port).to.equal(podPort);
  return [...new Set(probes.map((p) => p.httpGet.path as string))];
}

/** Replaces exactly one occurrence, failing when the rendered text no longer has it. */
function rewriteOnce(text: string, from: string, to: string): string {
  const count = text.split(from).length - 1;
  expect(count, `occurrences of ${JSON.stringify(from)}`).to.equal(1);
  return text.replace(from, to);
}

/** The http context of the images' nginx.conf (stand-in): mime types, default type, conf.d. */
function mainConf(dir: string, mimeTypes: string): string {
  const tmp = (n: string) => path.join(dir, "tmp", n);
  return [
    "daemon off;",
    "worker_processes 1;",
    `pid ${path.join(dir, "nginx.pid")};`,
    "error_log stderr notice;",
    "events { worker_connections 64; }",
    "http {",
    `    include ${mimeTypes};`,
    "    default_type application/octet-stream;",
    "    access_log off;",
    `    client_body_temp_path ${tmp("client")};`,
    `    proxy_temp_path ${tmp("proxy")};`,
    `    fastcgi_temp_path ${tmp("fastcgi")};`,
    `    uwsgi_temp_path ${tmp("uwsgi")};`,
    `    scgi_temp_path ${tmp("scgi")};`,
    `    include ${path.join(dir, "conf.d")}/*.conf;`,
    "}",
    "",
  ].join("\n");
}

/** Element Web's image-internal server block (stand-in): its ELEMENT_WEB_PORT, root /app. */
function elementStandIn(site: RenderedSite): string {
  const env = Object.fromEntries(site.container.env.map((e: any) => [e.name, e.value]));
  expect(env.ELEMENT_WEB_PORT, "ELEMENT_WEB_PORT").to.equal(String(podPort));
  return `server {\n    listen ${podPort};\n    root /app;\n    index index.html;\n}\n`;
}

const standInIndex = (app: string) => `<!doctype html><title>${app} stand-in</title>\n`;

/** A site's nginx on 127.0.0.1, from the rendered files with the listed rewrites. */
class NginxSite {
  readonly dir = scratchDir("nginx");
  port = 0;
  private proc?: Running;
  constructor(
    readonly app: SiteName,
    readonly site: RenderedSite,
    private readonly nginx: string,
  ) {}

  private get appDir() {
    return path.join(this.dir, "app");
  }

  /** Writes conf.d, the app directory and nginx.conf; returns the server block as run. */
  async prepare(): Promise<string> {
    this.port = await freePort();
    const rendered = this.site.serverConf ?? elementStandIn(this.site);
    let conf = rewriteOnce(rendered, `listen ${podPort};`, `listen 127.0.0.1:${this.port};`);
    if (conf.includes("root ")) conf = rewriteOnce(conf, "root /app;", `root ${this.appDir};`);
    for (const sub of ["conf.d", "app", "tmp"]) fs.mkdirSync(path.join(this.dir, sub));
    fs.writeFileSync(path.join(this.dir, "conf.d", "default.conf"), conf);
    fs.writeFileSync(path.join(this.appDir, "index.html"), standInIndex(this.app));
    for (const [mountPath, content] of Object.entries(this.site.files)) {
      expect(path.dirname(mountPath), `${mountPath} is mounted where the server's root is`).to.equal("/app");
      fs.writeFileSync(path.join(this.appDir, path.basename(mountPath)), content);
    }
    const debianRoot = path.resolve(path.dirname(this.nginx), "..");
    fs.writeFileSync(this.confPath, mainConf(this.dir, path.join(debianRoot, "etc/nginx/mime.types")));
    return conf;
  }

  get confPath() {
    return path.join(this.dir, "nginx.conf");
  }

  /** `nginx -t` on the files as they will run. */
  test(): { status: number | null; output: string } {
    const [cmd, args] = unprivileged(this.nginx, ["-t", "-p", this.dir, "-c", this.confPath]);
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  }

  /** Unprivileged, as in the pod (no `user` switch). */
  async start(): Promise<void> {
    const [cmd, args] = unprivileged(this.nginx, ["-p", this.dir, "-c", this.confPath]);
    this.proc = new Running(cmd, args);
    await waitFor(
      `${this.app} nginx answering on ${this.port}`,
      async () => (await get(this.port, "/").catch(() => undefined)) !== undefined,
      15_000,
      this.proc,
    );
  }

  get(urlPath: string): Promise<HttpAnswer> {
    return get(this.port, urlPath);
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function expectJson(r: HttpAnswer) {
  expect(r.status).to.equal(200);
  expect(r.headers["content-type"]).to.equal("application/json");
  return JSON.parse(r.body);
}

/** Starts a site's nginx before its tests, stops it after, and checks `nginx -t` and the pod's probes. */
function describeSite(
  stack: () => Recorded[],
  nginx: () => string,
  app: SiteName,
  tests: (s: () => NginxSite) => void,
) {
  describe(app, () => {
    let site: NginxSite;
    before(async () => {
      const rendered = renderedSite(stack(), app);
      console.log(`      ${app}: pod image ${rendered.image}`);
      site = new NginxSite(app, rendered, nginx());
      await site.prepare();
    });
    after(async () => site?.stop());

    it("passes nginx -t", () => {
      const r = site.test();
      expect(r.output).to.contain("test is successful");
      expect(r.status, r.output).to.equal(0);
    });

    it("starts, and its startup, readiness and liveness probes (HTTP on 8080) answer 200", async () => {
      await site.start();
      for (const p of probePaths(site.site)) expect((await site.get(p)).status, p).to.equal(200);
    });

    tests(() => site);
  });
}

describe("nginx: the Matrix platform's sites on the real nginx", function () {
  let nginx = "";
  before(function () {
    nginx = ensureProgram("nginx");
    console.log(`      running ${versionOf(nginx, ["-v"])} (Debian 12 nginx-light)`);
  });

  for (const stack of ["dev", "prod"] as const) {
    describe(`${stack} stack`, () => {
      let res: Recorded[] = [];
      before(async () => {
        res = await renderStack(stack);
      });
      const rendered = () => res;
      const bin = () => nginx;

      it("runs nginx in exactly these Deployments: " + sites.join(", "), () => {
        const found = res
          .filter((r) => r.type === "kubernetes:apps/v1:Deployment")
          .filter((r) => nginxImages.test(r.inputs.spec.template.spec.containers[0].image))
          .map((r) => r.inputs.metadata.name);
        expect(found.sort()).to.deep.equal([...sites].sort());
      });

      describeSite(rendered, bin, "well-known", (site) => {
        it("serves /.well-known/matrix/client and /server as JSON with CORS, matching Element's homeserver", async () => {
          const client = await site().get("/.well-known/matrix/client");
          const server = await site().get("/.well-known/matrix/server");
          for (const r of [client, server]) expect(r.headers["access-control-allow-origin"]).to.equal("*");
          const c = expectJson(client);
          const s = expectJson(server);
          const element = JSON.parse(renderedSite(res, "element-web").files["/app/config.json"]);
          const homeserver = element.default_server_config["m.homeserver"];
          expect(c["m.homeserver"].base_url).to.equal(homeserver.base_url);
          expect(s["m.server"]).to.equal(`${new URL(homeserver.base_url).hostname}:443`);
          expect(c["org.matrix.msc4143.rtc_foci"]).to.deep.equal([
            { type: "livekit", livekit_service_url: `https://rtc.${homeserver.server_name}` },
          ]);
        });

        it("answers 404 for anything else under /.well-known", async () => {
          expect((await site().get("/.well-known/matrix/other")).status).to.equal(404);
          expect((await site().get("/.well-known/openid-configuration")).status).to.equal(404);
        });
      });

      for (const app of ["element-web", "element-web-li"] as const) {
        describeSite(rendered, bin, app, (site) => {
          it("serves config.json exactly as rendered, as JSON", async () => {
            const r = await site().get("/config.json");
            expectJson(r);
            expect(r.body).to.equal(site().site.files["/app/config.json"]);
          });

          it("serves the app's index.html at /", async () => {
            expect((await site().get("/")).body).to.equal(standInIndex(app));
          });
        });
      }

      const adminOf = { "synapse-admin": "element-web", "synapse-admin-li": "element-web-li" } as const;
      for (const [app, element] of Object.entries(adminOf) as [SiteName, SiteName][]) {
        describeSite(rendered, bin, app, (site) => {
          it(`serves config.json exactly as rendered, restricted to ${element}'s homeserver`, async () => {
            const r = await site().get("/config.json");
            const config = expectJson(r);
            expect(r.body).to.equal(site().site.files["/app/config.json"]);
            const elementConfig = JSON.parse(renderedSite(res, element).files["/app/config.json"]);
            expect(config.restrictBaseUrl).to.equal(
              elementConfig.default_server_config["m.homeserver"].base_url,
            );
          });

          it("falls back to index.html for the app's routes (single-page app)", async () => {
            for (const p of ["/", "/users", "/rooms/!abc:example.org/show"]) {
              const r = await site().get(p);
              expect(r.status, p).to.equal(200);
              expect(r.body, p).to.equal(standInIndex(app));
            }
          });
        });
      }
    });
  }
});
