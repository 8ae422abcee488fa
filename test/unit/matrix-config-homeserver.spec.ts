import { ValidationError } from "@keel/core";
import {
  HomeserverConfigInput,
  cacheFactorFor,
  defaultWorkerCounts,
  monolithWorkerCounts,
  renderHomeserverConfig,
  renderLogConfig,
  renderSynapseSecretsConfig,
  requiredSynapseSecrets,
  synapseSecretConfigKeys,
  validateHomeserverInput,
} from "@keel/matrix";
import { expect } from "chai";
import { parse } from "yaml";

function input(overrides: Partial<HomeserverConfigInput> = {}): HomeserverConfigInput {
  return {
    domain: "example.org",
    counts: defaultWorkerCounts("small"),
    database: { host: "synapse-pgbouncer", database: "synapse", user: "synapse" },
    redis: { host: "redis", passwordPath: "/secrets/redis/password" },
    ...overrides,
  };
}

const render = (overrides: Partial<HomeserverConfigInput> = {}) =>
  parse(renderHomeserverConfig(input(overrides)));

/** Every key path of a parsed document, e.g. `database.args.host`. */
function keyPaths(value: unknown, prefix = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keyPaths(v, `${prefix}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => [`${prefix}${k}`, ...keyPaths(v, `${prefix}${k}.`)]);
  }
  return [];
}

const secrets = {
  macaroonSecretKey: "m".repeat(32),
  formSecret: "f".repeat(32),
  workerReplicationSecret: "w".repeat(32),
};

describe("matrix config: homeserver.yaml", () => {
  it("names the server, its public URL and the listeners of main", () => {
    const hs = render();
    expect(hs.server_name).to.equal("example.org");
    expect(hs.public_baseurl).to.equal("https://matrix.example.org/");
    expect(hs.report_stats).to.equal(false);
    expect(hs.enable_metrics).to.equal(true);
    const listeners = hs.listeners.map((l: any) => ({
      port: l.port,
      type: l.type,
      names: l.resources?.[0].names,
      xf: l.x_forwarded,
    }));
    expect(listeners).to.deep.equal([
      { port: 8008, type: "http", names: ["client", "federation"], xf: true },
      { port: 9093, type: "http", names: ["replication"], xf: false },
      { port: 8080, type: "http", names: ["health"], xf: false },
      { port: 9000, type: "metrics", names: undefined, xf: undefined },
    ]);
    expect(hs.signing_key_path).to.equal("/secrets/signing/signing.key");
    expect(hs.log_config).to.equal("/conf/log.yaml");
    expect(render({ homeserverHost: "chat.example.org" }).public_baseurl).to.equal(
      "https://chat.example.org/",
    );
  });

  it("puts main and every replication worker in instance_map, and nothing else", () => {
    const hs = render();
    expect(hs.instance_map).to.deep.equal({
      main: { host: "synapse-main-0.synapse-main", port: 9093 },
      "synapse-event-persister-0": { host: "synapse-event-persister-0.synapse-event-persister", port: 9093 },
      "synapse-stream-writer-0": { host: "synapse-stream-writer-0.synapse-stream-writer", port: 9093 },
      // It writes quarantined_media_changes (the media admin API is only on the media repository).
      "synapse-media-repository-0": {
        host: "synapse-media-repository-0.synapse-media-repository",
        port: 9093,
      },
    });
  });

  it("moves streams, federation sending, pushers, background and media off main", () => {
    const hs = render();
    expect(hs.stream_writers).to.deep.equal({
      events: ["synapse-event-persister-0"],
      typing: ["synapse-stream-writer-0"],
      to_device: ["synapse-stream-writer-0"],
      account_data: ["synapse-stream-writer-0"],
      receipts: ["synapse-stream-writer-0"],
      presence: ["synapse-stream-writer-0"],
      push_rules: ["synapse-stream-writer-0"],
      device_lists: ["synapse-stream-writer-0"],
      quarantined_media_changes: ["synapse-media-repository-0"],
    });
    expect(hs.federation_sender_instances).to.deep.equal(["synapse-federation-sender-0"]);
    expect(hs.pusher_instances).to.deep.equal(["synapse-pusher-0"]);
    expect(hs.run_background_tasks_on).to.equal("synapse-background-0");
    expect(hs.enable_media_repo).to.equal(false);
    expect(hs.media_instance_running_background_jobs).to.equal("synapse-media-repository-0");
    expect(hs.media_store_path).to.equal("/media/media_store");
    expect(hs.max_upload_size).to.equal("100M");
  });

  it("lists every instance of multi-writer streams and sharded duties at larger scales", () => {
    const hs = render({ counts: defaultWorkerCounts("large") });
    expect(hs.stream_writers.events).to.have.length(4);
    expect(hs.stream_writers.receipts).to.deep.equal([
      "synapse-receipts-writer-0",
      "synapse-receipts-writer-1",
    ]);
    expect(hs.stream_writers.typing).to.deep.equal(["synapse-typing-writer-0"]);
    expect(hs.federation_sender_instances).to.have.length(4);
    expect(hs.pusher_instances).to.deep.equal(["synapse-pusher-0", "synapse-pusher-1"]);
    expect(Object.keys(hs.instance_map)).to.include.members([
      "synapse-receipts-writer-1",
      "synapse-device-lists-writer-1",
      "synapse-event-persister-3",
    ]);
    expect(Object.keys(hs.instance_map)).to.not.include("synapse-synchrotron-0");
  });

  it("connects to PgBouncer with main's pool and Redis by password file", () => {
    const hs = render({ poolSizes: { main: 15 } });
    expect(hs.database.args).to.deep.include({
      host: "synapse-pgbouncer",
      port: 5432,
      cp_max: 15,
      cp_min: 5,
      application_name: "synapse-main",
      sslmode: "prefer",
    });
    expect(hs.redis).to.deep.equal({
      enabled: true,
      host: "redis",
      port: 6379,
      password_path: "/secrets/redis/password",
    });
  });

  it("runs a monolith without replication, instance_map or Redis", () => {
    const hs = render({ counts: monolithWorkerCounts, redis: undefined });
    expect(hs.listeners.map((l: any) => l.port)).to.deep.equal([8008, 8080, 9000]);
    for (const key of [
      "instance_map",
      "stream_writers",
      "redis",
      "enable_media_repo",
      "federation_sender_instances",
      "run_background_tasks_on",
    ]) {
      expect(hs, key).to.not.have.property(key);
    }
  });

  it("holds no secret: no password, key or token value, and no key of the secrets file", () => {
    const text = renderHomeserverConfig(
      input({ turn: { uris: ["turn:turn.example.org:3478?transport=udp"] }, groupCalls: true }),
    );
    const paths = keyPaths(parse(text));
    const last = (p: string) => p.split(".").pop()!;
    const suspicious = paths.filter(
      (p) => /(password|secret|macaroon|token)/.test(last(p)) && !p.endsWith("_path"),
    );
    expect(suspicious).to.deep.equal([]);
    expect(paths).to.include("redis.password_path");
    for (const key of synapseSecretConfigKeys) expect(paths).to.not.include(key);
  });

  it("sets the private CA, TURN, group-call MSCs, cache factor and the module slot", () => {
    const hs = render({
      federationCustomCaPath: "/etc/keel/ca.pem",
      turn: { uris: ["turns:turn.example.org:5349?transport=tcp"], userLifetime: "2h" },
      groupCalls: true,
      cacheFactor: cacheFactorFor("large"),
      modules: [{ module: "synapse_av.AsyncAvChecker", config: { clamd_host: "clamav", max_size_mb: 100 } }],
      trustedKeyServers: ["keys.example.org"],
      federationDomainWhitelist: ["example.org", "partner.example.net"],
    });
    expect(hs.federation_custom_ca_list).to.deep.equal(["/etc/keel/ca.pem"]);
    expect(hs.federation_verify_certificates).to.equal(true);
    expect(hs.turn_uris).to.deep.equal(["turns:turn.example.org:5349?transport=tcp"]);
    expect(hs.turn_user_lifetime).to.equal("2h");
    expect(hs.turn_allow_guests).to.equal(false);
    expect(hs.experimental_features).to.deep.equal({ msc3266_enabled: true, msc4222_enabled: true });
    expect(hs.max_event_delay_duration).to.equal("24h");
    expect(hs.rc_delayed_event_mgmt).to.deep.equal({ per_second: 1, burst_count: 20 });
    expect(hs.caches).to.deep.equal({ global_factor: 4 });
    expect(hs.modules).to.deep.equal([
      { module: "synapse_av.AsyncAvChecker", config: { clamd_host: "clamav", max_size_mb: 100 } },
    ]);
    expect(hs.trusted_key_servers).to.deep.equal([{ server_name: "keys.example.org" }]);
    expect(hs.federation_domain_whitelist).to.deep.equal(["example.org", "partner.example.net"]);
    const plain = render();
    expect(plain.trusted_key_servers).to.deep.equal([]);
    for (const key of ["experimental_features", "turn_uris", "modules", "federation_custom_ca_list"]) {
      expect(plain, key).to.not.have.property(key);
    }
    expect(plain.caches.global_factor).to.equal(0.5);
  });

  it("renders byte-identical output for equal input, whatever the key order", () => {
    const a = input({ groupCalls: true, modules: [{ module: "a.B", config: { y: 1, x: [2, 1] } }] });
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as unknown as HomeserverConfigInput;
    reordered.modules = [{ config: { x: [2, 1], y: 1 }, module: "a.B" }];
    expect(renderHomeserverConfig(reordered)).to.equal(renderHomeserverConfig(a));
    expect(renderHomeserverConfig(input())).to.not.equal(
      renderHomeserverConfig(input({ domain: "example.net" })),
    );
  });

  it("refuses bad input with the field named", () => {
    const fields = (i: HomeserverConfigInput) => validateHomeserverInput(i).map((p) => p.field);
    expect(fields(input({ redis: undefined }))).to.deep.equal(["redis"]);
    expect(fields(input({ domain: "Example_org" }))).to.deep.equal(["domain"]);
    expect(fields(input({ turn: { uris: ["http://turn.example.org"] } }))).to.deep.equal(["turn.uris[0]"]);
    expect(fields(input({ maxUploadSize: "lots", cacheFactor: 0 }))).to.deep.equal([
      "maxUploadSize",
      "cacheFactor",
    ]);
    expect(fields(input({ counts: { ...defaultWorkerCounts("small"), mediaRepository: 2 } }))).to.deep.equal([
      "counts.mediaRepository",
    ]);
    expect(
      fields(
        input({ counts: { ...defaultWorkerCounts("small"), mediaRepository: 2 }, sharedMediaStore: true }),
      ),
    ).to.be.empty;
    expect(fields(input({ modules: [{ module: "av", config: {} }] }))).to.deep.equal(["modules[0].module"]);
    expect(() =>
      renderHomeserverConfig(
        input({ modules: [{ module: "av.Checker", config: { nested: { api_key: "s3cr3t" } } }] }),
      ),
    ).to.throw(ValidationError, "modules[0].config.nested.api_key");
    expect(
      fields(input({ modules: [{ module: "av.Checker", config: { api_key_path: "/secrets/av/key" } }] })),
    ).to.be.empty;
  });
});

describe("matrix config: secrets file and logging", () => {
  it("renders only top-level secret keys, quoted so no value can inject YAML", () => {
    const tricky = 'abc"def\nregistration_shared_secret: injected #x';
    const out = parse(renderSynapseSecretsConfig({ ...secrets, turnSharedSecret: tricky }));
    expect(out).to.deep.equal({
      macaroon_secret_key: secrets.macaroonSecretKey,
      form_secret: secrets.formSecret,
      worker_replication_secret: secrets.workerReplicationSecret,
      turn_shared_secret: tricky,
    });
    expect(synapseSecretConfigKeys).to.include.members(Object.keys(out));
  });

  it("refuses short or unknown secrets without echoing them", () => {
    let err: ValidationError | undefined;
    try {
      renderSynapseSecretsConfig({ ...secrets, formSecret: "tooShort1" });
    } catch (e) {
      err = e as ValidationError;
    }
    expect(err).to.be.instanceOf(ValidationError);
    expect(err!.field).to.equal("secrets.formSecret");
    expect(err!.message).to.not.contain("tooShort1");
    expect(() => renderSynapseSecretsConfig({ ...secrets, dbPassword: "x".repeat(20) } as any)).to.throw(
      "secrets.dbPassword",
    );
  });

  it("says which secrets an input needs", () => {
    expect(requiredSynapseSecrets(input({ counts: monolithWorkerCounts, redis: undefined }))).to.deep.equal([
      "macaroonSecretKey",
      "formSecret",
    ]);
    expect(requiredSynapseSecrets(input({ turn: { uris: ["turn:t.example.org"] } }))).to.deep.equal([
      "macaroonSecretKey",
      "formSecret",
      "workerReplicationSecret",
      "turnSharedSecret",
    ]);
  });

  it("logs to stdout and never lets SQL logging reach DEBUG", () => {
    const log = parse(renderLogConfig({ level: "DEBUG" }));
    expect(log.version).to.equal(1);
    expect(log.root).to.deep.equal({ level: "DEBUG", handlers: ["console"] });
    expect(log.handlers.console).to.deep.include({
      class: "logging.StreamHandler",
      stream: "ext://sys.stdout",
    });
    expect(log.loggers["synapse.storage.SQL"].level).to.equal("INFO");
    expect(log.disable_existing_loggers).to.equal(false);
    expect(parse(renderLogConfig()).root.level).to.equal("INFO");
    expect(() => renderLogConfig({ level: "TRACE" as any })).to.throw("level");
  });
});
