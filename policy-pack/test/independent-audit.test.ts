import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { PACK_DIR } from "./helpers";

/**
 * The audit command over manifests written independently of test/fixtures (test/independent/):
 * - defective/: the seeds' defects the way their authors wrote them (Helm output, a `kind: List` export,
 *   Bitnami-style PostgreSQL/Redis/Elasticsearch StatefulSets, rendered Terraform);
 * - hardened/: a hand-written, fully hardened site (quotas, limit ranges, default deny, PDBs, HPAs, probes,
 *   digests from an internal mirror, backups with retention, documented exemptions).
 * It runs the CLI as a user does: `npm run -s audit -- --format json [--config file] <dir>`.
 */
const INDEPENDENT = path.join("test", "independent");

interface Entry {
  rule: string;
  level: "mandatory" | "advisory" | "exempt";
  kind: string;
  namespace: string;
  name: string;
  message: string;
  file?: string;
  document?: number;
}

function npmAudit(...args: string[]): { status: number | null; entries: Entry[]; stderr: string } {
  // Under `npm test` npm_execpath is npm's own CLI; run it with this node, else fall back to `npm` on PATH.
  const npmCli = process.env.npm_execpath;
  const [command, prefix] =
    npmCli && /npm-cli\.js$/.test(npmCli) ? [process.execPath, [npmCli]] : ["npm", []];
  const result = spawnSync(command, [...prefix, "run", "-s", "audit", "--", "--format", "json", ...args], {
    cwd: PACK_DIR,
    encoding: "utf8",
  });
  let entries: Entry[] = [];
  try {
    entries = JSON.parse(result.stdout) as Entry[];
  } catch {
    assert.fail(
      `audit printed no JSON (exit ${result.status}): ${result.stdout.slice(0, 500)} ${result.stderr.slice(0, 2000)}`,
    );
  }
  return { status: result.status, entries, stderr: result.stderr };
}

function keyOf(e: Pick<Entry, "kind" | "namespace" | "name">): string {
  if (e.kind === "Stack") {
    return "Stack";
  }
  return e.namespace && e.kind !== "Namespace" ? `${e.kind} ${e.namespace}/${e.name}` : `${e.kind} ${e.name}`;
}

/** Rule ids per object at one level, sorted. */
function byObject(entries: readonly Entry[], level: Entry["level"]): Record<string, string[]> {
  const map: Record<string, Set<string>> = {};
  for (const e of entries.filter((x) => x.level === level)) {
    (map[keyOf(e)] ??= new Set()).add(e.rule);
  }
  return Object.fromEntries(
    Object.entries(map)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, [...v].sort()]),
  );
}

function sorted(record: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(record)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, [...v].sort()]),
  );
}

/** What every pod of the defective set misses: no securityContext, no NetworkPolicy, images off the mirror. */
const POD_BASICS = [
  "capabilities",
  "image-registry",
  "pod-network-policy",
  "privilege-escalation",
  "run-as-non-root",
  "seccomp-profile",
];
const NAMESPACE_BASICS = [
  "namespace-default-deny",
  "namespace-limit-range",
  "namespace-pod-security",
  "namespace-quota",
];

const DEFECTIVE_MANDATORY: Record<string, string[]> = {
  "ClusterIssuer letsencrypt-prod": ["acme-air-gapped"],
  "ClusterRoleBinding openclaw-cluster-admin": ["cluster-admin-binding"],
  "Cluster matrix/synapse-db": ["pvc-storage-class"],
  "ConfigMap june-dark/june-dark-config": ["configmap-secret"],
  "ConfigMap matrix/haproxy-config": ["placeholder-value"],
  "ConfigMap matrix/synapse-config": ["configmap-secret", "placeholder-value"],
  "ConfigMap openclaw/git-crypt-key": ["configmap-secret"],
  "CronJob dbaas/mysql-backup": [...POD_BASICS, "backup-retention", "container-resources"],
  "CronJob matrix/matrix-postgresql-pgdumpall": [
    ...POD_BASICS,
    "backup-retention",
    "container-resources",
    "mutable-image-tag",
  ],
  "DaemonSet matrix/coturn": [
    ...POD_BASICS,
    "container-probes",
    "env-literal-secret",
    "host-namespaces",
    "mutable-image-tag",
  ],
  "Deployment june-dark/collector": [
    ...POD_BASICS,
    "liveness-detection-time",
    "mutable-image-tag",
    "pdb-required",
  ],
  "Deployment june-dark/enricher": [
    ...POD_BASICS,
    "liveness-detection-time",
    "mutable-image-tag",
    "pdb-required",
  ],
  "Deployment june-dark/neo4j": [...POD_BASICS, "backup-retention", "liveness-detection-time"],
  "Deployment june-dark/postgres": [...POD_BASICS, "backup-retention", "postgres-memory"],
  "Deployment june-services/june-idp": [
    ...POD_BASICS,
    "container-resources",
    "env-literal-secret",
    "liveness-detection-time",
    "mutable-image-tag",
  ],
  "Deployment june-services/june-orchestrator": [
    ...POD_BASICS,
    "liveness-detection-time",
    "mutable-image-tag",
  ],
  "Deployment june-services/june-stt": [
    ...POD_BASICS,
    "container-probes",
    "container-resources",
    "emptydir-cache",
    "mutable-image-tag",
  ],
  "Deployment june-services/june-tts": [
    ...POD_BASICS,
    "container-probes",
    "emptydir-cache",
    "env-literal-secret",
    "mutable-image-tag",
  ],
  "Deployment matrix/synapse-main": [...POD_BASICS],
  "Deployment openclaw/openclaw": [
    ...POD_BASICS,
    "container-probes",
    "container-resources",
    "mutable-image-tag",
  ],
  "Ingress june-services/june-ingress": ["acme-air-gapped"],
  "Ingress matrix/matrix": ["acme-air-gapped"],
  "Namespace dbaas": NAMESPACE_BASICS,
  "Namespace june-dark": NAMESPACE_BASICS,
  "Namespace june-services": NAMESPACE_BASICS,
  "Namespace matrix": NAMESPACE_BASICS,
  // declared, with no workloads yet: no quota or limit range needed, but no isolation either
  "Namespace matrix-li": ["li-isolation", "namespace-default-deny", "namespace-pod-security"],
  "Namespace openclaw": NAMESPACE_BASICS,
  "PersistentVolumeClaim june-dark/neo4j-data-pvc": ["pvc-storage-class"],
  // written next to the platform, while coturn runs in namespace matrix
  "PodDisruptionBudget coturn/coturn": ["selector-matches-pods"],
  "PersistentVolumeClaim june-dark/postgres-pvc": ["pvc-storage-class"],
  "PersistentVolumeClaim june-dark/rabbitmq-pvc": ["pvc-storage-class"],
  "PersistentVolumeClaim matrix/matrix-postgresql-pgdumpall": ["pvc-storage-class"],
  // the seed deploys no LiveKit: the Service selects no pod
  "Service matrix/livekit-rtc": ["selector-matches-pods", "service-exposure"],
  Stack: ["capacity-fit"],
  "Tenant matrix/matrix-media": ["pvc-storage-class"],
  "StatefulSet dbaas/mysql": [...POD_BASICS, "backup-retention", "container-probes", "container-resources"],
  "StatefulSet dbaas/postgresql": [
    ...POD_BASICS,
    "backup-retention",
    "container-probes",
    "container-resources",
    "mutable-image-tag",
  ],
  "StatefulSet june-dark/elasticsearch-master": [
    ...POD_BASICS,
    "backup-retention",
    "container-resources",
    "elasticsearch-heap",
    "liveness-detection-time",
    "privileged-container",
    "pvc-storage-class",
  ],
  "StatefulSet june-dark/rabbitmq": [
    ...POD_BASICS,
    "container-resources",
    "liveness-detection-time",
    "root-chown-init",
  ],
  "StatefulSet june-services/postgresql": [
    ...POD_BASICS,
    "backup-retention",
    "env-literal-secret",
    "pvc-storage-class",
  ],
  "StatefulSet matrix/matrix-postgresql": [
    ...POD_BASICS,
    "backup-retention",
    "container-resources",
    "liveness-detection-time",
    "mutable-image-tag",
    "postgres-memory",
    "pvc-storage-class",
    "root-chown-init",
  ],
  // a streaming replica: the primary's backup covers it
  "StatefulSet matrix/matrix-postgresql-read": [
    ...POD_BASICS,
    "container-resources",
    "liveness-detection-time",
    "mutable-image-tag",
    "pdb-required",
    "pvc-storage-class",
  ],
  "StatefulSet matrix/matrix-redis-master": [
    ...POD_BASICS,
    "mutable-image-tag",
    "pvc-storage-class",
    "redis-maxmemory",
  ],
  "StatefulSet matrix/matrix-redis-replicas": [
    ...POD_BASICS,
    "mutable-image-tag",
    "pdb-required",
    "pvc-storage-class",
    "redis-maxmemory",
  ],
  "StatefulSet matrix/synapse-generic-worker": [...POD_BASICS, "env-literal-secret", "pdb-required"],
};

/**
 * Each seed defect, where it sits in the defective set, the rule that must catch it and what the message says.
 * F11 (HPA for scalable services), F16 (pool budgets) and F2's timing half need intent the seeds' manifests do
 * not carry (keel.dev/scalable, keel.dev/db-pools, keel.dev/boot-seconds); the rule cases cover them.
 */
const SEED_DEFECTS: Array<[finding: string, object: string, rule: string, says: string]> = [
  ["F1", "Deployment june-services/june-idp", "container-resources", "on container 'keycloak'"],
  ["F1", "StatefulSet june-dark/rabbitmq", "container-resources", "on init container 'fix-permissions'"],
  [
    "F2",
    "Deployment june-services/june-tts",
    "container-probes",
    "add readinessProbe and livenessProbe to container 'tts'",
  ],
  ["F3", "StatefulSet june-dark/rabbitmq", "liveness-detection-time", "only after 240 s (90 + 30 × 5)"],
  [
    "F4",
    "PersistentVolumeClaim june-dark/postgres-pvc",
    "pvc-storage-class",
    '"" disables dynamic provisioning',
  ],
  ["F4", "StatefulSet june-dark/elasticsearch-master", "pvc-storage-class", "volumeClaimTemplate 'data'"],
  [
    "F4",
    "Cluster matrix/synapse-db",
    "pvc-storage-class",
    "set spec.storage.storageClass to an existing StorageClass",
  ],
  [
    "F4",
    "Tenant matrix/matrix-media",
    "pvc-storage-class",
    "set spec.pools[0].volumeClaimTemplate.spec.storageClassName",
  ],
  [
    "F5",
    "ConfigMap june-dark/june-dark-config",
    "configmap-secret",
    "data.POSTGRES_DSN contains a connection string with a password",
  ],
  [
    "F5",
    "ConfigMap june-dark/june-dark-config",
    "configmap-secret",
    "data.NEO4J_AUTH is named like a credential",
  ],
  [
    "F5",
    "ConfigMap matrix/synapse-config",
    "configmap-secret",
    "sets 'password', 'macaroon_secret_key', 'registration_shared_secret', 'turn_shared_secret'",
  ],
  [
    "F5",
    "Deployment june-services/june-tts",
    "env-literal-secret",
    "env 'DATABASE_URL' of container 'tts' holds a connection string with a password",
  ],
  [
    "F5",
    "DaemonSet matrix/coturn",
    "env-literal-secret",
    "passes a literal credential in --static-auth-secret",
  ],
  [
    "F6",
    "ConfigMap openclaw/git-crypt-key",
    "configmap-secret",
    "binaryData.key holds binary data that looks like key material",
  ],
  [
    "F7",
    "StatefulSet june-dark/rabbitmq",
    "root-chown-init",
    "init container 'fix-permissions' that runs as root to chown",
  ],
  [
    "F7",
    "StatefulSet matrix/matrix-postgresql",
    "root-chown-init",
    "init container 'init-chmod-data' that runs as root to chown",
  ],
  [
    "F8",
    "ClusterRoleBinding openclaw-cluster-admin",
    "cluster-admin-binding",
    "ServiceAccount openclaw/openclaw is bound to cluster-admin",
  ],
  ["F9", "Deployment june-services/june-idp", "mutable-image-tag", "uses the mutable tag 'latest'"],
  ["F9", "StatefulSet dbaas/postgresql", "mutable-image-tag", "uses the mutable tag '16-master'"],
  ["F10", "Deployment june-dark/collector", "pdb-required", "(it runs 2 replicas)"],
  ["F10", "StatefulSet matrix/synapse-generic-worker", "pdb-required", "(it runs 18 replicas)"],
  ["F12", "Namespace june-dark", "namespace-quota", "add a ResourceQuota to namespace june-dark"],
  ["F12", "Namespace june-dark", "namespace-limit-range", "add a LimitRange to namespace june-dark"],
  ["F13", "Namespace matrix-li", "namespace-default-deny", "Ingress and Egress are open"],
  [
    "F13",
    "Namespace matrix-li",
    "li-isolation",
    "looks like a lawful-intercept namespace (name 'matrix-li', label purpose: lawful-intercept)",
  ],
  [
    "F13",
    "Deployment matrix/synapse-main",
    "pod-network-policy",
    "no NetworkPolicy in namespace matrix selects these pods",
  ],
  [
    "F14",
    "Deployment june-dark/postgres",
    "postgres-memory",
    "shared_buffers 2Gi of container 'postgres' is 50% of its 4Gi memory limit",
  ],
  [
    "F14",
    "Deployment june-dark/postgres",
    "postgres-memory",
    "work_mem 16Mi × max_connections 200 + shared_buffers 2Gi",
  ],
  ["F14", "StatefulSet matrix/matrix-postgresql", "postgres-memory", "effective_cache_size 24Gi"],
  [
    "F15",
    "StatefulSet june-dark/elasticsearch-master",
    "elasticsearch-heap",
    "JVM heap -Xmx4g of container 'elasticsearch' exceeds 50% of its 6Gi memory limit",
  ],
  [
    "F17",
    "Stack",
    "capacity-fit",
    "CPU limits total 99 cores at max replicas, above cluster capacity 92 cores",
  ],
  [
    "F18",
    "StatefulSet matrix/matrix-redis-master",
    "redis-maxmemory",
    "set --maxmemory on container 'redis'",
  ],
  [
    "F19",
    "Deployment june-services/june-tts",
    "emptydir-cache",
    "emptyDir volume 'model-cache' (mounted at /root/.local/share/tts)",
  ],
  [
    "F19",
    "Deployment june-services/june-stt",
    "emptydir-cache",
    "emptyDir volume 'models' (mounted at /models)",
  ],
  [
    "F20",
    "CronJob dbaas/mysql-backup",
    "backup-retention",
    "backs up a database with mysqldump but declares no retention",
  ],
  [
    "F20",
    "CronJob matrix/matrix-postgresql-pgdumpall",
    "backup-retention",
    "backs up a database with pg_dumpall but declares no retention",
  ],
  ["F20", "StatefulSet dbaas/mysql", "backup-retention", "no backup CronJob for database 'dbaas/mysql'"],
  [
    "F21",
    "ClusterIssuer letsencrypt-prod",
    "acme-air-gapped",
    "uses ACME (https://acme-v02.api.letsencrypt.org/directory)",
  ],
  [
    "F21",
    "Ingress june-services/june-ingress",
    "acme-air-gapped",
    "annotation cert-manager.io/cluster-issuer: letsencrypt-prod",
  ],
  ["F21", "Deployment openclaw/openclaw", "image-registry", "comes from 'docker.io'"],
  [
    "F22",
    "StatefulSet june-dark/elasticsearch-master",
    "privileged-container",
    "init container 'sysctl' runs privileged",
  ],
  [
    "F22",
    "StatefulSet matrix/matrix-postgresql",
    "run-as-non-root",
    "init container 'init-chmod-data' runs as root",
  ],
  ["F23", "DaemonSet matrix/coturn", "host-namespaces", "remove hostNetwork: true"],
  ["F23", "DaemonSet matrix/coturn", "capabilities", "adds capabilities NET_ADMIN"],
  [
    "-",
    "ConfigMap matrix/synapse-config",
    "placeholder-value",
    "holds placeholders 'CHANGE_TO_SECURE_PASSWORD' (line 8)",
  ],
  [
    "-",
    "Service matrix/livekit-rtc",
    "selector-matches-pods",
    "selects {app: livekit}, which matches no pod in namespace matrix",
  ],
  ["-", "ConfigMap matrix/haproxy-config", "placeholder-value", "data.haproxy.cfg holds only comments"],
  [
    "F10",
    "PodDisruptionBudget coturn/coturn",
    "selector-matches-pods",
    "but DaemonSet coturn in namespace matrix: move the PodDisruptionBudget to namespace matrix",
  ],
];

describe("audit command on independently written manifests (test/independent)", function () {
  this.timeout(60000);

  describe("the seeds' defects, written the way their authors wrote them", () => {
    let run: ReturnType<typeof npmAudit>;
    before(() => {
      run = npmAudit(
        "--config",
        path.join(INDEPENDENT, "defective.config.json"),
        path.join(INDEPENDENT, "defective"),
      );
    });

    it("exits 1", () => {
      assert.equal(run.status, 1, run.stderr);
    });

    it("flags exactly the expected mandatory rules on every object, and nothing on the others", () => {
      assert.deepEqual(byObject(run.entries, "mandatory"), sorted(DEFECTIVE_MANDATORY));
    });

    it("adds only hygiene advisories (no false 'default-namespace' on cluster-scoped kinds, nothing unknown)", () => {
      const expected: Record<string, string[]> = {};
      for (const key of Object.keys(DEFECTIVE_MANDATORY).filter((k) =>
        /^(Deployment|StatefulSet|DaemonSet|CronJob) /.test(k),
      )) {
        expected[key] = [
          "automount-service-account-token",
          "read-only-root-filesystem",
          ...(key.startsWith("CronJob ") ? ["cronjob-concurrency-policy", "cronjob-starting-deadline"] : []),
        ];
      }
      // PostgreSQL's own defaults (nothing set) overflow its 512Mi limit: advisory, set them explicitly (issue #17).
      expected["StatefulSet june-services/postgresql"]!.push("postgres-memory");
      assert.deepEqual(byObject(run.entries, "advisory"), sorted(expected));
      assert.deepEqual(
        run.entries.filter((e) => e.level === "exempt"),
        [],
      );
    });

    for (const [finding, object, rule, says] of SEED_DEFECTS) {
      it(`${finding}: ${rule} on ${object}`, () => {
        const hits = run.entries.filter(
          (e) => e.level === "mandatory" && e.rule === rule && keyOf(e) === object,
        );
        assert.ok(
          hits.some((e) => e.message.includes(says)),
          `no message containing ${JSON.stringify(says)} in ${JSON.stringify(
            hits.map((h) => h.message),
            null,
            1,
          )}`,
        );
      });
    }

    it("names the file and document of every finding about an object", () => {
      for (const e of run.entries.filter((x) => x.kind !== "Stack")) {
        assert.ok(
          e.file?.startsWith(path.join(INDEPENDENT, "defective")) && typeof e.document === "number",
          JSON.stringify(e),
        );
      }
    });
  });

  describe("a fully hardened site written by hand", () => {
    const exemptions = [
      "capabilities DaemonSet turn/coturn: NET_ADMIN to set socket buffer sizes and DSCP on relayed media; NET_BIND_SERVICE kept for 3478",
      "host-namespaces DaemonSet turn/coturn: TURN relays allocate ports on the node's public address; a Service cannot forward the 49160-49400 relay range",
      "namespace-pod-security Namespace turn: coturn relays on the node's own addresses (hostNetwork) and tunes sockets (NET_ADMIN); nothing else runs in this namespace",
      "service-exposure Service rtc/livekit-media: WebRTC media must reach browsers directly; fixed node ports 30081/TCP and 30082/UDP are announced to clients as-is",
    ];
    const exemptionsOf = (entries: Entry[]) =>
      entries
        .filter((e) => e.level === "exempt")
        .map((e) => `${e.rule} ${keyOf(e)}: ${/^exempted \((.*)\) on /.exec(e.message)?.[1] ?? e.message}`)
        .sort();

    it("exits 0 with its site config (air-gapped, registry mirror, capacity, storage classes): no violation, only the documented exemptions", () => {
      const run = npmAudit(
        "--config",
        path.join(INDEPENDENT, "hardened.config.json"),
        path.join(INDEPENDENT, "hardened"),
      );
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(
        run.entries.filter((e) => e.level !== "exempt"),
        [],
      );
      assert.deepEqual(exemptionsOf(run.entries), exemptions);
    });

    it("exits 0 with the default config too", () => {
      const run = npmAudit(path.join(INDEPENDENT, "hardened"));
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(
        run.entries.filter((e) => e.level === "mandatory"),
        [],
      );
      assert.deepEqual(exemptionsOf(run.entries), exemptions);
    });
  });
});
