import { expect } from "chai";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../../program/config";
import { deploy } from "../../program/deploy";
import { PostgresBinaries, asPostgresUser, ensurePostgres } from "../e2e/postgres";
import { Recorded, installMocks, settle } from "../unit/harness";
import { stackConfig } from "../unit/fixtures";
import { Running, containerEnv, find, freePort, root, versionOf, waitFor } from "./harness";
import { ImagePostgres, exec, psqlRun, podPostgres, step } from "./postgres/image";

/*
 * Rotating the credentials of an existing PostgreSQL (keel:secretRotation 0 → 1, dev stack), for real: the
 * server as rendered at rotation 0 is created by the image's first-start contract (./postgres/image.ts), then
 * restarted as rendered at rotation 1 — the rendered command (keel's adopt-passwords script from its rendered
 * ConfigMap), arguments and environment — and every role must log in with its new password only.
 * Rewrites besides ./postgres/image.ts's (printed):
 */
const rewrites = [
  "each rotated password: the mock engine's value (it does not re-generate when the keeper changes) → a new " +
    "random one of 32 letters and digits, as @pulumi/random generates them",
  'docker-entrypoint.sh (the image\'s, on an existing data directory `exec postgres "$@"`) → a script doing ' +
    "that with the socket, listen address and port rewrites",
];

async function render(secretRotation: number): Promise<Recorded[]> {
  await installMocks();
  deploy(parseStackConfig({ ...stackConfig("dev"), secretRotation }));
  return settle();
}

interface RotatedPod {
  command: string[];
  args: string[];
  env: Record<string, string>;
  /** The script the command runs, from its rendered ConfigMap. */
  script: string;
}

/** The postgres container as rendered at rotation 1, with the file its command runs. */
function rotatedPod(res: Recorded[], statefulSet: string): RotatedPod {
  const ss = find(res, "StatefulSet", new RegExp(`^${statefulSet}$`));
  const namespace: string = ss.inputs.metadata.namespace;
  const pod = ss.inputs.spec.template.spec;
  const container = pod.containers[0];
  const [shell, file] = container.command ?? [];
  expect(shell, "the container runs a script before the image's entrypoint").to.equal("bash");
  const mount = container.volumeMounts.find((m: any) => m.mountPath === path.dirname(file));
  const volume = pod.volumes.find((v: any) => v.name === mount.name);
  const configMap = res.find(
    (r) =>
      r.type === "kubernetes:core/v1:ConfigMap" &&
      r.inputs.metadata?.namespace === namespace &&
      r.inputs.metadata?.name === volume.configMap.name,
  );
  return {
    command: container.command,
    args: container.args,
    env: containerEnv(res, namespace, container),
    script: configMap!.inputs.data[path.basename(file)],
  };
}

/** role → the variable holding its password (the script's KEEL_ADOPT_ROLES). */
function rolesOf(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries((env.KEEL_ADOPT_ROLES ?? "").split(" ").map((p) => p.split("=")));
}

/** The server restarted as rendered at rotation 1 on the data directory of the first start. */
class RotatedStart {
  port = 0;
  server?: Running;
  constructor(
    readonly bin: PostgresBinaries,
    readonly first: ImagePostgres,
    readonly pod: RotatedPod,
  ) {}

  /** Writes the script and the entrypoint stand-in, then runs the rendered command with `env`. */
  async run(env: Record<string, string>): Promise<Running> {
    this.port = await freePort();
    const dir = path.join(this.first.dir, "rotated");
    fs.mkdirSync(path.join(dir, "bin"), { recursive: true, mode: 0o755 });
    const script = path.join(dir, "adopt-passwords.sh");
    fs.writeFileSync(script, this.pod.script, { mode: 0o644 });
    const server = `exec postgres "$@" -c unix_socket_directories=${this.first.sockets} -c listen_addresses=127.0.0.1 -c port=${this.port}`;
    fs.writeFileSync(path.join(dir, "bin/docker-entrypoint.sh"), `#!/bin/bash\n${server}\n`, { mode: 0o755 });
    const [cmd, args] = asPostgresUser("bash", [script, ...this.pod.args]);
    const path_ = `${dir}/bin:${this.bin.server}:${process.env.PATH}`;
    this.server = new Running(cmd, args, {
      env: { PATH: path_, LANG: "C.UTF-8", ...env, PGDATA: this.first.data },
    });
    return this.server;
  }

  async ready(): Promise<boolean> {
    const args = ["-h", "127.0.0.1", "-p", String(this.port)];
    return (await exec(path.join(this.bin.client, "pg_isready"), args, {})).status === 0;
  }

  async login(user: string, password: string): Promise<{ ok: boolean; why: string }> {
    const database = this.pod.env.POSTGRES_DB;
    const r = await psqlRun(this.bin, { port: this.port, user, password, database }, "SELECT current_user");
    return { ok: r.status === 0 && r.stdout.trim() === user, why: r.stderr.trim() };
  }

  async stop(): Promise<void> {
    if (this.server?.proc.pid && !this.server.exited()) process.kill(this.server.proc.pid, "SIGINT");
    await waitFor("PostgreSQL stops", () => this.server?.exited() ?? true, 30_000).catch(() => undefined);
    await this.server?.stop();
  }
}

const newPassword = () =>
  randomBytes(24)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 32);

for (const statefulSet of ["matrix-postgres", "matrix-li-postgres"]) {
  describe(`conformance: ${statefulSet} adopts rotated passwords (keel:secretRotation 0 → 1, dev stack)`, function () {
    this.timeout(300_000);
    let bin: PostgresBinaries;
    let first: ImagePostgres;
    let rotated: RotatedPod;
    let roles: Record<string, string>;
    const oldPasswords: Record<string, string> = {};
    const newPasswords: Record<string, string> = {};

    before(async function () {
      bin = ensurePostgres();
      process.stderr.write(
        `      PostgreSQL server: ${versionOf(path.join(bin.server, "postgres"), ["--version"])}\n`,
      );
      process.stderr.write(`      rewrites:\n${rewrites.map((r) => `        - ${r}\n`).join("")}`);
      const initial = podPostgres(await render(0), statefulSet);
      rotated = rotatedPod(await render(1), statefulSet);
      roles = rolesOf(rotated.env);
      first = new ImagePostgres(bin, initial, `rotation-${statefulSet}`);
      const done = step("first start as rendered at rotation 0");
      await first.start();
      for (const [role, variable] of Object.entries(roles)) {
        oldPasswords[role] = initial.env[variable];
        newPasswords[role] = newPassword();
        const r = await psqlRun(
          bin,
          { ...first.superuser(), user: role, password: oldPasswords[role] },
          "SELECT 1",
        );
        expect(r.status, `${role} logs in with its first password: ${r.stderr}`).to.equal(0);
      }
      await first.stop();
      done();
    });

    after(async function () {
      await first?.stop();
      if (first) fs.rmSync(first.dir, { recursive: true, force: true });
    });

    it("renders every role of the server for adoption: the owner, extra databases' and replication roles", () => {
      const rendered = fs.readFileSync(
        path.join(root, "components/core/sh/postgres-adopt-passwords.sh"),
        "utf8",
      );
      expect(rotated.script).to.equal(rendered);
      const want =
        statefulSet === "matrix-postgres" ? ["synapse", "li_replicator"] : ["synapse", "key_vault"];
      expect(Object.keys(roles).sort()).to.deep.equal(want.sort());
      expect(roles.synapse).to.equal("POSTGRES_PASSWORD");
    });

    it("refuses a password that is not letters and digits, naming its variable, and starts nothing", async () => {
      const start = new RotatedStart(bin, first, rotated);
      const bad = { ...rotated.env, POSTGRES_PASSWORD: "x'; DROP ROLE synapse; --0123456789" };
      const p = await start.run(bad);
      await waitFor("the script exits", () => p.exited(), 30_000);
      expect(p.proc.exitCode).to.equal(1);
      expect(p.output()).to.contain(
        "POSTGRES_PASSWORD (the password of role synapse) must be 16 to 128 letters",
      );
      expect(p.output()).not.to.contain("DROP ROLE");
    });

    it("after the restart every role logs in with its new password, and not with its old one", async () => {
      const env = { ...rotated.env };
      for (const [role, variable] of Object.entries(roles)) env[variable] = newPasswords[role];
      const start = new RotatedStart(bin, first, rotated);
      const p = await start.run(env);
      try {
        await waitFor("PostgreSQL accepts connections", () => start.ready(), 60_000, p);
        for (const role of Object.keys(roles)) {
          const now = await start.login(role, newPasswords[role]);
          expect(now.ok, `${role} with its new password: ${now.why}`).to.equal(true);
          const before = await start.login(role, oldPasswords[role]);
          expect(before.ok, `${role} with its old password`).to.equal(false);
          expect(before.why).to.contain(`password authentication failed for user "${role}"`);
        }
        expect(p.output()).not.to.contain(newPasswords.synapse);
      } finally {
        await start.stop();
      }
    });
  });
}
