import { ValidationError } from "@keel/core";
import {
  MatrixWorkerCounts,
  SYNAPSE_PORTS,
  defaultWorkerCounts,
  mainCommand,
  monolithWorkerCounts,
  renderWorkerConfig,
  streamWriterInstances,
  validateWorkerCounts,
  workerCommand,
  workerGroups,
  workerInstances,
} from "@keel/matrix";
import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";

const database = { host: "synapse-pgbouncer", port: 5432, database: "synapse", user: "synapse" };

function counts(overrides: Partial<MatrixWorkerCounts> = {}): MatrixWorkerCounts {
  return { ...defaultWorkerCounts("small"), ...overrides };
}

const fields = (problems: ValidationError[]) => problems.map((p) => p.field);

describe("matrix config: worker model", () => {
  it("names StatefulSets, pods, hosts and worker names from one stable scheme", () => {
    const all = workerInstances(defaultWorkerCounts("small"));
    const sync = all.find((i) => i.type === "synchrotron")!;
    expect(sync).to.deep.include({
      name: "synapse-synchrotron-0",
      group: "synchrotron",
      statefulSet: "synapse-synchrotron",
      ordinal: 0,
      host: "synapse-synchrotron-0.synapse-synchrotron",
      httpPort: SYNAPSE_PORTS.http,
      healthPort: 8080,
      metricsPort: 9000,
      autoscalable: true,
    });
    expect(sync.replicationPort).to.equal(undefined);
    for (const i of all) {
      expect(i.name).to.equal(`${i.statefulSet}-${i.ordinal}`);
      expect(i.host).to.equal(`${i.name}.${i.statefulSet}`);
    }
    const persisters = workerInstances(defaultWorkerCounts("large")).filter(
      (i) => i.type === "event-persister",
    );
    expect(persisters.map((p) => p.name)).to.deep.equal(
      [0, 1, 2, 3].map((n) => `synapse-event-persister-${n}`),
    );
    expect(persisters.every((p) => p.replicationPort === 9093 && p.httpPort === undefined)).to.equal(true);
  });

  it("dev (small) runs one of each type and consolidates every stream on one writer", () => {
    const groups = workerGroups(defaultWorkerCounts("small"));
    expect(groups.map((g) => g.statefulSet)).to.deep.equal([
      "synapse-synchrotron",
      "synapse-client-reader",
      "synapse-federation-reader",
      "synapse-federation-inbound",
      "synapse-event-creator",
      "synapse-event-persister",
      "synapse-federation-sender",
      "synapse-media-repository",
      "synapse-pusher",
      "synapse-background",
      "synapse-stream-writer",
    ]);
    expect(groups.every((g) => g.replicas === 1)).to.equal(true);
    const writer = groups.find((g) => g.type === "stream-writer")!;
    expect(writer.streams).to.deep.equal([
      "typing",
      "to_device",
      "account_data",
      "receipts",
      "presence",
      "push_rules",
      "device_lists",
    ]);
    expect(writer).to.deep.include({ http: true, replication: true, autoscalable: false });
  });

  it("splits stream writers into one StatefulSet per stream when not consolidated", () => {
    const large = defaultWorkerCounts("large");
    const writers = workerGroups(large).filter((g) => g.type === "stream-writer");
    expect(writers.map((g) => [g.statefulSet, g.replicas])).to.deep.equal([
      ["synapse-typing-writer", 1],
      ["synapse-to-device-writer", 1],
      ["synapse-account-data-writer", 1],
      ["synapse-receipts-writer", 2],
      ["synapse-presence-writer", 1],
      ["synapse-push-rules-writer", 1],
      ["synapse-device-lists-writer", 2],
    ]);
    expect(streamWriterInstances(large, "receipts")).to.deep.equal([
      "synapse-receipts-writer-0",
      "synapse-receipts-writer-1",
    ]);
    expect(streamWriterInstances(monolithWorkerCounts, "typing")).to.deep.equal([]);
  });

  it("marks only the stateless readers autoscalable and sizes them by maxReplicas", () => {
    const groups = workerGroups(defaultWorkerCounts("medium"), { synchrotron: 6 });
    expect(groups.filter((g) => g.autoscalable).map((g) => g.type)).to.deep.equal([
      "synchrotron",
      "client-reader",
      "federation-reader",
      "federation-inbound",
      "event-creator",
    ]);
    expect(groups.find((g) => g.type === "synchrotron")!.maxReplicas).to.equal(6);
    expect(groups.find((g) => g.type === "client-reader")!.maxReplicas).to.equal(2);
  });

  it("accepts every default profile and the monolith", () => {
    for (const p of ["small", "medium", "large"] as const) {
      expect(validateWorkerCounts(defaultWorkerCounts(p)), p).to.deep.equal([]);
    }
    expect(validateWorkerCounts(monolithWorkerCounts)).to.deep.equal([]);
    expect(workerInstances(monolithWorkerCounts)).to.deep.equal([]);
  });

  it("refuses a second writer of a single-writer stream, naming the field", () => {
    const bad = counts({
      streamWriters: { ...defaultWorkerCounts("small").streamWriters, typing: 2, presence: 3 },
    });
    const problems = validateWorkerCounts({ ...bad, consolidateStreamWriters: false });
    expect(fields(problems)).to.deep.equal([
      "workers.streamWriters.typing",
      "workers.streamWriters.presence",
    ]);
    expect(problems[0].message).to.contain("one writer of the typing stream");
  });

  it("allows several receipts and device_lists writers only when they have their own StatefulSets", () => {
    const sw = { ...defaultWorkerCounts("small").streamWriters, receipts: 2, deviceLists: 3 };
    expect(
      validateWorkerCounts(counts({ streamWriters: sw, consolidateStreamWriters: false })),
    ).to.deep.equal([]);
    const problems = validateWorkerCounts(counts({ streamWriters: sw, consolidateStreamWriters: true }));
    expect(fields(problems)).to.deep.equal([
      "workers.streamWriters.receipts",
      "workers.streamWriters.deviceLists",
    ]);
    expect(problems[0].message).to.contain("consolidateStreamWriters");
  });

  it("refuses several media repositories without a shared media store", () => {
    const problems = validateWorkerCounts(counts({ mediaRepository: 2 }));
    expect(fields(problems)).to.deep.equal(["workers.mediaRepository"]);
    expect(problems[0].message).to.contain("sharedMediaStore");
    expect(validateWorkerCounts(counts({ mediaRepository: 2 }), { sharedMediaStore: true })).to.deep.equal(
      [],
    );
  });

  it("refuses bad numbers, a second background worker and autoscaling of stateful workers", () => {
    const problems = validateWorkerCounts(counts({ synchrotron: -1, clientReader: 1.5, background: 2 }), {
      maxReplicas: { eventCreator: 0, eventPersister: 4 } as any,
      field: "matrix.workers",
    });
    expect(fields(problems)).to.deep.equal([
      "matrix.workers.synchrotron",
      "matrix.workers.clientReader",
      "matrix.workers.background",
      "matrix.workers.maxReplicas.eventCreator",
      "matrix.workers.maxReplicas.eventPersister",
    ]);
    expect(problems[3].message).to.contain("from matrix.workers.eventCreator (1)");
    expect(problems[4].message).to.contain("only stateless readers can autoscale");
  });
});

describe("matrix config: worker processes", () => {
  const small = defaultWorkerCounts("small");
  const group = (type: string) => workerGroups(small).find((g) => g.type === type)!;

  it("renders per-group worker config: app, listeners, own pool, no worker_name", () => {
    const sync = parse(renderWorkerConfig(group("synchrotron"), { database }));
    expect(sync.worker_app).to.equal("synapse.app.generic_worker");
    expect(sync.worker_name).to.equal(undefined);
    expect(sync.worker_log_config).to.equal("/conf/log.yaml");
    expect(sync.enable_media_repo).to.equal(false);
    expect(sync.worker_listeners.map((l: any) => [l.port, l.type, l.resources?.[0].names])).to.deep.equal([
      [8008, "http", ["client", "federation"]],
      [8080, "http", ["health"]],
      [9000, "metrics", undefined],
    ]);
    expect(sync.worker_listeners[0].x_forwarded).to.equal(true);
    expect(sync.database.name).to.equal("psycopg2");
    expect(sync.database.args).to.deep.include({
      host: "synapse-pgbouncer",
      port: 5432,
      database: "synapse",
      user: "synapse",
      application_name: "synapse-synchrotron",
      cp_max: 10,
      cp_min: 5,
    });
    expect(sync.database.args.password).to.equal(undefined);
  });

  it("gives stream writers and event persisters a replication listener, and media its media resource", () => {
    const writer = parse(renderWorkerConfig(group("stream-writer"), { database }));
    expect(writer.worker_listeners.map((l: any) => l.port)).to.deep.equal([8008, 9093, 8080, 9000]);
    expect(writer.worker_listeners[1].resources[0].names).to.deep.equal(["replication"]);
    expect(writer.worker_listeners[1].x_forwarded).to.equal(false);
    const persister = parse(renderWorkerConfig(group("event-persister"), { database }));
    expect(persister.worker_listeners.map((l: any) => l.port)).to.deep.equal([9093, 8080, 9000]);
    const sender = parse(
      renderWorkerConfig(group("federation-sender"), { database, poolSizes: { "federation-sender": 3 } }),
    );
    expect(sender.worker_listeners.map((l: any) => l.port)).to.deep.equal([8080, 9000]);
    expect(sender.database.args).to.deep.include({ cp_max: 3, cp_min: 3 });
    const media = parse(renderWorkerConfig(group("media-repository"), { database }));
    expect(media.worker_app).to.equal("synapse.app.media_repository");
    expect(media.worker_listeners[0].resources[0].names).to.deep.equal(["client", "federation", "media"]);
    expect(media.enable_media_repo).to.equal(undefined);
  });

  it("refuses bad database settings and pool sizes by field", () => {
    expect(() =>
      renderWorkerConfig(group("pusher"), { database: { ...database, host: "Bad Host" } }),
    ).to.throw(ValidationError, "database.host");
    expect(() => renderWorkerConfig(group("pusher"), { database, poolSizes: { pusher: 0 } })).to.throw(
      "poolSizes.pusher",
    );
  });

  it("starts main without a shell, homeserver then secrets", () => {
    expect(mainCommand()).to.deep.equal([
      "python",
      "-m",
      "synapse.app.homeserver",
      "--config-path",
      "/conf/homeserver.yaml",
      "--config-path",
      "/secrets/synapse/secrets.yaml",
    ]);
    expect(() => mainCommand({ secrets: "relative/secrets.yaml" })).to.throw("paths.secrets");
  });

  describe("the worker start script (run with /bin/sh and a stub python)", () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-worker-"));
      fs.mkdirSync(path.join(dir, "bin"));
      const stub = path.join(dir, "bin", "python");
      fs.writeFileSync(stub, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
      fs.chmodSync(stub, 0o755);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    function run(podName: string) {
      const [sh, flag, script] = workerCommand(group("event-persister"), {
        instance: `${dir}/instance.yaml`,
      });
      expect([sh, flag]).to.deep.equal(["/bin/sh", "-c"]);
      return spawnSync(sh, [flag, script], {
        env: { PATH: `${dir}/bin:/usr/bin:/bin`, POD_NAME: podName },
        encoding: "utf8",
      });
    }

    it("writes worker_name from POD_NAME and passes the config files in merge order", () => {
      const r = run("synapse-event-persister-3");
      expect(r.status, r.stderr).to.equal(0);
      expect(parse(fs.readFileSync(`${dir}/instance.yaml`, "utf8"))).to.deep.equal({
        worker_name: "synapse-event-persister-3",
      });
      expect(r.stdout.trim().split("\n")).to.deep.equal([
        "-m",
        "synapse.app.generic_worker",
        "--config-path",
        "/conf/homeserver.yaml",
        "--config-path",
        "/conf/worker.yaml",
        "--config-path",
        "/secrets/synapse/secrets.yaml",
        "--config-path",
        `${dir}/instance.yaml`,
      ]);
    });

    it("refuses to start a pod that is not of its StatefulSet", () => {
      fs.rmSync(`${dir}/instance.yaml`, { force: true });
      const r = run("synapse-synchrotron-0");
      expect(r.status).to.equal(1);
      expect(r.stderr).to.contain("is not a pod of synapse-event-persister");
      expect(fs.existsSync(`${dir}/instance.yaml`)).to.equal(false);
      expect(run("").status).to.equal(1);
    });

    it("is valid POSIX sh", () => {
      const [, , script] = workerCommand(group("synchrotron"));
      execFileSync("/bin/sh", ["-n", "-c", script]);
    });
  });
});
