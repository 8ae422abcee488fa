import type { PolicyConfigFile } from "../../src/core/config";
import type { K8sObject } from "../../src/core/k8s";
import { container, find, hardenedConfig, pod } from "../helpers";

export interface Expected {
  kind: string;
  name: string;
  message: string;
  level?: "mandatory" | "advisory" | "exempt";
}

/** A mutation of the hardened baseline and exactly what one rule must report for it. */
export interface RuleCase {
  rule: string;
  title: string;
  /** Objects to start from (default: the hardened set). */
  base?: () => K8sObject[];
  mutate: (objects: K8sObject[]) => void;
  config?: PolicyConfigFile;
  expect: Expected[];
}

const deploymentApi = (o: K8sObject[]) => find(o, "Deployment", "api");
const service = (
  name: string,
  selector: Record<string, string> | undefined,
  namespace = "platform",
): K8sObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec: { ...(selector ? { selector } : {}), ports: [{ port: 80, targetPort: 8080 }] },
});
const withConfig = (extra: PolicyConfigFile): PolicyConfigFile => ({ ...hardenedConfig, ...extra });

export const CASES: RuleCase[] = [
  // ---- F1
  {
    rule: "container-resources",
    title: "Keycloak without resources",
    mutate: (o) => {
      delete container(deploymentApi(o)).resources;
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "set resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory on container 'api'",
      },
    ],
  },
  {
    rule: "container-resources",
    title: "only the memory limit missing, on an init container",
    mutate: (o) => {
      const p = pod(deploymentApi(o));
      p.initContainers = [
        {
          name: "init",
          image: "registry.keel.internal/busybox:1.36",
          resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "50m" } },
        },
      ];
    },
    expect: [
      { kind: "Deployment", name: "api", message: "set resources.limits.memory on init container 'init'" },
    ],
  },
  {
    rule: "container-resources",
    title: "requireCpuLimit: false accepts a missing CPU limit",
    mutate: (o) => {
      delete container(deploymentApi(o)).resources!.limits!.cpu;
    },
    config: withConfig({ "container-resources": { requireCpuLimit: false } }),
    expect: [],
  },
  // ---- F2
  {
    rule: "container-probes",
    title: "TTS behind a Service without probes",
    mutate: (o) => {
      const c = container(find(o, "Deployment", "tts"));
      delete c.readinessProbe;
      delete c.livenessProbe;
      delete c.startupProbe;
      o.push(service("tts", { app: "tts" }));
    },
    expect: [
      {
        kind: "Deployment",
        name: "tts",
        message:
          "add readinessProbe and livenessProbe to container 'tts' (plus a startupProbe when it takes long to start)",
      },
    ],
  },
  // Issue #17: readiness only matters when a Service selects the pods (queue workers have none).
  {
    rule: "container-probes",
    title: "a queue worker no Service selects needs a livenessProbe but no readinessProbe",
    mutate: (o) => {
      delete container(find(o, "Deployment", "worker")).readinessProbe;
      const tts = container(find(o, "Deployment", "tts"));
      delete tts.readinessProbe;
      delete tts.livenessProbe;
      // Services that do not select tts: another namespace, another label value, no selector at all.
      o.push(
        service("tts-elsewhere", { app: "tts" }, "platform-li"),
        service("tts-v2", { app: "tts", track: "v2" }),
        service("external-db", undefined),
      );
    },
    expect: [
      {
        kind: "Deployment",
        name: "tts",
        message: "add livenessProbe to container 'tts' (plus a startupProbe when it takes long to start)",
      },
    ],
  },
  {
    rule: "container-probes",
    title: "once a Service selects the worker, its missing readinessProbe is reported",
    mutate: (o) => {
      delete container(find(o, "Deployment", "worker")).readinessProbe;
      o.push(service("worker-metrics", { app: "worker" }));
    },
    expect: [
      {
        kind: "Deployment",
        name: "worker",
        message: "add readinessProbe to container 'worker' (plus a startupProbe when it takes long to start)",
      },
    ],
  },
  {
    rule: "container-probes",
    title: "Jobs need no probes",
    mutate: (o) => {
      delete container(find(o, "Job", "migrate")).readinessProbe;
    },
    expect: [],
  },
  {
    rule: "startup-budget",
    title: "boot-seconds 300 without a startupProbe",
    mutate: (o) => {
      delete container(find(o, "Deployment", "tts")).startupProbe;
    },
    expect: [
      {
        kind: "Deployment",
        name: "tts",
        message:
          "add a startupProbe to container 'tts' that allows 300 s (keel.dev/boot-seconds), e.g. periodSeconds: 10, failureThreshold: 30",
      },
    ],
  },
  {
    rule: "startup-budget",
    title: "startupProbe budget shorter than boot-seconds",
    mutate: (o) => {
      container(find(o, "Deployment", "tts")).startupProbe = {
        httpGet: { path: "/health", port: 8000 },
        initialDelaySeconds: 10,
        periodSeconds: 5,
        failureThreshold: 20,
      };
    },
    expect: [
      {
        kind: "Deployment",
        name: "tts",
        message:
          "startupProbe of container 'tts' allows 110 s (10 + 5 × 20) but keel.dev/boot-seconds is 300: raise failureThreshold to at least 58",
      },
    ],
  },
  {
    rule: "startup-budget",
    title: "boot-seconds that is not a number",
    mutate: (o) => {
      find(o, "Deployment", "tts").metadata!.annotations!["keel.dev/boot-seconds"] = "5m";
    },
    expect: [
      {
        kind: "Deployment",
        name: "tts",
        message: "set annotation keel.dev/boot-seconds to a whole number of seconds (it is '5m')",
      },
    ],
  },
  // ---- F3
  {
    rule: "liveness-detection-time",
    title: "RabbitMQ 90 + 30 × 5 = 240 s",
    mutate: (o) => {
      container(deploymentApi(o)).livenessProbe = {
        exec: { command: ["true"] },
        initialDelaySeconds: 90,
        periodSeconds: 30,
        failureThreshold: 5,
      };
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "livenessProbe of container 'api' detects a failure only after 240 s (90 + 30 × 5) > 60 s: move the boot wait into a startupProbe, then set livenessProbe initialDelaySeconds: 0 and periodSeconds × failureThreshold ≤ 60 (e.g. 10 × 3)",
      },
    ],
  },
  {
    rule: "liveness-detection-time",
    title: "K8s defaults apply when fields are absent (period 10, failureThreshold 3)",
    mutate: (o) => {
      container(deploymentApi(o)).livenessProbe = {
        httpGet: { path: "/", port: 80 },
        initialDelaySeconds: 31,
      };
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "livenessProbe of container 'api' detects a failure only after 61 s (31 + 10 × 3) > 60 s: move the boot wait into a startupProbe, then set livenessProbe initialDelaySeconds: 0 and periodSeconds × failureThreshold ≤ 60 (e.g. 10 × 3)",
      },
    ],
  },
  {
    rule: "liveness-detection-time",
    title: "with a startupProbe the initial delay does not count",
    mutate: (o) => {
      container(find(o, "Deployment", "tts")).livenessProbe = {
        httpGet: { path: "/", port: 80 },
        initialDelaySeconds: 300,
        periodSeconds: 10,
        failureThreshold: 3,
      };
    },
    expect: [],
  },
  {
    rule: "liveness-detection-time",
    title: "maxSeconds is configurable",
    mutate: () => undefined,
    config: withConfig({ "liveness-detection-time": { maxSeconds: 20 } }),
    expect: [
      ["StatefulSet", "postgres", "10 × 3, after the startupProbe"],
      ["StatefulSet", "elasticsearch", "10 × 3, after the startupProbe"],
      ["Deployment", "tts", "10 × 3, after the startupProbe"],
      ["Deployment", "redis", "0 + 10 × 3"],
      ["Deployment", "api", "0 + 10 × 3"],
      ["Deployment", "worker", "0 + 10 × 3"],
      ["Deployment", "synapse-li", "0 + 10 × 3"],
      ["DaemonSet", "coturn", "0 + 10 × 3"],
    ].map(([kind, name, formula]) => ({
      kind: kind!,
      name: name!,
      message: `livenessProbe of container '${name === "synapse-li" ? "synapse" : name}' detects a failure only after 30 s (${formula}) > 20 s: lower periodSeconds and failureThreshold (e.g. 10 × 3)`,
    })),
  },
  // ---- F4
  {
    rule: "pvc-storage-class",
    title: 'storageClassName "" on a claim',
    mutate: (o) => {
      (find(o, "PersistentVolumeClaim", "tts-models").spec as Record<string, unknown>).storageClassName = "";
    },
    expect: [
      {
        kind: "PersistentVolumeClaim",
        name: "tts-models",
        message:
          'set spec.storageClassName of the claim to fast-ssd or slow-hdd: "" disables dynamic provisioning and the claim stays Pending',
      },
    ],
  },
  {
    rule: "pvc-storage-class",
    title: "unset storageClassName in a volumeClaimTemplate",
    mutate: (o) => {
      const spec = find(o, "StatefulSet", "postgres").spec as {
        volumeClaimTemplates: Array<{ spec: Record<string, unknown> }>;
      };
      delete spec.volumeClaimTemplates[0]!.spec.storageClassName;
    },
    expect: [
      {
        kind: "StatefulSet",
        name: "postgres",
        message:
          "set spec.storageClassName of volumeClaimTemplate 'data' to fast-ssd or slow-hdd (unset means the cluster default, which may not exist)",
      },
    ],
  },
  {
    rule: "pvc-storage-class",
    title: "class outside the allow-list",
    mutate: (o) => {
      (find(o, "PersistentVolumeClaim", "tts-models").spec as Record<string, unknown>).storageClassName =
        "local-storage";
    },
    expect: [
      {
        kind: "PersistentVolumeClaim",
        name: "tts-models",
        message: "storageClassName 'local-storage' of the claim is not allowed: use fast-ssd or slow-hdd",
      },
    ],
  },
  // ---- F5 / F6
  {
    rule: "configmap-secret",
    title: "passwords and DSNs (URL-encoded) in a ConfigMap",
    mutate: (o) => {
      const data = find(o, "ConfigMap", "api-config").data as Record<string, string>;
      data.POSTGRES_DSN = "postgresql://juneadmin:juneP%40ssw0rd2024@postgres:5432/june_osint";
      data.RABBITMQ_DEFAULT_PASS = "juneR@bbit2024";
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        message:
          "data.POSTGRES_DSN contains a connection string with a password: move it to a Secret and reference it with secretKeyRef or a secret volume",
      },
      {
        kind: "ConfigMap",
        name: "api-config",
        message:
          "data.RABBITMQ_DEFAULT_PASS is named like a credential and holds a literal value: move it to a Secret and reference it with secretKeyRef or a secret volume",
      },
    ],
  },
  {
    rule: "configmap-secret",
    title: "PEM block, embedded config password and high-entropy token",
    mutate: (o) => {
      const data = find(o, "ConfigMap", "api-config").data as Record<string, string>;
      data["id_rsa"] = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n";
      data["homeserver.yaml"] = "database:\n  args:\n    user: synapse\n    password: s3cr3t-Synapse\n";
      data["deploy"] = "Zk9xR2b7Qe1Lm8Vt4Wp0Ys6Hn3Jc5Ka9";
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        message:
          "data.id_rsa contains a PEM private key: move it to a Secret and reference it with secretKeyRef or a secret volume",
      },
      {
        kind: "ConfigMap",
        name: "api-config",
        message:
          "data.homeserver.yaml sets 'password' to a literal credential: move it to a Secret and reference it with secretKeyRef or a secret volume",
      },
      {
        kind: "ConfigMap",
        name: "api-config",
        message:
          "data.deploy looks like key material (high entropy): move it to a Secret and reference it with secretKeyRef or a secret volume",
      },
    ],
  },
  {
    rule: "configmap-secret",
    title: "JSON config: a boolean under a password-like key is not a credential, a string is",
    mutate: (o) => {
      const data = find(o, "ConfigMap", "api-config").data as Record<string, string>;
      data["config.json"] =
        '{\n  "UIFeature.passwordReset": false,\n  "admin_password": "hunter2-Real",\n  "brand": "Element"\n}\n';
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        message:
          "data.config.json sets 'admin_password' to a literal credential: move it to a Secret and reference it with secretKeyRef or a secret volume",
      },
    ],
  },
  {
    rule: "configmap-secret",
    title: "code and env-var references are not credentials; a literal next to them is",
    mutate: (o) => {
      const data = find(o, "ConfigMap", "api-config").data as Record<string, string>;
      data["worker.py"] =
        "def start(self):\n    self.admin_token = obtain_admin_token(self.opener, self.config)\n    token = self.config.admin_token\n";
      data["module.yaml"] = "redis_password_env: AV_QUEUE_PASSWORD\nredis_password: hunter2-Real\n";
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        message:
          "data.module.yaml sets 'redis_password' to a literal credential: move it to a Secret and reference it with secretKeyRef or a secret volume",
      },
    ],
  },
  {
    rule: "configmap-secret",
    title: "git-crypt key as binaryData",
    mutate: (o) => {
      find(o, "ConfigMap", "api-config").binaryData = {
        key: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v",
      };
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        message:
          "binaryData.key holds binary data that looks like key material: move it to a Secret and reference it with secretKeyRef or a secret volume",
      },
    ],
  },
  {
    rule: "env-literal-secret",
    title: "literal password and DSN in env",
    mutate: (o) => {
      container(deploymentApi(o)).env!.push(
        { name: "RABBITMQ_DEFAULT_PASS", value: "juneR@bbit2024" },
        { name: "CACHE_URL", value: "redis://default:hunter2@redis:6379/0" },
      );
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "env 'RABBITMQ_DEFAULT_PASS' of container 'api' holds a literal credential: use valueFrom.secretKeyRef instead of value",
      },
      {
        kind: "Deployment",
        name: "api",
        message:
          "env 'CACHE_URL' of container 'api' holds a connection string with a password: use valueFrom.secretKeyRef instead of value",
      },
    ],
  },
  // ---- F7
  {
    rule: "root-chown-init",
    title: "RabbitMQ fix-permissions init container",
    mutate: (o) => {
      pod(deploymentApi(o)).initContainers = [
        {
          name: "fix-permissions",
          image: "registry.keel.internal/busybox:1.36",
          securityContext: { runAsUser: 0 },
          command: ["sh", "-c", "chown -R 999:999 /var/lib/rabbitmq"],
        },
      ];
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "remove init container 'fix-permissions' that runs as root to chown a volume: set spec.securityContext.fsGroup: 999 (with fsGroupChangePolicy: OnRootMismatch) on the pod instead",
      },
    ],
  },
  {
    rule: "run-as-non-root",
    title: "root init container and a container without runAsNonRoot",
    mutate: (o) => {
      const p = pod(deploymentApi(o));
      delete p.securityContext!.runAsNonRoot;
      delete p.securityContext!.runAsUser;
      p.initContainers = [
        {
          name: "fix-permissions",
          image: "registry.keel.internal/busybox:1.36",
          securityContext: { runAsUser: 0 },
        },
      ];
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "init container 'fix-permissions' runs as root (runAsUser: 0): run it as a non-zero UID and set runAsNonRoot: true",
      },
      {
        kind: "Deployment",
        name: "api",
        message: "set securityContext.runAsNonRoot: true (pod or container) for container 'api'",
      },
    ],
  },
  // ---- F8
  {
    rule: "cluster-admin-binding",
    title: "ServiceAccount bound to cluster-admin",
    mutate: (o) => {
      o.push({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: "openclaw" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [
          { kind: "ServiceAccount", name: "openclaw", namespace: "openclaw" },
          { kind: "User", name: "alice" },
        ],
      });
    },
    expect: [
      {
        kind: "ClusterRoleBinding",
        name: "openclaw",
        message:
          "ServiceAccount openclaw/openclaw is bound to cluster-admin: bind it to a Role/ClusterRole listing only the verbs and resources it needs",
      },
    ],
  },
  // ---- F9
  {
    rule: "mutable-image-tag",
    title: ":latest, :16-master, untagged and version-less tags",
    mutate: (o) => {
      container(deploymentApi(o)).image = "docker.io/ozzuworld/june-idp:latest";
      container(find(o, "Deployment", "worker")).image = "viktorbarzin/postgres:16-master";
      container(find(o, "Deployment", "redis")).image = "redis";
      container(find(o, "Deployment", "tts")).image = "ghcr.io/coqui/tts:stable-alpine";
    },
    expect: [
      {
        kind: "Deployment",
        name: "redis",
        message:
          "image 'redis' of container 'redis' has no tag (means :latest): pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)",
      },
      {
        kind: "Deployment",
        name: "api",
        message:
          "image 'docker.io/ozzuworld/june-idp:latest' of container 'api' uses the mutable tag 'latest': pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)",
      },
      {
        kind: "Deployment",
        name: "worker",
        message:
          "image 'viktorbarzin/postgres:16-master' of container 'worker' uses the mutable tag '16-master': pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)",
      },
      {
        kind: "Deployment",
        name: "tts",
        message:
          "image 'ghcr.io/coqui/tts:stable-alpine' of container 'tts' uses the mutable tag 'stable-alpine': pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)",
      },
    ],
  },
  {
    rule: "mutable-image-tag",
    title: "a digest pins even a mutable tag; a version-less tag is reported",
    mutate: (o) => {
      container(deploymentApi(o)).image = "registry.keel.internal/api:latest@sha256:" + "c".repeat(64);
      container(find(o, "Deployment", "worker")).image = "registry.keel.internal/worker:lts";
    },
    expect: [
      {
        kind: "Deployment",
        name: "worker",
        message:
          "image 'registry.keel.internal/worker:lts' of container 'worker' uses the version-less tag 'lts': pin a version tag (e.g. :1.2.3) or a digest (@sha256:...)",
      },
    ],
  },
  {
    rule: "image-registry",
    title: "image from Docker Hub in an air-gapped stack",
    mutate: (o) => {
      container(find(o, "Deployment", "redis")).image = "redis:7.4.1";
    },
    expect: [
      {
        kind: "Deployment",
        name: "redis",
        message:
          "image 'redis:7.4.1' of container 'redis' comes from 'docker.io': mirror it to registry.keel.internal and reference the mirror",
      },
    ],
  },
  {
    rule: "image-registry",
    title: "off without allowedRegistries",
    mutate: (o) => {
      container(find(o, "Deployment", "redis")).image = "redis:7.4.1";
    },
    config: withConfig({ "image-registry": { allowedRegistries: [] } }),
    expect: [],
  },
  // ---- F22 / F23
  {
    rule: "privileged-container",
    title: "privileged sysctl init container",
    mutate: (o) => {
      pod(find(o, "StatefulSet", "elasticsearch")).initContainers = [
        {
          name: "sysctl",
          image: "registry.keel.internal/busybox:1.36",
          command: ["sysctl", "-w", "vm.max_map_count=262144"],
          securityContext: { privileged: true },
        },
      ];
    },
    expect: [
      {
        kind: "StatefulSet",
        name: "elasticsearch",
        message:
          "init container 'sysctl' runs privileged: remove securityContext.privileged (set kernel parameters such as vm.max_map_count on the nodes or with a node tuning DaemonSet instead)",
      },
    ],
  },
  {
    rule: "privilege-escalation",
    title: "allowPrivilegeEscalation not set to false",
    mutate: (o) => {
      delete container(deploymentApi(o)).securityContext!.allowPrivilegeEscalation;
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message: "set securityContext.allowPrivilegeEscalation: false on container 'api'",
      },
    ],
  },
  {
    rule: "host-namespaces",
    title: "hostPID and hostIPC",
    mutate: (o) => {
      pod(deploymentApi(o)).hostPID = true;
      pod(deploymentApi(o)).hostIPC = true;
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "remove hostPID: true, hostIPC: true from the pod spec (expose ports through a Service instead, or add annotation exempt.keel.dev/host-namespaces with the reason)",
      },
      {
        kind: "DaemonSet",
        name: "coturn",
        level: "exempt",
        message:
          "exempted (TURN relays media on the node's public interface; a Service would hide client addresses (audit F23)) on the object: remove hostNetwork: true from the pod spec (expose ports through a Service instead, or add annotation exempt.keel.dev/host-namespaces with the reason)",
      },
    ],
  },
  {
    rule: "host-namespaces",
    title: "coturn's hostNetwork is exempted with a reason",
    mutate: () => undefined,
    expect: [
      {
        kind: "DaemonSet",
        name: "coturn",
        level: "exempt",
        message:
          "exempted (TURN relays media on the node's public interface; a Service would hide client addresses (audit F23)) on the object: remove hostNetwork: true from the pod spec (expose ports through a Service instead, or add annotation exempt.keel.dev/host-namespaces with the reason)",
      },
    ],
  },
  {
    rule: "host-path",
    title: "hostPath volume",
    mutate: (o) => {
      pod(deploymentApi(o)).volumes!.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "replace hostPath volume 'docker' (/var/run/docker.sock) with a PersistentVolumeClaim, configMap or emptyDir",
      },
    ],
  },
  {
    rule: "host-ports",
    title: "hostPort",
    mutate: (o) => {
      container(deploymentApi(o)).ports = [{ containerPort: 8080, hostPort: 80 }];
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message: "remove hostPort 80 (TCP) from container 'api': expose it through a Service",
      },
    ],
  },
  // Issue #17: the TCP and UDP entries of one port are one finding.
  {
    rule: "host-ports",
    title: "one finding per host port and container, naming both protocols",
    mutate: (o) => {
      container(deploymentApi(o)).ports = [
        { containerPort: 3478, hostPort: 3478, protocol: "UDP" },
        { containerPort: 3478, hostPort: 3478, protocol: "TCP" },
        { containerPort: 5349, hostPort: 5349 },
        { containerPort: 8080 },
      ];
      pod(deploymentApi(o)).initContainers = [
        {
          name: "probe",
          image: "registry.keel.internal/busybox:1.36",
          ports: [{ containerPort: 3478, hostPort: 3478, protocol: "UDP" }],
        },
      ];
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message: "remove hostPort 3478 (TCP and UDP) from container 'api': expose it through a Service",
      },
      {
        kind: "Deployment",
        name: "api",
        message: "remove hostPort 5349 (TCP) from container 'api': expose it through a Service",
      },
      {
        kind: "Deployment",
        name: "api",
        message: "remove hostPort 3478 (UDP) from init container 'probe': expose it through a Service",
      },
    ],
  },
  {
    rule: "capabilities",
    title: "NET_ADMIN added, ALL not dropped",
    mutate: (o) => {
      container(deploymentApi(o)).securityContext!.capabilities = { add: ["NET_ADMIN", "NET_BIND_SERVICE"] };
    },
    expect: [
      {
        kind: "DaemonSet",
        name: "coturn",
        level: "exempt",
        message:
          "exempted (NET_ADMIN tunes relay sockets; approved in the audit (F23)) on the object: container 'coturn' adds capabilities NET_ADMIN: remove them from securityContext.capabilities.add (or add annotation exempt.keel.dev/capabilities with the reason)",
      },
      {
        kind: "Deployment",
        name: "api",
        message:
          "container 'api' adds capabilities NET_ADMIN: remove them from securityContext.capabilities.add (or add annotation exempt.keel.dev/capabilities with the reason)",
      },
      {
        kind: "Deployment",
        name: "api",
        message: "set securityContext.capabilities.drop: [ALL] on container 'api'",
      },
    ],
  },
  {
    rule: "seccomp-profile",
    title: "no profile anywhere, and Unconfined on a container",
    mutate: (o) => {
      delete pod(deploymentApi(o)).securityContext!.seccompProfile;
      const w = find(o, "Deployment", "worker");
      container(w).securityContext!.seccompProfile = { type: "Unconfined" };
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message: "set spec.securityContext.seccompProfile.type: RuntimeDefault on the pod",
      },
      {
        kind: "Deployment",
        name: "worker",
        message: "container 'worker' uses seccomp profile 'Unconfined': use RuntimeDefault",
      },
    ],
  },
  {
    rule: "namespace-pod-security",
    title: "namespace without the enforce label, and one at baseline without exemption",
    mutate: (o) => {
      delete find(o, "Namespace", "platform").metadata!.labels!["pod-security.kubernetes.io/enforce"];
      find(o, "Namespace", "platform-li").metadata!.labels!["pod-security.kubernetes.io/enforce"] =
        "baseline";
    },
    expect: [
      {
        kind: "Namespace",
        name: "platform",
        message: "add label pod-security.kubernetes.io/enforce: restricted",
      },
      {
        kind: "Namespace",
        name: "platform-li",
        message:
          "label pod-security.kubernetes.io/enforce is 'baseline': set it to restricted, or add annotation exempt.keel.dev/namespace-pod-security with the reason",
      },
      {
        kind: "Namespace",
        name: "turn",
        level: "exempt",
        message:
          "exempted (coturn needs hostNetwork and NET_ADMIN (F23); nothing else runs here) on the object: label pod-security.kubernetes.io/enforce is 'privileged': set it to restricted, or add annotation exempt.keel.dev/namespace-pod-security with the reason",
      },
    ],
  },
  {
    rule: "exemption-has-reason",
    title: "coturn exemptions without reasons; unknown rule id",
    mutate: (o) => {
      const a = find(o, "DaemonSet", "coturn").metadata!.annotations!;
      a["exempt.keel.dev/capabilities"] = "";
      a["exempt.keel.dev/host-namespaces"] = "  ";
      a["exempt.keel.dev/no-such-rule"] = "because";
    },
    expect: [
      {
        kind: "DaemonSet",
        name: "coturn",
        message:
          "annotation exempt.keel.dev/host-namespaces has an empty reason, so it exempts nothing: write why rule 'host-namespaces' does not apply here, or remove the annotation",
      },
      {
        kind: "DaemonSet",
        name: "coturn",
        message:
          "annotation exempt.keel.dev/capabilities has an empty reason, so it exempts nothing: write why rule 'capabilities' does not apply here, or remove the annotation",
      },
      {
        kind: "DaemonSet",
        name: "coturn",
        level: "advisory",
        message:
          "annotation exempt.keel.dev/no-such-rule names no known rule: fix the rule id or remove the annotation",
      },
    ],
  },
  // ---- hardening / hygiene
  {
    rule: "read-only-root-filesystem",
    title: "writable root filesystem",
    mutate: (o) => {
      delete container(deploymentApi(o)).securityContext!.readOnlyRootFilesystem;
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        level: "advisory",
        message:
          "set securityContext.readOnlyRootFilesystem: true on container 'api' and mount an emptyDir where it writes",
      },
    ],
  },
  {
    rule: "automount-service-account-token",
    title: "token mounted by default",
    mutate: (o) => {
      delete pod(deploymentApi(o)).automountServiceAccountToken;
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        level: "advisory",
        message:
          "set spec.automountServiceAccountToken: false in the pod spec (true only if the pod calls the Kubernetes API)",
      },
    ],
  },
  {
    rule: "default-namespace",
    title: "object in 'default' and one without namespace",
    mutate: (o) => {
      find(o, "Service", "api").metadata!.namespace = "default";
      delete find(o, "ConfigMap", "api-config").metadata!.namespace;
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        level: "advisory",
        message: "set metadata.namespace to the platform's namespace (unset means 'default')",
      },
      {
        kind: "Service",
        name: "api",
        level: "advisory",
        message: "move the object out of namespace 'default' into the platform's namespace",
      },
    ],
  },
  // Issue #17: cluster-scoped custom resources the pack does not know.
  {
    rule: "default-namespace",
    title:
      "made mandatory: an unknown custom kind without a namespace is advisory, a built-in kind stays mandatory, known or listed kinds are skipped",
    mutate: (o) => {
      const cr = (apiVersion: string, kind: string, name: string): K8sObject => ({
        apiVersion,
        kind,
        metadata: { name },
        spec: {},
      });
      o.push(
        cr("stunner.l7mp.io/v1", "Dataplane", "default"),
        cr("media.example.com/v1", "RelayPool", "relays"),
        cr("widgets.example.org/v1", "Widget", "listed"),
        cr("v1", "ServiceAccount", "loose"),
      );
    },
    config: withConfig({
      "default-namespace": {
        enforcementLevel: "mandatory",
        clusterScopedKinds: ["Widget.widgets.example.org"],
      },
    }),
    expect: [
      {
        kind: "RelayPool",
        name: "relays",
        level: "advisory",
        message:
          "set metadata.namespace to the platform's namespace (unset means 'default'), unless RelayPool (media.example.com) is cluster-scoped: then add its CustomResourceDefinition to the audited manifests, or list 'RelayPool.media.example.com' in default-namespace's clusterScopedKinds setting",
      },
      {
        kind: "ServiceAccount",
        name: "loose",
        level: "mandatory",
        message: "set metadata.namespace to the platform's namespace (unset means 'default')",
      },
    ],
  },
  {
    rule: "default-namespace",
    title: "a custom kind explicitly in namespace 'default' keeps the rule's level",
    mutate: (o) => {
      o.push({
        apiVersion: "media.example.com/v1",
        kind: "RelayPool",
        metadata: { name: "relays", namespace: "default" },
        spec: {},
      });
    },
    config: withConfig({ "default-namespace": "mandatory" }),
    expect: [
      {
        kind: "RelayPool",
        name: "relays",
        level: "mandatory",
        message: "move the object out of namespace 'default' into the platform's namespace",
      },
    ],
  },
  {
    rule: "deprecated-api",
    title: "removed API versions",
    mutate: (o) => {
      find(o, "PodDisruptionBudget", "api").apiVersion = "policy/v1beta1";
      find(o, "CronJob", "postgres-backup").apiVersion = "batch/v1beta1";
      find(o, "HorizontalPodAutoscaler", "api").apiVersion = "autoscaling/v2beta2";
      find(o, "Ingress", "api").apiVersion = "extensions/v1beta1";
    },
    expect: [
      {
        kind: "CronJob",
        name: "postgres-backup",
        message: "CronJob uses removed API batch/v1beta1: change apiVersion to batch/v1",
      },
      {
        kind: "HorizontalPodAutoscaler",
        name: "api",
        message:
          "HorizontalPodAutoscaler uses removed API autoscaling/v2beta2: change apiVersion to autoscaling/v2",
      },
      {
        kind: "PodDisruptionBudget",
        name: "api",
        message: "PodDisruptionBudget uses removed API policy/v1beta1: change apiVersion to policy/v1",
      },
      {
        kind: "Ingress",
        name: "api",
        message: "Ingress uses removed API extensions/v1beta1: change apiVersion to networking.k8s.io/v1",
      },
    ],
  },
  {
    rule: "service-exposure",
    title: "LoadBalancer Service",
    mutate: (o) => {
      (find(o, "Service", "api").spec as Record<string, unknown>).type = "LoadBalancer";
    },
    expect: [
      {
        kind: "Service",
        name: "api",
        message:
          "Service type LoadBalancer exposes it outside the cluster: use type ClusterIP behind an Ingress, or add annotation exempt.keel.dev/service-exposure with the reason",
      },
    ],
  },
  {
    rule: "ingress-tls",
    title: "a host outside spec.tls",
    mutate: (o) => {
      const spec = find(o, "Ingress", "api").spec as { rules: Array<Record<string, unknown>> };
      spec.rules.push({ host: "admin.keel.internal" });
    },
    expect: [
      { kind: "Ingress", name: "api", message: "add host(s) admin.keel.internal to spec.tls[].hosts" },
    ],
  },
  {
    rule: "ingress-tls",
    title: "no TLS at all",
    mutate: (o) => {
      delete (find(o, "Ingress", "api").spec as Record<string, unknown>).tls;
    },
    expect: [
      { kind: "Ingress", name: "api", message: "add spec.tls with a secretName covering api.keel.internal" },
    ],
  },
  {
    rule: "job-ttl",
    title: "Job without TTL",
    mutate: (o) => {
      delete (find(o, "Job", "migrate").spec as Record<string, unknown>).ttlSecondsAfterFinished;
    },
    expect: [
      {
        kind: "Job",
        name: "migrate",
        level: "advisory",
        message: "set spec.ttlSecondsAfterFinished (e.g. 86400) so the finished Job and its pods are deleted",
      },
    ],
  },
  {
    rule: "cronjob-starting-deadline",
    title: "CronJob without startingDeadlineSeconds",
    mutate: (o) => {
      delete (find(o, "CronJob", "postgres-backup").spec as Record<string, unknown>).startingDeadlineSeconds;
    },
    expect: [
      {
        kind: "CronJob",
        name: "postgres-backup",
        level: "advisory",
        message:
          "set spec.startingDeadlineSeconds (e.g. 600) so missed runs are skipped instead of piling up",
      },
    ],
  },
  {
    rule: "cronjob-concurrency-policy",
    title: "CronJob that allows overlapping runs",
    mutate: (o) => {
      (find(o, "CronJob", "postgres-backup").spec as Record<string, unknown>).concurrencyPolicy = "Allow";
    },
    expect: [
      {
        kind: "CronJob",
        name: "postgres-backup",
        level: "advisory",
        message: "set spec.concurrencyPolicy: Forbid (it is Allow) so runs never overlap",
      },
    ],
  },
  // ---- F19
  {
    rule: "emptydir-cache",
    title: "emptyDir model cache at the huggingface cache path",
    mutate: (o) => {
      const d = find(o, "Deployment", "tts");
      pod(d).volumes!.push({ name: "model-cache", emptyDir: { sizeLimit: "10Gi" } });
      container(d).volumeMounts!.push({ name: "model-cache", mountPath: "/root/.cache/huggingface" });
    },
    expect: [
      {
        kind: "Deployment",
        name: "tts",
        message:
          "emptyDir volume 'model-cache' (mounted at /root/.cache/huggingface) looks like a model/data cache and is lost on every restart: use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName (if it is scratch space, cap it with a sizeLimit below 1Gi)",
      },
    ],
  },
  {
    rule: "emptydir-cache",
    title: "a volume named like a cache but mounted at /tmp, and a memory /dev/shm, are fine",
    mutate: (o) => {
      const d = find(o, "Deployment", "tts");
      pod(d).volumes!.push({ name: "cache", emptyDir: {} });
      container(d).volumeMounts!.push({ name: "cache", mountPath: "/tmp/cache" });
    },
    expect: [],
  },
  // Found by the independent manifest sets (test/independent): scratch emptyDirs of hardened nginx, Keycloak and Kibana.
  {
    rule: "emptydir-cache",
    title:
      "scratch space is fine: nginx temp dir capped at 64Mi, a .../data/tmp path, a small Kibana data dir",
    mutate: (o) => {
      const d = find(o, "Deployment", "api");
      pod(d).volumes!.push(
        { name: "nginx-cache", emptyDir: { sizeLimit: "64Mi" } },
        { name: "keycloak-tmp", emptyDir: {} },
        { name: "kibana-data", emptyDir: { sizeLimit: "64Mi" } },
      );
      container(d).volumeMounts!.push(
        { name: "nginx-cache", mountPath: "/var/cache/nginx" },
        { name: "keycloak-tmp", mountPath: "/opt/keycloak/data/tmp" },
        { name: "kibana-data", mountPath: "/usr/share/kibana/data" },
      );
    },
    expect: [],
  },
  {
    rule: "emptydir-cache",
    title: "uncapped or large cache-like emptyDirs are still reported; scratchSizeLimit is configurable",
    mutate: (o) => {
      const d = find(o, "Deployment", "api");
      pod(d).volumes!.push(
        { name: "app-cache", emptyDir: {} },
        { name: "data", emptyDir: { sizeLimit: "20Gi" } },
        { name: "hf", emptyDir: { sizeLimit: "512Mi" } },
      );
      container(d).volumeMounts!.push(
        { name: "app-cache", mountPath: "/srv/app/cache" },
        { name: "data", mountPath: "/var/lib/app" },
        { name: "hf", mountPath: "/root/.cache/huggingface" },
      );
    },
    config: withConfig({ "emptydir-cache": { scratchSizeLimit: "256Mi" } }),
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "emptyDir volume 'app-cache' (mounted at /srv/app/cache) looks like a model/data cache and is lost on every restart: use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName (if it is scratch space, cap it with a sizeLimit below 256Mi)",
      },
      {
        kind: "Deployment",
        name: "api",
        message:
          "emptyDir volume 'data' (mounted at /var/lib/app) looks like a model/data cache and is lost on every restart: use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName (if it is scratch space, cap it with a sizeLimit below 256Mi)",
      },
      {
        kind: "Deployment",
        name: "api",
        message:
          "emptyDir volume 'hf' (mounted at /root/.cache/huggingface) looks like a model/data cache and is lost on every restart: use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName (if it is scratch space, cap it with a sizeLimit below 256Mi)",
      },
    ],
  },
  // Issue #17: writable temp dirs that are not model or data caches.
  {
    rule: "emptydir-cache",
    title: "uncapped /var/cache/nginx and a home .cache for a read-only root filesystem are scratch space",
    mutate: (o) => {
      const d = find(o, "Deployment", "api");
      pod(d).volumes!.push(
        { name: "nginx-cache", emptyDir: {} },
        { name: "home-cache", emptyDir: {} },
        { name: "cache", emptyDir: {} },
      );
      container(d).volumeMounts!.push(
        { name: "nginx-cache", mountPath: "/var/cache/nginx" },
        { name: "home-cache", mountPath: "/home/app/.cache" },
        { name: "cache", mountPath: "/root/.cache/" },
      );
    },
    expect: [],
  },
  {
    rule: "emptydir-cache",
    title: "a model word still marks a home .cache or /var/cache as a model cache (path or volume name)",
    mutate: (o) => {
      const d = find(o, "Deployment", "api");
      pod(d).volumes!.push(
        { name: "hf-cache", emptyDir: {} },
        { name: "cache", emptyDir: {} },
        { name: "weights", emptyDir: {} },
      );
      container(d).volumeMounts!.push(
        { name: "hf-cache", mountPath: "/home/app/.cache" },
        { name: "cache", mountPath: "/root/.cache/torch" },
        { name: "weights", mountPath: "/var/cache/app" },
      );
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "emptyDir volume 'hf-cache' (mounted at /home/app/.cache) looks like a model/data cache and is lost on every restart: use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName (if it is scratch space, cap it with a sizeLimit below 1Gi)",
      },
      {
        kind: "Deployment",
        name: "api",
        message:
          "emptyDir volume 'cache' (mounted at /root/.cache/torch) looks like a model/data cache and is lost on every restart: use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName (if it is scratch space, cap it with a sizeLimit below 1Gi)",
      },
      {
        kind: "Deployment",
        name: "api",
        message:
          "emptyDir volume 'weights' (mounted at /var/cache/app) looks like a model/data cache and is lost on every restart: use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName (if it is scratch space, cap it with a sizeLimit below 1Gi)",
      },
    ],
  },
  {
    rule: "emptydir-cache",
    title:
      "a CronJob's and a Job's per-run scratch space is fine; the same volume on a Deployment is reported",
    mutate: (o) => {
      for (const w of [
        find(o, "CronJob", "postgres-backup"),
        find(o, "Job", "migrate"),
        find(o, "Deployment", "worker"),
      ]) {
        pod(w).volumes = [...(pod(w).volumes ?? []), { name: "data", emptyDir: {} }];
        container(w).volumeMounts = [
          ...(container(w).volumeMounts ?? []),
          { name: "data", mountPath: "/data" },
        ];
      }
    },
    expect: [
      {
        kind: "Deployment",
        name: "worker",
        message:
          "emptyDir volume 'data' (mounted at /data) looks like a model/data cache and is lost on every restart: use a PersistentVolumeClaim (volumeClaimTemplates in a StatefulSet) or a generic ephemeral volume with a storageClassName (if it is scratch space, cap it with a sizeLimit below 1Gi)",
      },
    ],
  },
  // Found by the independent manifest sets: credentials the name and argument checks missed.
  {
    rule: "configmap-secret",
    title: "NEO4J_AUTH user/password in a ConfigMap (NEO4J_AUTH: none is fine)",
    mutate: (o) => {
      const data = find(o, "ConfigMap", "api-config").data as Record<string, string>;
      data.NEO4J_AUTH = "neo4j/juneN3o4j2024";
      data.GRAPH_AUTH = "none";
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        message:
          "data.NEO4J_AUTH is named like a credential and holds a literal value: move it to a Secret and reference it with secretKeyRef or a secret volume",
      },
    ],
  },
  {
    rule: "env-literal-secret",
    title: "literal secrets and DSNs on the command line; $(VAR), files and flags without values are fine",
    mutate: (o) => {
      const c = container(deploymentApi(o));
      c.args = [
        "--use-auth-secret",
        "--static-auth-secret=CHANGE_TO_TURN_SECRET",
        "--requirepass",
        "hunter2-redis",
        "--database-url",
        "postgres://synapse:Syn4pse-DB-pass@postgres:5432/synapse",
        "--api-token=$(API_TOKEN)",
        "--password-file",
        "/run/secrets/db/password",
        "--token-ttl=5m",
      ];
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "the command line of container 'api' passes a literal credential in --static-auth-secret: put it in a Secret, expose it with env valueFrom.secretKeyRef and write $(VAR) in the argument",
      },
      {
        kind: "Deployment",
        name: "api",
        message:
          "the command line of container 'api' passes a literal credential in --requirepass: put it in a Secret, expose it with env valueFrom.secretKeyRef and write $(VAR) in the argument",
      },
      {
        kind: "Deployment",
        name: "api",
        message:
          "the command line of container 'api' passes a connection string with a password in an argument: put it in a Secret, expose it with env valueFrom.secretKeyRef and write $(VAR) in the argument",
      },
    ],
  },
];
