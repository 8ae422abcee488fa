import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { asPostgresUser } from "../e2e/postgres";
import { containerEnv, find } from "../conformance/harness";
import { Conn, ImagePostgres, exec, podPostgres, query, step } from "../conformance/postgres/image";
import { synapsePods } from "../conformance/synapse/pods";
import { MatrixSite, SynapseProcess } from "./site";

/*
 * The lawful-intercept (LI) replica beside a running MatrixSite: the LI PostgreSQL as the image starts it,
 * the rendered li-replication-setup Job and li-sequence-sync CronJob scripts run against the two servers,
 * and the LI Synapse on its rendered config. Rewrites (listed in `rewrites`): the jobs' MAIN_HOST
 * synapse-postgres.matrix.svc and PGHOST synapse-li-postgres → 127.0.0.1, their `port=5432` → main's port
 * and PGPORT → the LI server's, /tmp/ → <scratch>/; the LI Synapse's as MatrixSite's pods.
 */

export class LawfulInterceptSite {
  postgres!: ImagePostgres;
  synapse?: SynapseProcess;
  readonly rewrites: string[] = [];
  private readonly tmp: string;

  constructor(readonly site: MatrixSite) {
    this.tmp = path.join(site.scratch, "li-jobs");
    fs.mkdirSync(this.tmp, { recursive: true });
  }

  /** The LI PostgreSQL's first start, as the image does it with the rendered init scripts. */
  async start(): Promise<void> {
    const done = step("the LI PostgreSQL (the image's first start with the rendered init scripts)");
    this.postgres = new ImagePostgres(this.site.bin, podPostgres(this.site.res, "matrix-li-postgres"), "li");
    await this.postgres.start();
    this.site.li = this.postgres;
    done();
  }

  /** A rendered job's script and env, rewritten to reach the two local servers. */
  private job(script: string, container: any, extra: Record<string, string> = {}) {
    const env = containerEnv(this.site.res, "matrix-li", container);
    expect(env.MAIN_HOST).to.equal("synapse-postgres.matrix.svc");
    expect(env.PGHOST).to.equal("synapse-li-postgres");
    expect(script).to.contain("port=5432");
    const rewritten = script
      .replace(/port=5432/g, `port=${this.site.postgres.port}`)
      .replace(/\/tmp\//g, `${this.tmp}/`);
    const [cmd, args] = asPostgresUser("bash", ["-c", rewritten]);
    const run: Record<string, string> = {
      PATH: `${this.site.bin.client}:${process.env.PATH}`,
      LANG: "C.UTF-8",
      ...env,
      ...extra,
      MAIN_HOST: "127.0.0.1",
      PGHOST: "127.0.0.1",
      PGPORT: String(this.postgres.port),
    };
    return { cmd, args, env: run, rendered: env };
  }

  /** The rendered li-replication-setup Job; `schemaVersion` stands in for its SCHEMA_VERSION when given. */
  async replicationSetup(schemaVersion?: string): Promise<string> {
    const job = find(this.site.res, "Job", /^matrix-li-replication-setup$/);
    const container = job.inputs.spec.template.spec.containers[0];
    const j = this.job(
      container.command[2],
      container,
      schemaVersion ? { SCHEMA_VERSION: schemaVersion } : {},
    );
    expect(j.rendered.MAIN_PASSWORD, "the job logs in as main's li_replicator").to.equal(
      this.site.postgres.pod.env.LI_REPLICATOR_PASSWORD,
    );
    const done = step(`li-replication-setup (SCHEMA_VERSION ${j.env.SCHEMA_VERSION})`);
    const r = await exec(j.cmd, j.args, j.env);
    done();
    if (r.status !== 0)
      throw new Error(`li-replication-setup failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** The rendered li-sequence-sync CronJob's script. */
  async sequenceSync(): Promise<string> {
    const cron = find(this.site.res, "CronJob", /^matrix-li-sequence-sync$/);
    const container = cron.inputs.spec.jobTemplate.spec.template.spec.containers[0];
    const j = this.job(container.command[2], container);
    const r = await exec(j.cmd, j.args, j.env);
    if (r.status !== 0) throw new Error(`li-sequence-sync failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  mainSuperuser(): Conn {
    return this.site.postgres.superuser();
  }

  liSuperuser(): Conn {
    return this.postgres.superuser();
  }

  /** Every published table is subscribed and copied, and the replica has applied main's WAL up to now. */
  async caughtUp(): Promise<void> {
    const bin = this.site.bin;
    const published = await query(
      bin,
      this.mainSuperuser(),
      "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'synapse_li'",
    );
    const states =
      "SELECT count(*) FILTER (WHERE srsubstate = 'r') || '/' || count(*) FROM pg_subscription_rel";
    await waitUntil("every published table is subscribed and copied", async () => {
      return (await query(bin, this.liSuperuser(), states)) === `${published}/${published}`;
    });
    const lsn = await query(bin, this.mainSuperuser(), "SELECT pg_current_wal_lsn()");
    await waitUntil(`the subscription confirmed main's WAL up to ${lsn}`, async () => {
      const r = await query(
        bin,
        this.mainSuperuser(),
        `SELECT confirmed_flush_lsn >= '${lsn}'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'synapse_li'`,
      );
      return r === "t";
    });
  }

  /** The LI Synapse pod on its rendered config (database: the LI server). */
  async startSynapse(): Promise<SynapseProcess> {
    const pod = synapsePods(this.site.res).find((p) => p.pod === "synapse-li-0");
    expect(pod, "the LI Synapse pod").to.not.equal(undefined);
    const done = step("the LI Synapse");
    await this.synapse?.proc.stop();
    this.synapse = await this.site.startPod(pod!);
    done();
    return this.synapse;
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, ms = 300_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
