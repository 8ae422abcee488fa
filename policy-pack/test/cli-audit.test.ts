import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { INPUT_RULES } from "../src/cli/input-findings";
import { HARDENED_CONFIG, HARDENED_DIR, PACK_DIR, SEEDS_CONFIG, SEEDS_DIR } from "./helpers";

const CLI = path.join(PACK_DIR, "bin", "src", "cli", "audit.js");

interface Entry {
  rule: string;
  level: string;
  kind: string;
  namespace: string;
  name: string;
  message: string;
  file?: string;
  document?: number;
  line?: number;
}

function audit(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tmpDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-audit-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe("audit command", () => {
  describe("on the seed audits' manifests", () => {
    let entries: Entry[] = [];
    let status: number | null = null;
    before(() => {
      const result = audit("--format", "json", "--config", SEEDS_CONFIG, SEEDS_DIR);
      status = result.status;
      entries = JSON.parse(result.stdout) as Entry[];
    });

    it("exits 1 because mandatory violations remain", () => assert.equal(status, 1));

    it("prints JSON entries with rule, level, kind, namespace, name, message and source", () => {
      for (const e of entries) {
        assert.deepEqual(Object.keys(e).slice(0, 6), [
          "rule",
          "level",
          "kind",
          "namespace",
          "name",
          "message",
        ]);
        assert.ok(["mandatory", "advisory", "exempt"].includes(e.level));
      }
      const idp = entries.find((e) => e.rule === "container-resources" && e.name === "june-idp")!;
      assert.match(idp.file!, /000-june-services\.yaml$/);
      assert.equal(idp.document, 0);
    });

    const flagged: Array<[string, string, string, string, string]> = [
      // rule, kind, namespace/name, finding, message (exact)
      [
        "root-chown-init",
        "Deployment",
        "june-dark/rabbitmq",
        "F7",
        "remove init container 'fix-permissions' that runs as root to chown a volume: set spec.securityContext.fsGroup: 999 (with fsGroupChangePolicy: OnRootMismatch) on the pod instead",
      ],
      [
        "liveness-detection-time",
        "Deployment",
        "june-dark/rabbitmq",
        "F3",
        "livenessProbe of container 'rabbitmq' detects a failure only after 240 s (90 + 30 × 5) > 60 s: move the boot wait into a startupProbe, then set livenessProbe initialDelaySeconds: 0 and periodSeconds × failureThreshold ≤ 60 (e.g. 10 × 3)",
      ],
      [
        "env-literal-secret",
        "Deployment",
        "june-dark/rabbitmq",
        "F5",
        "env 'RABBITMQ_DEFAULT_PASS' of container 'rabbitmq' holds a literal credential: use valueFrom.secretKeyRef instead of value",
      ],
      [
        "elasticsearch-heap",
        "StatefulSet",
        "june-dark/elasticsearch",
        "F15",
        "JVM heap -Xmx4g of container 'elasticsearch' exceeds 50% of its 6Gi memory limit: set -Xms and -Xmx to at most 3Gi or raise the limit to 8Gi",
      ],
      [
        "elasticsearch-heap",
        "StatefulSet",
        "june-dark/elasticsearch",
        "F15",
        "ES_JAVA_OPTS of container 'elasticsearch' sets -Xms2g and -Xmx4g: set both to the same size",
      ],
      [
        "privileged-container",
        "StatefulSet",
        "june-dark/elasticsearch",
        "F22",
        "init container 'sysctl' runs privileged: remove securityContext.privileged (set kernel parameters such as vm.max_map_count on the nodes or with a node tuning DaemonSet instead)",
      ],
      [
        "postgres-memory",
        "Deployment",
        "june-dark/postgres",
        "F14",
        "shared_buffers 2Gi of container 'postgres' is 50% of its 4Gi memory limit: set shared_buffers ≤ 1Gi (25%)",
      ],
      [
        "postgres-memory",
        "Deployment",
        "june-dark/postgres",
        "F14",
        "effective_cache_size 6Gi of container 'postgres' exceeds 75% of its 4Gi memory limit: set it ≤ 3Gi",
      ],
      [
        "postgres-memory",
        "Deployment",
        "june-dark/postgres",
        "F14",
        "work_mem 16Mi × max_connections 200 + shared_buffers 2Gi = 5.13Gi exceeds the 4Gi memory limit of container 'postgres': lower work_mem or max_connections (use a pooler), or raise the limit",
      ],
      [
        "pvc-storage-class",
        "PersistentVolumeClaim",
        "june-dark/postgres-pvc",
        "F4",
        'set spec.storageClassName of the claim to an existing StorageClass, e.g. fast-ssd: "" disables dynamic provisioning and the claim stays Pending',
      ],
      [
        "configmap-secret",
        "ConfigMap",
        "june-dark/june-dark-config",
        "F5",
        "data.POSTGRES_DSN contains a connection string with a password: move it to a Secret and reference it with secretKeyRef or a secret volume",
      ],
      [
        "configmap-secret",
        "ConfigMap",
        "june-dark/june-dark-config",
        "F5",
        "data.RABBITMQ_DEFAULT_PASS is named like a credential and holds a literal value: move it to a Secret and reference it with secretKeyRef or a secret volume",
      ],
      [
        "configmap-secret",
        "ConfigMap",
        "openclaw/git-crypt-key",
        "F6",
        "binaryData.key holds binary data that looks like key material: move it to a Secret and reference it with secretKeyRef or a secret volume",
      ],
      [
        "configmap-secret",
        "ConfigMap",
        "openclaw/ssh-config",
        "F6",
        "data.id_ed25519 contains a PEM private key: move it to a Secret and reference it with secretKeyRef or a secret volume",
      ],
      [
        "cluster-admin-binding",
        "ClusterRoleBinding",
        "openclaw-cluster-admin",
        "F8",
        "ServiceAccount openclaw/openclaw is bound to cluster-admin: bind it to a Role/ClusterRole listing only the verbs and resources it needs",
      ],
      [
        "mutable-image-tag",
        "Deployment",
        "june-services/june-idp",
        "F9",
        "image 'docker.io/ozzuworld/june-idp:latest' of container 'keycloak' uses the mutable tag 'latest': pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)",
      ],
      [
        "mutable-image-tag",
        "StatefulSet",
        "dbaas/postgresql",
        "F9",
        "image 'viktorbarzin/postgres:16-master' of container 'postgresql' uses the mutable tag '16-master': pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)",
      ],
      [
        "mutable-image-tag",
        "Deployment",
        "real-estate-crawler/realestate-crawler-ui",
        "F9",
        "image 'viktorbarzin/immoweb' of container 'ui' has no tag (means :latest): pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)",
      ],
      [
        "container-resources",
        "Deployment",
        "june-services/june-idp",
        "F1",
        "set resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory on container 'keycloak'",
      ],
      [
        "container-probes",
        "Deployment",
        "june-services/june-tts",
        "F2",
        "add readinessProbe and livenessProbe to container 'tts' (plus a startupProbe when it takes long to start)",
      ],
      [
        "startup-budget",
        "Deployment",
        "june-services/june-tts",
        "F2",
        "add a startupProbe to container 'tts' that allows 300 s (keel.dev/boot-seconds), e.g. periodSeconds: 10, failureThreshold: 30",
      ],
      [
        "emptydir-cache",
        "Deployment",
        "june-services/june-tts",
        "F19",
        "emptyDir volume 'model-cache' (mounted at /root/.cache/huggingface) looks like a model/data cache and is lost on every restart: use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName (if it is scratch space, cap it with a sizeLimit below 1Gi)",
      ],
      [
        "pdb-required",
        "Deployment",
        "june-dark/collector",
        "F10",
        "add a PodDisruptionBudget in namespace june-dark whose selector matches the pod labels {app: collector} (it runs 2 replicas), e.g. maxUnavailable: 1",
      ],
      [
        "hpa-required",
        "Deployment",
        "june-dark/collector",
        "F11",
        "add a HorizontalPodAutoscaler (autoscaling/v2) in namespace june-dark with scaleTargetRef Deployment/collector, minReplicas ≥ 2 and a CPU or memory target",
      ],
      [
        "namespace-quota",
        "Namespace",
        "june-dark",
        "F12",
        "add a ResourceQuota to namespace june-dark with spec.hard requests.cpu, requests.memory, limits.cpu and limits.memory",
      ],
      [
        "namespace-limit-range",
        "Namespace",
        "june-dark",
        "F12",
        "add a LimitRange to namespace june-dark with a Container limit setting default and defaultRequest for cpu and memory",
      ],
      [
        "namespace-default-deny",
        "Namespace",
        "june-dark",
        "F13",
        "add a default-deny NetworkPolicy to namespace june-dark (podSelector: {}, policyTypes: [Ingress, Egress], no rules): Ingress and Egress are open",
      ],
      [
        "li-isolation",
        "NetworkPolicy",
        "matrix-li/synapse-li",
        "F13",
        "egress rule 0 of NetworkPolicy synapse-li allows ipBlock 0.0.0.0/0, which reaches the internet: remove it (lawful-intercept data must not leave the cluster)",
      ],
      [
        "li-isolation",
        "NetworkPolicy",
        "matrix-li/synapse-li",
        "F13",
        "ingress rule 0 of NetworkPolicy synapse-li admits pods of the intercepted namespace matrix: narrow its namespaceSelector to the lawful-intercept namespace's own peers",
      ],
      [
        "redis-maxmemory",
        "Deployment",
        "june-dark/redis",
        "F18",
        "maxmemory 1gb of container 'redis' is 100% of its 1Gi memory limit: set it to at most 819.2Mi (80%) or raise the limit",
      ],
      [
        "backup-retention",
        "CronJob",
        "june-dark/postgres-backup",
        "F20",
        "set annotation keel.dev/backup-retention to the number of backups kept (integer ≥ 1; it is unset) and make the job delete older ones",
      ],
      [
        "backup-retention",
        "Deployment",
        "santaclaude/clickhouse",
        "F20",
        "no backup CronJob for database 'santaclaude/clickhouse': add a CronJob annotated keel.dev/backup-of: santaclaude/clickhouse and keel.dev/backup-retention: \"<n ≥ 1>\" (or annotate the workload keel.dev/database with its id)",
      ],
      [
        "acme-air-gapped",
        "ClusterIssuer",
        "letsencrypt-prod",
        "F21",
        "ClusterIssuer uses ACME (https://acme-v02.api.letsencrypt.org/directory), which needs the internet: use a cert-manager ca or selfSigned issuer (spec.ca.secretName) in the air-gapped stack",
      ],
      [
        "exemption-has-reason",
        "DaemonSet",
        "matrix/coturn",
        "F23",
        "annotation exempt.keel.dev/capabilities has an empty reason, so it exempts nothing: write why rule 'capabilities' does not apply here, or remove the annotation",
      ],
      [
        "capabilities",
        "DaemonSet",
        "matrix/coturn",
        "F23",
        "container 'coturn' adds capabilities NET_ADMIN: remove them from securityContext.capabilities.add (or add annotation exempt.keel.dev/capabilities with the reason)",
      ],
      [
        "host-namespaces",
        "DaemonSet",
        "matrix/coturn",
        "F23",
        "remove hostNetwork: true from the pod spec (expose ports through a Service instead, or add annotation exempt.keel.dev/host-namespaces with the reason)",
      ],
      [
        "db-connection-budget",
        "StatefulSet",
        "matrix/postgres",
        "F16",
        "connection pools need 610 connections at max replicas (Deployment synapse-main 25 × 1, Deployment synapse-worker 15 × 39) but database 'matrix/postgres' allows 500 − 20 reserved = 480: lower pool sizes or max replicas, raise max_connections, or put a pooler (PgBouncer) in front",
      ],
      [
        "capacity-fit",
        "Stack",
        "",
        "F17",
        "CPU limits total 200.3 cores at max replicas, above cluster capacity 92 cores × overcommit 1 = 92 cores: lower limits or replicas, or add nodes (largest: Deployment matrix/synapse-worker 156 cores, StatefulSet matrix/postgres 24 cores, Deployment matrix/synapse-main 4 cores)",
      ],
      [
        "deprecated-api",
        "PodDisruptionBudget",
        "santaclaude/clickhouse",
        "-",
        "PodDisruptionBudget uses removed API policy/v1beta1: change apiVersion to policy/v1",
      ],
      [
        "namespace-pod-security",
        "Namespace",
        "june-dark",
        "F22",
        "add label pod-security.kubernetes.io/enforce: restricted",
      ],
    ];
    for (const [rule, kind, target, finding, message] of flagged) {
      it(`${finding} ${rule}: ${kind} ${target}`, () => {
        const [namespace, name] = target.includes("/")
          ? target.split("/")
          : [kind === "Namespace" ? target : "", kind === "Stack" ? "" : target];
        const match = entries.filter(
          (e) =>
            e.rule === rule &&
            e.kind === kind &&
            e.name === name &&
            (kind === "Namespace" || e.namespace === namespace),
        );
        assert.ok(
          match.some((e) => e.message === message && e.level === "mandatory"),
          `expected mandatory ${rule} on ${kind} ${target}: ${message}\nfound: ${JSON.stringify(match, null, 1)}`,
        );
      });
    }
  });

  it("passes the hardened manifest set: zero mandatory and advisory violations, exit 0", () => {
    const result = audit("--format", "json", "--config", HARDENED_CONFIG, HARDENED_DIR);
    assert.equal(result.status, 0, result.stderr);
    const entries = JSON.parse(result.stdout) as Entry[];
    assert.deepEqual(
      entries.filter((e) => e.level !== "exempt"),
      [],
    );
    assert.deepEqual(entries.map((e) => `${e.rule} ${e.name}`).sort(), [
      "capabilities coturn",
      "host-namespaces coturn",
      "namespace-pod-security turn",
    ]);
  });

  it("prints a text report with a summary line", () => {
    const result = audit("--config", HARDENED_CONFIG, HARDENED_DIR);
    assert.equal(result.status, 0);
    assert.match(
      result.stdout,
      /^EXEMPT {4}capabilities .* DaemonSet turn\/coturn \(.*turn\.yaml#6\): exempted/m,
    );
    assert.match(result.stdout, /0 mandatory, 0 advisory, 3 exempt in 44 objects\n$/);
  });

  it("reads kind: List, JSON files and nested folders; skips non-Kubernetes YAML", () => {
    const dir = tmpDir({
      "a/list.yaml":
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: one, namespace: x}\n  data: {DB_PASSWORD: hunter2}\n",
      "b/c/cm.json": JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "two", namespace: "x" },
        data: { API_TOKEN: "abc123def" },
      }),
      "values.yaml": "replicaCount: 2\n",
      "notes.txt": "ignored",
    });
    const result = audit("--format", "json", dir);
    assert.equal(result.status, 1);
    const entries = JSON.parse(result.stdout) as Entry[];
    assert.deepEqual(
      entries.filter((e) => e.rule === "configmap-secret").map((e) => e.name),
      ["one", "two"],
    );
    assert.match(result.stderr, /skipped .*values\.yaml#0: not a Kubernetes object/);
  });

  describe("on input it cannot read as manifests", () => {
    const CONFIGMAP = (name: string, key = "DB_PASSWORD") =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: x\ndata:\n  ${key}: hunter2\n`;
    const leaked = (entries: Entry[]) =>
      entries
        .filter((e) => e.rule === "configmap-secret")
        .map((e) => e.name)
        .sort();
    const parseErrors = (entries: Entry[]) => entries.filter((e) => e.rule === "yaml-parse");

    it("a YAML syntax error is a mandatory yaml-parse finding with file and line; the file's other documents and the other files are audited", () => {
      const dir = tmpDir({
        "a-bad.yaml": `# leading comment\n${CONFIGMAP("before")}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n   namespace: x\n---\n${CONFIGMAP("after")}`,
        "b-good.yaml": CONFIGMAP("other-file"),
      });
      const result = audit("--format", "json", dir);
      assert.equal(result.status, 1, result.stderr);
      const entries = JSON.parse(result.stdout) as Entry[];
      assert.deepEqual(leaked(entries), ["after", "before", "other-file"]);
      const [problem, ...more] = parseErrors(entries);
      assert.deepEqual(more, []);
      assert.deepEqual(
        { ...problem, message: undefined },
        {
          rule: "yaml-parse",
          level: "mandatory",
          kind: "File",
          namespace: "",
          name: "a-bad.yaml",
          message: undefined,
          file: path.join(dir, "a-bad.yaml"),
          document: 1,
          line: 14,
        },
      );
      assert.match(
        problem!.message,
        /^YAML syntax error at line 14, column 13 \(document 1\): bad indentation of a mapping entry: fix the syntax there/,
      );
      assert.equal(entries.find((e) => e.name === "after")!.document, 2);
      assert.equal(entries.find((e) => e.name === "after")!.line, 15);
    });

    it("the text report shows yaml-parse with file:line and counts it", () => {
      const dir = tmpDir({ "bad.yaml": "apiVersion: v1\nkind: [unclosed\n" });
      const result = audit(dir);
      assert.equal(result.status, 1);
      assert.match(
        result.stdout,
        /^MANDATORY yaml-parse +file \(.*bad\.yaml:3\): YAML syntax error at line 3/m,
      );
      assert.match(result.stdout, /^1 mandatory, 0 advisory, 0 exempt in 0 objects$/m);
    });

    it("a duplicate mapping key is a yaml-parse finding and the document is audited with the last value", () => {
      const dir = tmpDir({
        "dup.yaml":
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n  namespace: x\n  name: last\ndata:\n  API_TOKEN: abc123def\n",
      });
      const result = audit("--format", "json", dir);
      assert.equal(result.status, 1);
      const entries = JSON.parse(result.stdout) as Entry[];
      assert.deepEqual(leaked(entries), ["last"]);
      const problems = parseErrors(entries);
      assert.deepEqual(
        problems.map((e) => [e.level, e.name, e.line, e.document]),
        [["mandatory", "dup.yaml", 6, 0]],
      );
      assert.match(
        problems[0]!.message,
        /^duplicate mapping key 'name' at line 6, column 3 \(document 0\): remove one of the two entries\..*audited with the last value$/,
      );
    });

    it("a JSON syntax error is a yaml-parse finding with its line", () => {
      const dir = tmpDir({
        "bad.json": '{\n  "apiVersion": "v1",\n  "kind": "ConfigMap",\n}\n',
        "good.json": JSON.stringify(
          JSON.parse(
            JSON.stringify({
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: "j", namespace: "x" },
              data: { DB_PASSWORD: "hunter2" },
            }),
          ),
        ),
      });
      const entries = JSON.parse(audit("--format", "json", dir).stdout) as Entry[];
      assert.deepEqual(
        parseErrors(entries).map((e) => [e.name, e.line]),
        [["bad.json", 4]],
      );
      assert.match(parseErrors(entries)[0]!.message, /^JSON syntax error at line 4: .*: fix the JSON/);
      assert.deepEqual(leaked(entries), ["j"]);
    });

    it("documents that are lists or scalars are skipped with a note, not an abort", () => {
      const dir = tmpDir({ "list.yaml": "- a\n- b\n---\n" + CONFIGMAP("kept") });
      const result = audit("--format", "json", dir);
      assert.equal(result.status, 1);
      assert.deepEqual(leaked(JSON.parse(result.stdout) as Entry[]), ["kept"]);
      assert.match(
        result.stderr,
        /skipped .*list\.yaml#0: not a Kubernetes object \(a list, not a mapping\)/,
      );
    });

    it("a Helm chart's templates are one advisory helm-unrendered finding naming the chart and how to render it, and are not audited even when they parse", () => {
      const dir = tmpDir({
        "web/Chart.yaml": "apiVersion: v2\nname: web-chart\nversion: 1.0.0\n",
        "web/values.yaml": "replicas: 2\n",
        "web/templates/static.yaml": CONFIGMAP("static-in-chart"),
        "web/templates/cm.yaml": CONFIGMAP("{{ .Release.Name }}-cm"),
        "web/templates/_helpers.tpl": '{{- define "web.name" -}}web{{- end }}\n',
        "rendered/cm.yaml": CONFIGMAP("rendered"),
      });
      const result = audit("--format", "json", dir);
      assert.equal(result.status, 1, result.stderr);
      const entries = JSON.parse(result.stdout) as Entry[];
      assert.deepEqual(leaked(entries), ["rendered"]);
      const helm = entries.filter((e) => e.rule === "helm-unrendered");
      assert.deepEqual(
        helm.map((e) => [e.level, e.kind, e.name, e.file]),
        [["advisory", "HelmChart", "web-chart", path.join(dir, "web")]],
      );
      assert.match(
        helm[0]!.message,
        /^Helm chart 'web-chart' \(.*\): 3 template files under templates\/ are not rendered and were not audited: .*helm template <release> .*web .*\| keel-audit -/,
      );
      assert.doesNotMatch(
        result.stderr,
        /Chart\.yaml|values\.yaml/,
        "the chart's own files are not reported as skipped documents",
      );
      const onlyChart = audit(path.join(dir, "web"));
      assert.equal(onlyChart.status, 0, "helm-unrendered is advisory");
    });

    it("a template file outside a chart is recognised by Helm actions where YAML structure or names are; Go templates and Helm text in rendered data are still audited", () => {
      const dir = tmpDir({
        "deploy.yaml":
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tmpl\n  namespace: x\ndata:\n  DB_PASSWORD: {{ .Values.password | quote }}\n",
        "alerts.yaml":
          CONFIGMAP("alerts") +
          '  summary: "{{ $labels.instance }} is down"\n  body: |\n    {{ range .Alerts }}{{ .Labels.alertname }}{{ end }}\n',
        "helpers.tpl": '{{- define "x" }}{{ end }}\n',
        "quoted.yaml": CONFIGMAP('"{{ .Release.Name }}-settings"'),
        "ships-a-chart.yaml":
          CONFIGMAP("ships-a-chart") +
          '  deployment.yaml: |\n    metadata:\n      name: {{ include "web.fullname" . }}\n',
      });
      const entries = JSON.parse(audit("--format", "json", dir).stdout) as Entry[];
      assert.deepEqual(
        leaked(entries),
        ["alerts", "ships-a-chart"],
        "Helm text inside a rendered ConfigMap's data is data: the object is audited",
      );
      const helm = entries
        .filter((e) => e.rule === "helm-unrendered")
        .map((e) => [e.level, e.kind, e.name, e.line]);
      assert.deepEqual(helm, [
        ["advisory", "File", "deploy.yaml", 7],
        ["advisory", "File", "helpers.tpl", undefined],
        ["advisory", "File", "quoted.yaml", 4],
      ]);
    });

    it("reads standard input as -", () => {
      const result = spawnSync(process.execPath, [CLI, "--format", "json", "-"], {
        encoding: "utf8",
        input: `${CONFIGMAP("piped")}---\nkind: [\n`,
      });
      assert.equal(result.status, 1, result.stderr);
      const entries = JSON.parse(result.stdout) as Entry[];
      assert.deepEqual(leaked(entries), ["piped"]);
      assert.deepEqual(
        parseErrors(entries).map((e) => [e.file, e.name, e.document, e.line]),
        [["<stdin>", "<stdin>", 1, 10]],
      );
      assert.equal(audit("-", "-").status, 2, "standard input can be read once");
    });

    it("yaml-parse and helm-unrendered cannot be configured: exit 2 with the reason", () => {
      const dir = tmpDir({ "config.json": JSON.stringify({ "yaml-parse": "advisory" }) });
      const result = audit("--config", path.join(dir, "config.json"), HARDENED_DIR);
      assert.equal(result.status, 2);
      assert.match(
        result.stderr,
        /'yaml-parse' reports input the audit could not read; it has no level or settings/,
      );
    });

    it("the README's audit section lists yaml-parse and helm-unrendered with their levels", () => {
      const readme = fs.readFileSync(path.join(PACK_DIR, "README.md"), "utf8");
      const section = readme.slice(
        readme.indexOf("## `audit`"),
        readme.indexOf("\n## ", readme.indexOf("## `audit`") + 1),
      );
      for (const [id, rule] of Object.entries(INPUT_RULES)) {
        assert.match(section, new RegExp(`^\\| \`${id}\` \\| ${rule.level} \\|`, "m"), id);
      }
    });
  });

  it("exits 2 on usage errors and bad config", () => {
    assert.equal(audit().status, 2);
    assert.equal(audit("--format", "xml", HARDENED_DIR).status, 2);
    assert.equal(audit("--bogus", HARDENED_DIR).status, 2);
    assert.equal(audit("/no/such/path").status, 2);
    const dir = tmpDir({ "config.json": JSON.stringify({ "no-such-rule": "mandatory" }) });
    const result = audit("--config", path.join(dir, "config.json"), HARDENED_DIR);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown rule id 'no-such-rule'/);
  });
});
