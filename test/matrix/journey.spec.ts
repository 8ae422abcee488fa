import { MatrixWorkerCounts, haproxyBackendName, resolveMatrixSettings, routeRequest } from "@keel/matrix";
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { parseStackConfig } from "../../program/config";
import { ensureProgram, renderStack, waitFor } from "../conformance/harness";
import { stackConfig } from "../unit/fixtures";
import { Answer, MatrixClient, haproxyLog, registerWithSecret } from "./client";
import { eicar } from "../conformance/clamav/clamd";
import { LawfulInterceptSite } from "./li";
import { MatrixSite } from "./site";
import { Conn, query } from "../conformance/postgres/image";

/*
 * A client journey through HAProxy only, on the dev stack's Matrix platform run for real (test/matrix/site.ts):
 * shared-secret registration, login, a room with an invite and a join, messages, an incremental /sync,
 * media up and down, the room directory, the federation key endpoint, the admin API, and the antivirus
 * module with its scan worker and clamd. Every request's answering backend is read from HAProxy's log and
 * must be the one routeRequest (the routing table the config is generated from) names.
 */

const server = "dev.keel.test";

function devWorkers(): MatrixWorkerCounts {
  const cfg = parseStackConfig(stackConfig("dev"));
  return resolveMatrixSettings(cfg.matrix, cfg.sizing).workers;
}

/**
 * The release the upgrade run starts on before it is upgraded to the pin (components/core/src/images.ts).
 */
const upgradeFrom = process.env.KEEL_MATRIX_UPGRADE_FROM ?? "1.151.0";

/**
 * The whole journey, antivirus and LI on the pinned Synapse; with `from`, the same on that older release first,
 * then the upgrade to the pin with replication live and the journey's core and the LI again on the pin.
 */
function matrixSuite(from?: string) {
  const title = from ? `upgrade run: Synapse ${from}, then the pin` : "on the pinned Synapse";
  describe(`Matrix end to end (${title}): the dev stack's Synapse, its workers and HAProxy, real software on 127.0.0.1`, function () {
    const pinned = ensureProgram("synapse");
    const site = new MatrixSite({ synapsePython: from ? ensureProgram("synapse", from) : pinned });
    /** The LI job's SCHEMA_VERSION before any upgrade: the rendered one on the pin, the older LI tag otherwise. */
    const liSchema = from ? `${from}-li.1` : undefined;
    const counts = devWorkers();
    let anon: MatrixClient;
    let alice: MatrixClient;
    let bob: MatrixClient;
    let roomId = "";
    let li: LawfulInterceptSite;
    let failed = false;
    const answered: string[] = [];

    /** How many requests HAProxy has logged so far (a request's line is looked for after it). */
    async function mark(): Promise<number> {
      const sent = MatrixClient.sentTo(site.httpPort);
      await waitFor(
        `HAProxy logs the ${sent} requests sent so far`,
        () => haproxyLog(site.haproxy!.output()).length >= sent,
      );
      return sent;
    }

    /** The answering backend of a request made after `since`, per HAProxy's log, checked against routeRequest. */
    async function routed(since: number, method: string, urlPath: string, status?: number) {
      const expected = haproxyBackendName(routeRequest(method, urlPath, counts));
      let line: ReturnType<typeof haproxyLog>[number] | undefined;
      await waitFor(`HAProxy logs ${method} ${urlPath}`, () => {
        line = haproxyLog(site.haproxy!.output())
          .slice(since)
          .find((l) => l.method === method && l.path === urlPath);
        return line !== undefined;
      });
      answered.push(`${method} ${urlPath.split("?")[0]} → ${line!.backend}/${line!.server} ${line!.status}`);
      expect(line!.backend, `${method} ${urlPath}: backend`).to.equal(expected);
      if (status !== undefined)
        expect(line!.status, `${method} ${urlPath}: status HAProxy logged`).to.equal(status);
      return line!;
    }

    /** A request through HAProxy, with its answering backend checked; `status` is expected (200 unless told). */
    async function via(
      c: MatrixClient,
      method: string,
      urlPath: string,
      body?: unknown,
      status = 200,
      headers: Record<string, string> = {},
    ): Promise<Answer & { backend: string }> {
      const since = await mark();
      const r = await c.call(method, urlPath, body, headers);
      expect(r.status, `${method} ${urlPath}: ${r.body}`).to.equal(status);
      const line = await routed(since, method, urlPath, status);
      return { ...r, backend: line.backend };
    }

    const ok = (c: MatrixClient, method: string, urlPath: string, body?: unknown) =>
      via(c, method, urlPath, body);

    /** Alice logged in on the LI Synapse directly (a write: device and token), and the room's message bodies there. */
    async function liInvestigator() {
      const direct = new MatrixClient(site.network().port("synapse-li-0", 8008));
      const login = await direct.call("POST", "/_matrix/client/v3/login", {
        type: "m.login.password",
        identifier: { type: "m.id.user", user: "alice" },
        password: "pw-alice-123456",
      });
      expect(login.status, `LI login: ${login.body}`).to.equal(200);
      const investigator = direct.withToken(login.json.access_token);
      const messages = await investigator.call(
        "GET",
        `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`,
      );
      expect(messages.status, messages.body).to.equal(200);
      const bodies: string[] = messages.json.chunk
        .filter((e: any) => e.type === "m.room.message")
        .map((e: any) => e.content.body);
      return { investigator, bodies };
    }

    before(async function () {
      const res = await renderStack("dev");
      try {
        await site.start(res);
      } finally {
        process.stderr.write(`      versions:\n${site.versions.map((v) => `        ${v}\n`).join("")}`);
        process.stderr.write(
          `      rewrites:\n${[...new Set(site.rewrites)].map((r) => `        - ${r}\n`).join("")}`,
        );
      }
      anon = new MatrixClient(site.httpPort);
    });

    afterEach(function () {
      if (this.currentTest?.state === "failed" && !failed) {
        failed = true;
        process.stderr.write(site.logs());
      }
    });

    after(async function () {
      process.stderr.write(`      answered:\n${answered.map((a) => `        ${a}\n`).join("")}`);
      await site.stop();
      if (!failed) site.cleanup();
      else process.stderr.write(`      kept for inspection: ${site.scratch}, logs in ${site.saveLogs()}\n`);
    });

    it("runs main and every dev worker pod, each with its rendered app; HAProxy has every backend's server UP", function () {
      const pods = site.synapse.map((s) => `${s.pod.pod} ${s.app}`);
      expect(pods).to.include("synapse-main-0 synapse.app.homeserver");
      const rendered = site.res
        .filter(
          (r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.inputs.metadata.namespace === "matrix",
        )
        .filter((r) =>
          /^ghcr\.io\/element-hq\/synapse:/.test(r.inputs.spec.template.spec.containers[0].image),
        )
        .map((r) => r.inputs.spec.replicas ?? 1);
      expect(site.synapse.length, "every rendered Synapse pod").to.equal(rendered.reduce((a, n) => a + n, 0));
      expect(site.synapse.length, "main and workers").to.be.greaterThan(8);
      for (const s of site.synapse) expect(s.proc.exited(), `${s.pod.pod} running`).to.equal(false);
    });

    let secret = "";

    it("registers two users with the generated registration shared secret; a wrong secret is refused", async function () {
      const main = site.synapse.find((s) => s.pod.pod === "synapse-main-0")!;
      secret = YAML.parse(main.written.files["/secrets/synapse/secrets.yaml"]).registration_shared_secret;
      expect(secret, "the generated secret").to.have.length.of.at.least(32);
      const wrong = await registerWithSecret(anon, "not-the-secret", "mallory", "pw-mallory-123", true);
      expect(wrong.json.error, wrong.body).to.equal("HMAC incorrect");
      expect(wrong.status, wrong.body).to.equal(403);
      const since = await mark();
      const a = await registerWithSecret(anon, secret, "alice", "pw-alice-123456", true);
      expect(a.status, a.body).to.equal(200);
      expect(a.json.user_id).to.equal(`@alice:${server}`);
      await routed(since, "GET", "/_synapse/admin/v1/register", 200);
      await routed(since, "POST", "/_synapse/admin/v1/register", 200);
      const b = await registerWithSecret(anon, secret, "bob", "pw-bob-1234567", false);
      expect(b.status, b.body).to.equal(200);
      alice = anon.withToken(a.json.access_token);
    });

    it("logs in with a password (and a wrong one is refused)", async function () {
      const body = (password: string) => ({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: "bob" },
        password,
      });
      await via(anon, "POST", "/_matrix/client/v3/login", body("wrong-password"), 403);
      const r = await ok(anon, "POST", "/_matrix/client/v3/login", body("pw-bob-1234567"));
      expect(r.json.user_id).to.equal(`@bob:${server}`);
      bob = anon.withToken(r.json.access_token);
      const who = await ok(bob, "GET", "/_matrix/client/v3/account/whoami");
      expect(who.json.user_id).to.equal(`@bob:${server}`);
    });

    it("creates a room, invites bob, bob joins, both send messages", async function () {
      const created = await ok(alice, "POST", "/_matrix/client/v3/createRoom", {
        name: "keel e2e",
        room_alias_name: "keel-e2e",
        visibility: "public",
        preset: "public_chat",
      });
      roomId = created.json.room_id;
      // Room version 12 (Synapse ≥ 1.163's default) has no server name in the ID; older ones end in it.
      expect(roomId).to.match(new RegExp(`^!([^:]+|.+:${server.replace(/\./g, "\\.")})$`));
      const room = encodeURIComponent(roomId);
      await ok(alice, "POST", `/_matrix/client/v3/rooms/${room}/invite`, { user_id: `@bob:${server}` });
      await ok(bob, "POST", `/_matrix/client/v3/join/${room}`, {});
      for (const [who, c, text] of [
        ["alice", alice, "hello from alice"],
        ["bob", bob, "hello from bob"],
      ] as const) {
        const r = await ok(c, "PUT", `/_matrix/client/v3/rooms/${room}/send/m.room.message/${who}-1`, {
          msgtype: "m.text",
          body: text,
        });
        expect(r.json.event_id).to.match(/^\$/);
      }
      const members = await ok(alice, "GET", `/_matrix/client/v3/rooms/${room}/joined_members`);
      expect(Object.keys(members.json.joined).sort()).to.deep.equal([`@alice:${server}`, `@bob:${server}`]);
    });

    it("an incremental /sync with a since token is answered by the synchrotron and carries the new message", async function () {
      const first = await ok(bob, "GET", "/_matrix/client/v3/sync?timeout=0");
      expect(first.json.rooms.join, "bob's joined rooms").to.have.property(roomId);
      const since = first.json.next_batch;
      const room = encodeURIComponent(roomId);
      await ok(alice, "PUT", `/_matrix/client/v3/rooms/${room}/send/m.room.message/alice-2`, {
        msgtype: "m.text",
        body: "after the since token",
      });
      const url = `/_matrix/client/v3/sync?since=${encodeURIComponent(since)}&timeout=10000`;
      const next = await ok(bob, "GET", url);
      expect(next.backend).to.equal("synapse-synchrotron");
      const bodies = (next.json.rooms?.join?.[roomId]?.timeline?.events ?? []).map(
        (e: any) => e.content?.body,
      );
      expect(bodies, "the message sent after the token").to.deep.equal(["after the since token"]);
      const worker = site.synapse.find((s) => s.pod.pod === "synapse-synchrotron-0")!;
      expect(worker.proc.output(), "the synchrotron's own access log").to.match(
        /Processed request: .*"GET \/_matrix\/client\/v3\/sync\?since=/,
      );
    });

    let mediaId = "";
    const clean = Buffer.from(`keel media ${Date.now()}\n`.repeat(64));

    it("uploads media and downloads it back through the media repository; it is stored where the rendered config says", async function () {
      const up = await via(alice, "POST", "/_matrix/media/v3/upload?filename=clean.txt", clean, 200, {
        "content-type": "text/plain",
      });
      const uri: string = up.json.content_uri;
      expect(uri).to.match(new RegExp(`^mxc://${server}/`));
      mediaId = uri.split("/").pop()!;
      const url = `/_matrix/client/v1/media/download/${server}/${mediaId}`;
      const since = await mark();
      const down = await alice.download(url);
      expect(down.status).to.equal(200);
      expect(down.body.equals(clean), "the same bytes").to.equal(true);
      expect((await routed(since, "GET", url, 200)).backend).to.equal("synapse-media-repository");
      const media = site.synapse.find((s) => s.pod.pod === "synapse-media-repository-0")!;
      const hs = YAML.parse(media.written.files["/conf/homeserver.yaml"]);
      const stored = path.join(
        hs.media_store_path,
        "local_content",
        mediaId.slice(0, 2),
        mediaId.slice(2, 4),
        mediaId.slice(4),
      );
      expect(stored.startsWith(`${media.written.podRoot}/media/`), `${stored} on the media volume`).to.equal(
        true,
      );
      expect(fs.readFileSync(stored).equals(clean), `${stored} holds the upload`).to.equal(true);
    });

    it("the room directory and the federation key endpoint answer through their routes", async function () {
      // The rendered config sets no room_list_publication_rules: Synapse's default denies publishing to everyone
      // (admins too); createRoom's `visibility: public` is dropped, and an explicit publication is refused.
      const dir = await ok(alice, "GET", "/_matrix/client/v3/publicRooms");
      expect(
        dir.json.chunk.map((r: any) => r.room_id),
        "the room was not published",
      ).to.deep.equal([]);
      const publish = await via(
        alice,
        "PUT",
        `/_matrix/client/v3/directory/list/room/${encodeURIComponent(roomId)}`,
        {
          visibility: "public",
        },
        403,
      );
      expect(publish.json.error).to.equal("Not allowed to publish room");
      const alias = await ok(
        bob,
        "GET",
        `/_matrix/client/v3/directory/room/${encodeURIComponent(`#keel-e2e:${server}`)}`,
      );
      expect(alias.json.room_id).to.equal(roomId);
      const keys = await ok(anon, "GET", "/_matrix/key/v2/server");
      expect(keys.json.server_name).to.equal(server);
      const main = site.synapse.find((s) => s.pod.pod === "synapse-main-0")!;
      const keyFile = Object.entries(main.written.files).find(([f]) => f.endsWith("/signing.key"))![1];
      const [alg, version] = keyFile.trim().split(" ");
      expect(Object.keys(keys.json.verify_keys), "the rendered signing key").to.deep.equal([
        `${alg}:${version}`,
      ]);
    });

    it("the admin API answers the admin and refuses a user", async function () {
      const url = `/_synapse/admin/v2/users/${encodeURIComponent(`@bob:${server}`)}`;
      const r = await ok(alice, "GET", url);
      expect(r.json).to.include({ name: `@bob:${server}`, admin: false });
      const refused = await via(bob, "GET", url, undefined, 403);
      expect(refused.json.errcode).to.equal("M_FORBIDDEN");
    });

    describe("antivirus: the Synapse module, real clamd and the scan worker", function () {
      const signature = "Keel.Test.EICAR.UNOFFICIAL";
      const storeFiles = () => {
        const media = site.synapse.find((s) => s.pod.pod === "synapse-media-repository-0")!;
        const store = YAML.parse(media.written.files["/conf/homeserver.yaml"]).media_store_path;
        const walk = (d: string): string[] =>
          fs.existsSync(d)
            ? fs
                .readdirSync(d, { withFileTypes: true })
                .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]))
            : [];
        return walk(path.join(store, "local_content"));
      };
      const upload = (body: Buffer, name: string, status: number) =>
        via(alice, "POST", `/_matrix/media/v3/upload?filename=${name}`, body, status, {
          "content-type": "application/octet-stream",
        });

      it("an infected upload within sync_max_bytes is refused while it waits, and nothing is stored", async function () {
        const before = storeFiles();
        const infected = Buffer.concat([Buffer.from("keel small infected\n"), eicar()]);
        // The module answers Codes.FORBIDDEN; Synapse's upload servlet turns any spam verdict into 400.
        const r = await upload(infected, "small-infected.bin", 400);
        expect(r.json.error, r.body).to.equal("Bad content");
        expect(storeFiles(), "no file left in the media store").to.deep.equal(before);
        const media = site.synapse.find((s) => s.pod.pod === "synapse-media-repository-0")!;
        expect(media.proc.output(), "the module's own log line").to.contain(signature);
      });

      const big = 11 * 1024 * 1024;
      const ids: Record<string, string> = {};
      let cleanBig: Buffer;

      it("larger uploads are accepted and queued on av:scan; the scan worker scans them with clamd and the queue drains", async function () {
        const hs = YAML.parse(
          site.synapse.find((s) => s.pod.pod === "synapse-main-0")!.written.files["/conf/homeserver.yaml"],
        );
        const syncMax = hs.modules.find((m: any) => m.module === "synapse_av_checker.AvChecker").config
          .sync_max_bytes;
        expect(big, "beyond the synchronous scan limit").to.be.greaterThan(syncMax);
        const infected = Buffer.concat([Buffer.alloc(big), eicar()]);
        cleanBig = Buffer.concat([Buffer.alloc(big), Buffer.from("keel clean tail\n")]);
        ids.infected = (await upload(infected, "big-infected.bin", 200)).json.content_uri.split("/").pop();
        ids.clean = (await upload(cleanBig, "big-clean.bin", 200)).json.content_uri.split("/").pop();
        const results = () =>
          site
            .avQueue("--csv", "XRANGE", "av:results", "-", "+")
            .split("\n")
            .filter((l) => l.length > 0);
        await waitFor(
          "av:results has a verdict for both uploads",
          () => Object.values(ids).every((id) => results().some((l) => l.includes(id))),
          120_000,
          site.scanWorker,
        );
        const verdict = (id: string) => results().find((l) => l.includes(id))!;
        expect(verdict(ids.infected)).to.match(/"verdict","infected"/);
        expect(verdict(ids.infected)).to.contain(signature);
        expect(verdict(ids.clean)).to.match(/"verdict","clean"/);
        expect(site.avQueue("XLEN", "av:scan"), "av:scan drained (acknowledged jobs are deleted)").to.equal(
          "0",
        );
        expect(site.avQueue("XPENDING", "av:scan", "av-workers").split("\n")[0], "nothing pending").to.equal(
          "0",
        );
        expect(site.avQueue("XLEN", "av:dead"), "nothing dead-lettered").to.equal("0");
      });

      it("the infected large upload is quarantined (no longer served); the clean one is still served", async function () {
        const url = (id: string) => `/_matrix/client/v1/media/download/${server}/${id}`;
        let since = await mark();
        const gone = await alice.download(url(ids.infected));
        expect(gone.status, gone.body.toString().slice(0, 200)).to.equal(404);
        await routed(since, "GET", url(ids.infected), 404);
        since = await mark();
        const served = await alice.download(url(ids.clean));
        expect(served.status).to.equal(200);
        expect(served.body.equals(cleanBig), "the same bytes").to.equal(true);
        await routed(since, "GET", url(ids.clean), 200);
        const admin = await via(alice, "GET", `/_synapse/admin/v1/media/${server}/${ids.infected}`);
        expect(admin.json.media_info.quarantined_by, "quarantined by the scan worker's admin user").to.equal(
          `@av-quarantine:${server}`,
        );
      });
    });

    describe("lawful intercept: the LI replica, its jobs and the LI Synapse", function () {
      const inRoom = (c: Conn) =>
        query(
          site.bin,
          c,
          `SELECT count(*) FROM events WHERE room_id = '${roomId}' AND type = 'm.room.message'`,
        );

      before(async function () {
        li = new LawfulInterceptSite(site);
        await li.start();
      });

      it("the LI PostgreSQL starts as rendered: key_vault's database and role exist and log in with the generated password", async function () {
        const password = li.postgres.pod.env.KEY_VAULT_PASSWORD;
        expect(password, "KEY_VAULT_PASSWORD from its Secret").to.have.length.of.at.least(16);
        const who = await query(
          site.bin,
          { port: li.postgres.port, user: "key_vault", password, database: "key_vault" },
          "SELECT current_user, current_database(), (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'key_vault')",
        );
        expect(who).to.equal("key_vault|key_vault|key_vault");
      });

      it("the rendered li-replication-setup job copies main's schema and subscribes; writes through HAProxy reach the replica", async function () {
        const out = await li.replicationSetup(liSchema);
        expect(out).to.contain("subscribed; initial copy running");
        await via(
          alice,
          "PUT",
          `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/alice-li`,
          {
            msgtype: "m.text",
            body: "written while replicating",
          },
        );
        await li.caughtUp();
        const [main, replica] = [await inRoom(li.mainSuperuser()), await inRoom(li.liSuperuser())];
        expect(Number(main), "messages in the room on main").to.be.at.least(4);
        expect(replica, "the same messages on the replica").to.equal(main);
        const again = await li.replicationSetup(liSchema);
        expect(again, "a second run with the same schema only refreshes").to.contain("schema is current");
      });

      it("after the sequence sync, the LI Synapse on its rendered config serves the room and its messages, and can write", async function () {
        const s = await startAfterSequenceSync(li);
        const { investigator, bodies } = await liInvestigator();
        expect(bodies).to.include.members([
          "hello from alice",
          "hello from bob",
          "after the since token",
          "written while replicating",
        ]);
        const note = await investigator.call("POST", "/_matrix/client/v3/createRoom", {
          name: "LI case notes",
        });
        expect(note.status, `a room created on LI: ${note.body}`).to.equal(200);
        expect(s.proc.output()).to.contain("Synapse now listening");
      });
    });

    if (from)
      describe("upgrade: Synapse to the pinned release, with replication running", function () {
        let version = "";
        let tablesBefore: string[] = [];
        const tables = (c: Conn) =>
          query(
            site.bin,
            c,
            "SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name) " +
              "FROM information_schema.columns WHERE table_schema = 'public' GROUP BY table_name ORDER BY table_name",
          ).then((r) => r.split("\n"));
        const since = { token: "" };

        before(async function () {
          const v = spawnSync(pinned, ["-c", "import synapse; print(synapse.__version__)"], {
            encoding: "utf8",
          });
          version = v.stdout.trim();
          expect(version, "an upgrade to a newer release").to.not.equal(from);
          tablesBefore = await tables(li.mainSuperuser());
          since.token = (await bob.call("GET", "/_matrix/client/v3/sync?timeout=0")).json.next_batch;
        });

        it("main and every worker restart on the pin: its migrations run while the subscription is live, every pod answers", async function () {
          await site.upgradeSynapse(pinned);
          const after = await tables(li.mainSuperuser());
          const changed = after.filter((t) => !tablesBefore.includes(t)).map((t) => t.split(".")[0]);
          process.stderr.write(
            `        tables the migrations added or changed: ${[...new Set(changed)].join(", ") || "none"}\n`,
          );
          const r = await via(anon, "GET", "/_matrix/federation/v1/version");
          expect(r.json.server.version, "the federation reader runs the pin").to.equal(version);
          for (const s of site.synapse.filter((x) => x.pod.namespace === "matrix"))
            expect(s.proc.exited(), `${s.pod.pod} running`).to.equal(false);
        });

        it("the journey's core on the pin through HAProxy: registration, login, messages, incremental sync, media", async function () {
          const reg = await registerWithSecret(anon, secret, "carol", "pw-carol-123456", false);
          expect(reg.status, reg.body).to.equal(200);
          const login = await via(anon, "POST", "/_matrix/client/v3/login", {
            type: "m.login.password",
            identifier: { type: "m.id.user", user: "carol" },
            password: "pw-carol-123456",
          });
          const carol = anon.withToken(login.json.access_token);
          const room = encodeURIComponent(roomId);
          await via(alice, "POST", `/_matrix/client/v3/rooms/${room}/invite`, {
            user_id: `@carol:${server}`,
          });
          await via(carol, "POST", `/_matrix/client/v3/join/${room}`, {});
          await via(carol, "PUT", `/_matrix/client/v3/rooms/${room}/send/m.room.message/carol-1`, {
            msgtype: "m.text",
            body: "after the upgrade",
          });
          const url = `/_matrix/client/v3/sync?since=${encodeURIComponent(since.token)}&timeout=10000`;
          const next = await via(bob, "GET", url);
          expect(next.backend).to.equal("synapse-synchrotron");
          const bodies = (next.json.rooms?.join?.[roomId]?.timeline?.events ?? []).map(
            (e: any) => e.content?.body,
          );
          expect(bodies).to.include("after the upgrade");
          const media = Buffer.from("media after the upgrade\n");
          const up = await via(carol, "POST", "/_matrix/media/v3/upload?filename=after.txt", media, 200, {
            "content-type": "text/plain",
          });
          const id = up.json.content_uri.split("/").pop();
          const down = await carol.download(`/_matrix/client/v1/media/download/${server}/${id}`);
          expect(down.status).to.equal(200);
          expect(down.body.equals(media)).to.equal(true);
        });

        it("LI after the upgrade: the rendered job resynchronises the replica to the new schema; the LI Synapse on the pin serves old and new messages", async function () {
          const out = await li.replicationSetup();
          expect(out, "a new SCHEMA_VERSION resynchronises").to.contain("resynchronising the replica");
          await li.caughtUp();
          expect(await tables(li.liSuperuser()), "the replica has main's schema").to.deep.equal(
            await tables(li.mainSuperuser()),
          );
          const count = `SELECT count(*) FROM events WHERE room_id = '${roomId}' AND type = 'm.room.message'`;
          expect(await query(site.bin, li.liSuperuser(), count)).to.equal(
            await query(site.bin, li.mainSuperuser(), count),
          );
          await li.sequenceSync();
          await li.startSynapse();
          const { bodies } = await liInvestigator();
          expect(bodies).to.include.members([
            "hello from alice",
            "written while replicating",
            "after the upgrade",
          ]);
        });
      });
  });
}

matrixSuite();
matrixSuite(upgradeFrom);

/**
 * Syncs sequences, then starts the LI Synapse. Main keeps writing (presence) while this runs, so a stream row
 * can replicate after the copy of its sequence: Synapse then refuses to start ("Postgres sequence ... is
 * inconsistent"), the pod restarts and the CronJob's next run fixes it. Here the sync runs again, as that
 * next run would, at most twice more; any other failure fails at once.
 */
async function startAfterSequenceSync(
  li: LawfulInterceptSite,
): Promise<Awaited<ReturnType<LawfulInterceptSite["startSynapse"]>>> {
  for (let attempt = 1; ; attempt++) {
    expect(await li.sequenceSync()).to.match(/sequences synchronised: [1-9]/);
    try {
      return await li.startSynapse();
    } catch (e) {
      if (attempt === 3 || !/Postgres sequence '[^']+' is inconsistent/.test(String(e))) throw e;
      process.stderr.write(
        `      main wrote past the synced sequences; syncing again (attempt ${attempt + 1})\n`,
      );
    }
  }
}
