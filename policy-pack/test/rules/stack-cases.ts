import type { Container, K8sObject } from "../../src/core/k8s";
import { container, find, hardenedConfig, pod } from "../helpers";
import type { RuleCase } from "./cases";

const annotations = (o: K8sObject): Record<string, string> => {
  o.metadata!.annotations = o.metadata!.annotations ?? {};
  return o.metadata!.annotations;
};
const remove = (o: K8sObject[], kind: string, name: string, namespace?: string): void => {
  const i = o.findIndex(
    (x) =>
      x.kind === kind &&
      x.metadata?.name === name &&
      (namespace === undefined || x.metadata?.namespace === namespace),
  );
  if (i < 0) {
    throw new Error(`no ${kind} ${name}`);
  }
  o.splice(i, 1);
};
const spec = (o: K8sObject): Record<string, unknown> => o.spec as Record<string, unknown>;
const liDefaultDeny = (o: K8sObject[]): K8sObject =>
  o.find(
    (x) =>
      x.kind === "NetworkPolicy" &&
      x.metadata?.name === "default-deny" &&
      x.metadata?.namespace === "platform-li",
  )!;

/** A small Matrix-like stack for the arithmetic rules: 18 synapse workers (4 CPU) and 3 postgres (8 CPU). */
function matrixStack(): K8sObject[] {
  const workload = (kind: string, name: string, replicas: number, req: string, lim: string): K8sObject => ({
    apiVersion: "apps/v1",
    kind,
    metadata: { name, namespace: "matrix" },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name,
              image: "registry.keel.internal/x:1.0.0",
              resources: { requests: { cpu: req, memory: "1Gi" }, limits: { cpu: lim, memory: "2Gi" } },
            },
          ],
        },
      },
    },
  });
  return [
    workload("Deployment", "synapse-worker", 18, "1", "4"),
    workload("StatefulSet", "postgres", 3, "4", "8"),
  ];
}

export const STACK_CASES: RuleCase[] = [
  // ---- F10
  {
    rule: "pdb-required",
    title: "replicated and critical workloads without a PodDisruptionBudget",
    mutate: (o) => {
      remove(o, "PodDisruptionBudget", "api");
      remove(o, "PodDisruptionBudget", "tts");
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "add a PodDisruptionBudget in namespace platform whose selector matches the pod labels {app: api} (it runs 2 replicas), e.g. maxUnavailable: 1",
      },
      {
        kind: "Deployment",
        name: "tts",
        message:
          "add a PodDisruptionBudget in namespace platform whose selector matches the pod labels {app: tts} (it is annotated keel.dev/critical), e.g. maxUnavailable: 1",
      },
    ],
  },
  {
    rule: "pdb-required",
    title: "a PDB whose selector does not match the pod labels does not count",
    mutate: (o) => {
      spec(find(o, "PodDisruptionBudget", "worker")).selector = { matchLabels: { app: "workers" } };
    },
    expect: [
      {
        kind: "Deployment",
        name: "worker",
        message:
          "add a PodDisruptionBudget in namespace platform whose selector matches the pod labels {app: worker} (it runs 2 replicas), e.g. maxUnavailable: 1",
      },
    ],
  },
  {
    rule: "pdb-required",
    title: "a budget that lets no pod go blocks every drain, unless the workload is declared critical",
    mutate: (o) => {
      spec(find(o, "PodDisruptionBudget", "api")).maxUnavailable = 0;
      const worker = spec(find(o, "PodDisruptionBudget", "worker"));
      delete worker.maxUnavailable;
      worker.minAvailable = "100%";
      // tts is annotated keel.dev/critical: its owner relaxes the budget for maintenance windows.
      const tts = spec(find(o, "PodDisruptionBudget", "tts"));
      delete tts.maxUnavailable;
      tts.minAvailable = 1;
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          'PodDisruptionBudget platform/api lets no pod of its 2 replica(s) be evicted, so every node drain waits forever: use maxUnavailable: 1, or annotate the workload keel.dev/critical: "true" and relax the budget in maintenance windows',
      },
      {
        kind: "Deployment",
        name: "worker",
        message:
          'PodDisruptionBudget platform/worker lets no pod of its 2 replica(s) be evicted, so every node drain waits forever: use maxUnavailable: 1, or annotate the workload keel.dev/critical: "true" and relax the budget in maintenance windows',
      },
    ],
  },
  // ---- F11
  {
    rule: "hpa-required",
    title: "scalable workload without HPA",
    mutate: (o) => {
      remove(o, "HorizontalPodAutoscaler", "worker");
    },
    expect: [
      {
        kind: "Deployment",
        name: "worker",
        message:
          "add a HorizontalPodAutoscaler (autoscaling/v2) in namespace platform with scaleTargetRef Deployment/worker, minReplicas ≥ 2 and a CPU or memory target",
      },
    ],
  },
  // ---- F12
  {
    rule: "namespace-quota",
    title: "namespace without quota; quota missing a key; quota too small",
    mutate: (o) => {
      remove(o, "ResourceQuota", "compute", "platform-li");
      const turn = spec(o.find((x) => x.kind === "ResourceQuota" && x.metadata?.namespace === "turn")!)
        .hard as Record<string, string>;
      delete turn["limits.memory"];
      const platform = spec(
        o.find((x) => x.kind === "ResourceQuota" && x.metadata?.namespace === "platform")!,
      ).hard as Record<string, string>;
      platform["requests.memory"] = "4Gi";
    },
    expect: [
      {
        kind: "ResourceQuota",
        name: "compute",
        message:
          "workloads in namespace platform need 12.38Gi of requests.memory at max replicas but ResourceQuota 'compute' allows 4Gi: raise spec.hard['requests.memory'] or lower the workloads' resources",
      },
      {
        kind: "Namespace",
        name: "platform-li",
        message:
          "add a ResourceQuota to namespace platform-li with spec.hard requests.cpu, requests.memory, limits.cpu and limits.memory",
      },
      {
        kind: "ResourceQuota",
        name: "compute",
        message: "set spec.hard['limits.memory'] in a ResourceQuota of namespace turn",
      },
    ],
  },
  {
    rule: "namespace-limit-range",
    title: "namespace without LimitRange; LimitRange without defaultRequest",
    mutate: (o) => {
      remove(o, "LimitRange", "container-defaults", "turn");
      const lr = o.find((x) => x.kind === "LimitRange" && x.metadata?.namespace === "platform")!;
      delete (spec(lr).limits as Array<Record<string, unknown>>)[0]!.defaultRequest;
    },
    expect: [
      {
        kind: "LimitRange",
        name: "container-defaults",
        message:
          "set defaultRequest.cpu, defaultRequest.memory in a limits entry of type Container of the LimitRange in namespace platform",
      },
      {
        kind: "Namespace",
        name: "turn",
        message:
          "add a LimitRange to namespace turn with a Container limit setting default and defaultRequest for cpu and memory",
      },
    ],
  },
  // ---- F13
  {
    rule: "namespace-default-deny",
    title: "no default deny; ingress-only deny (and no DNS-only egress policy)",
    mutate: (o) => {
      remove(o, "NetworkPolicy", "default-deny", "platform");
      remove(o, "NetworkPolicy", "allow-dns", "platform");
      remove(o, "NetworkPolicy", "allow-dns", "turn");
      spec(
        o.find(
          (x) =>
            x.kind === "NetworkPolicy" &&
            x.metadata?.name === "default-deny" &&
            x.metadata.namespace === "turn",
        )!,
      ).policyTypes = ["Ingress"];
    },
    expect: [
      {
        kind: "Namespace",
        name: "platform",
        message:
          "add a default-deny NetworkPolicy to namespace platform (podSelector: {}, policyTypes: [Ingress, Egress], no rules): Ingress and Egress are open",
      },
      {
        kind: "Namespace",
        name: "turn",
        message:
          "add a default-deny NetworkPolicy to namespace turn (podSelector: {}, policyTypes: [Ingress, Egress], no rules): Egress is open",
      },
    ],
  },
  // Issue #17: a default-deny whose only egress rule allows DNS keeps egress closed.
  {
    rule: "namespace-default-deny",
    title:
      "egress rules that only allow DNS (port 53, to kube-dns or anywhere) are closed egress; DNS plus 443 or any port is open",
    mutate: (o) => {
      const policy = (namespace: string): K8sObject =>
        o.find(
          (x) =>
            x.kind === "NetworkPolicy" &&
            x.metadata?.name === "default-deny" &&
            x.metadata.namespace === namespace,
        )!;
      for (const namespace of ["platform", "turn", "platform-li"]) {
        remove(o, "NetworkPolicy", "allow-dns", namespace);
      }
      const kubeDns = {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
      };
      spec(policy("platform")).egress = [
        {
          to: [kubeDns],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
        { ports: [{ protocol: "UDP", port: "dns" }] },
      ];
      spec(policy("turn")).egress = [
        {
          to: [kubeDns],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 443 },
          ],
        },
      ];
      spec(policy("platform-li")).egress = [{ to: [kubeDns] }];
    },
    expect: [
      {
        kind: "Namespace",
        name: "platform-li",
        message:
          "add a default-deny NetworkPolicy to namespace platform-li (podSelector: {}, policyTypes: [Ingress, Egress], no rules): Egress is open",
      },
      {
        kind: "Namespace",
        name: "turn",
        message:
          "add a default-deny NetworkPolicy to namespace turn (podSelector: {}, policyTypes: [Ingress, Egress], no rules): Egress is open",
      },
    ],
  },
  {
    rule: "pod-network-policy",
    title: "pods no policy selects",
    mutate: (o) => {
      for (const name of ["default-deny", "allow-dns"]) {
        remove(o, "NetworkPolicy", name, "turn");
      }
    },
    expect: [
      {
        kind: "DaemonSet",
        name: "coturn",
        message:
          "no NetworkPolicy in namespace turn selects these pods for Egress: add a default-deny policy (podSelector: {}) and allow the needed traffic explicitly",
      },
    ],
  },
  {
    rule: "li-isolation",
    title: "LI namespace with internet egress and ingress from the intercepted namespace",
    mutate: (o) => {
      const np = o.find((x) => x.kind === "NetworkPolicy" && x.metadata?.name === "synapse-li")!;
      spec(np).egress = [
        { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }] },
        { ports: [{ port: 443 }] },
        { to: [{ ipBlock: { cidr: "8.8.8.8/32" } }] },
      ];
      spec(np).ingress = [
        { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "platform" } } }] },
        { from: [{ namespaceSelector: {} }] },
        {},
      ];
    },
    expect: [
      {
        kind: "NetworkPolicy",
        name: "synapse-li",
        message:
          "egress rule 0 of NetworkPolicy synapse-li allows ipBlock 0.0.0.0/0, which reaches the internet: remove it (lawful-intercept data must not leave the cluster)",
      },
      {
        kind: "NetworkPolicy",
        name: "synapse-li",
        message:
          "egress rule 1 of NetworkPolicy synapse-li has no 'to' and allows any destination, the internet included: list in-cluster peers (namespaceSelector/podSelector) and DNS only",
      },
      {
        kind: "NetworkPolicy",
        name: "synapse-li",
        message:
          "egress rule 2 of NetworkPolicy synapse-li allows ipBlock 8.8.8.8/32, which reaches the internet: remove it (lawful-intercept data must not leave the cluster)",
      },
      {
        kind: "NetworkPolicy",
        name: "synapse-li",
        message:
          "ingress rule 0 of NetworkPolicy synapse-li admits pods of the intercepted namespace platform: narrow its namespaceSelector to the lawful-intercept namespace's own peers",
      },
      {
        kind: "NetworkPolicy",
        name: "synapse-li",
        message:
          "ingress rule 1 of NetworkPolicy synapse-li admits pods of every namespace (namespaceSelector: {}): narrow its namespaceSelector to the lawful-intercept namespace's own peers",
      },
      {
        kind: "NetworkPolicy",
        name: "synapse-li",
        message:
          "ingress rule 2 of NetworkPolicy synapse-li has no 'from' and admits every source, namespace platform included: list the allowed peers",
      },
    ],
  },
  {
    rule: "li-isolation",
    title: "LI namespace without default deny or keel.dev/intercepts",
    mutate: (o) => {
      remove(o, "NetworkPolicy", "default-deny", "platform-li");
      remove(o, "NetworkPolicy", "allow-dns", "platform-li"); // a DNS-only policy over every pod also denies egress
      delete find(o, "Namespace", "platform-li").metadata!.labels!["keel.dev/intercepts"];
    },
    expect: [
      {
        kind: "Namespace",
        name: "platform-li",
        message: "add label keel.dev/intercepts: <main namespace> to lawful-intercept namespace platform-li",
      },
      {
        kind: "Namespace",
        name: "platform-li",
        message:
          "add a default-deny NetworkPolicy for Ingress (podSelector: {}, no rules) to lawful-intercept namespace platform-li",
      },
      {
        kind: "Namespace",
        name: "platform-li",
        message:
          "add a default-deny NetworkPolicy for Egress (podSelector: {}, no rules) to lawful-intercept namespace platform-li",
      },
    ],
  },
  {
    rule: "li-isolation",
    title: "a default deny whose only egress rule allows DNS to kube-system still denies egress (issue #17)",
    mutate: (o) => {
      const dns = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } };
      spec(liDefaultDeny(o)).egress = [
        {
          to: [dns],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ];
    },
    expect: [],
  },
  {
    rule: "li-isolation",
    title: "a rule that also allows 443 out is reported even when the namespace denies egress by default",
    mutate: (o) => {
      spec(liDefaultDeny(o)).egress = [
        {
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 443 },
          ],
        },
      ];
    },
    expect: [
      {
        kind: "NetworkPolicy",
        name: "default-deny",
        message:
          "egress rule 0 of NetworkPolicy default-deny has no 'to' and allows any destination, the internet included: list in-cluster peers (namespaceSelector/podSelector) and DNS only",
      },
    ],
  },
  // ---- F17
  {
    rule: "capacity-fit",
    title: "96 vCPU of limits on 92 vCPU",
    base: matrixStack,
    mutate: () => undefined,
    config: { "capacity-fit": { clusterCpu: 92 } },
    expect: [
      {
        kind: "Stack",
        name: "",
        message:
          "CPU limits total 96 cores at max replicas, above cluster capacity 92 cores × overcommit 1 = 92 cores: lower limits or replicas, or add nodes (largest: Deployment matrix/synapse-worker 72 cores, StatefulSet matrix/postgres 24 cores)",
      },
    ],
  },
  {
    rule: "capacity-fit",
    title: "requests above capacity minus headroom, memory, HPA max replicas",
    base: matrixStack,
    mutate: (o) => {
      o.push({
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "synapse-worker", namespace: "matrix" },
        spec: {
          scaleTargetRef: { kind: "Deployment", name: "synapse-worker" },
          minReplicas: 18,
          maxReplicas: 30,
        },
      });
    },
    config: {
      "capacity-fit": { clusterCpu: "40", clusterMemory: "64Gi", headroomPercent: 20, limitOvercommit: 4 },
    },
    expect: [
      {
        kind: "Stack",
        name: "",
        message:
          "CPU requests total 42 cores at max replicas, above cluster capacity 40 cores minus 20% headroom = 32 cores: lower requests or replicas, or add nodes (largest: Deployment matrix/synapse-worker 30 cores, StatefulSet matrix/postgres 12 cores)",
      },
    ],
  },
  // ---- F14
  {
    rule: "postgres-memory",
    title: "shared_buffers=2GB on 4Gi, effective_cache_size=6GB, work_mem 16MB × 200",
    mutate: (o) => {
      const c = container(find(o, "StatefulSet", "postgres"));
      c.args = [
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=2GB",
        "-c",
        "effective_cache_size=6GB",
        "-c",
        "work_mem=16MB",
      ];
      c.resources!.limits!.memory = "4Gi";
    },
    expect: [
      {
        kind: "StatefulSet",
        name: "postgres",
        message:
          "shared_buffers 2Gi of container 'postgres' is 50% of its 4Gi memory limit: set shared_buffers ≤ 1Gi (25%)",
      },
      {
        kind: "StatefulSet",
        name: "postgres",
        message:
          "effective_cache_size 6Gi of container 'postgres' exceeds 75% of its 4Gi memory limit: set it ≤ 3Gi",
      },
      {
        kind: "StatefulSet",
        name: "postgres",
        message:
          "work_mem 16Mi × max_connections 200 + shared_buffers 2Gi = 5.13Gi exceeds the 4Gi memory limit of container 'postgres': lower work_mem or max_connections (use a pooler), or raise the limit",
      },
    ],
  },
  {
    rule: "postgres-memory",
    title: "settings read from a mounted postgresql.conf ConfigMap",
    mutate: (o) => {
      const sts = find(o, "StatefulSet", "postgres");
      const c = container(sts);
      delete c.args;
      c.volumeMounts!.push({ name: "config", mountPath: "/etc/postgresql" });
      pod(sts).volumes!.push({ name: "config", configMap: { name: "postgres-config" } });
      o.push({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "postgres-config", namespace: "platform" },
        data: {
          "postgresql.conf":
            "max_connections = 100\nshared_buffers = 1GB   # too much for 2Gi\neffective_cache_size = '1536MB'\n",
        },
      });
    },
    expect: [
      {
        kind: "StatefulSet",
        name: "postgres",
        message:
          "shared_buffers 1Gi of container 'postgres' is 50% of its 2Gi memory limit: set shared_buffers ≤ 512Mi (25%)",
      },
    ],
  },
  // Issue #17: PostgreSQL's own defaults overflowing a small limit are advisory; explicit settings stay mandatory.
  {
    rule: "postgres-memory",
    title:
      "nothing set on a 256Mi limit: the defaults overflow, advisory; an explicit max_connections=300 on 1Gi is mandatory",
    mutate: (o) => {
      const sts = find(o, "StatefulSet", "postgres");
      delete container(sts).args;
      container(sts).resources!.limits!.memory = "256Mi";
      const other = JSON.parse(JSON.stringify(sts)) as K8sObject;
      other.metadata!.name = "postgres-busy";
      container(other).args = ["-c", "max_connections=300"];
      container(other).resources!.limits!.memory = "1Gi";
      o.push(other);
    },
    expect: [
      {
        kind: "StatefulSet",
        name: "postgres",
        level: "advisory",
        message:
          "PostgreSQL's default shared_buffers 128Mi is 50% of the 256Mi memory limit of container 'postgres': set shared_buffers explicitly to at most 64Mi (25%), or raise the limit",
      },
      {
        kind: "StatefulSet",
        name: "postgres",
        level: "advisory",
        message:
          "PostgreSQL's defaults work_mem 4Mi × max_connections 100 + shared_buffers 128Mi = 528Mi exceed the 256Mi memory limit of container 'postgres': set work_mem, max_connections and shared_buffers explicitly so that they fit, or raise the limit",
      },
      {
        kind: "StatefulSet",
        name: "postgres-busy",
        message:
          "work_mem 4Mi × max_connections 300 + shared_buffers 128Mi = 1.3Gi exceeds the 1Gi memory limit of container 'postgres': lower work_mem or max_connections (use a pooler), or raise the limit",
      },
    ],
  },
  // ---- F15
  {
    rule: "elasticsearch-heap",
    title: "-Xms2g -Xmx4g on a 6Gi limit",
    mutate: (o) => {
      const c = container(find(o, "StatefulSet", "elasticsearch"));
      c.env![0]!.value = "-Xms2g -Xmx4g";
      c.resources!.limits!.memory = "6Gi";
    },
    expect: [
      {
        kind: "StatefulSet",
        name: "elasticsearch",
        message:
          "JVM heap -Xmx4g of container 'elasticsearch' exceeds 50% of its 6Gi memory limit: set -Xms and -Xmx to at most 3Gi or raise the limit to 8Gi",
      },
      {
        kind: "StatefulSet",
        name: "elasticsearch",
        message:
          "ES_JAVA_OPTS of container 'elasticsearch' sets -Xms2g and -Xmx4g: set both to the same size",
      },
    ],
  },
  // Found by the independent manifest sets: the heap set the Bitnami way, or in a jvm.options.d file.
  {
    rule: "elasticsearch-heap",
    title: "Bitnami ELASTICSEARCH_HEAP_SIZE 4g on a 6Gi limit",
    mutate: (o) => {
      const c = container(find(o, "StatefulSet", "elasticsearch"));
      c.env = c.env!.filter((e) => e.name !== "ES_JAVA_OPTS");
      c.env.push({ name: "ELASTICSEARCH_HEAP_SIZE", value: "4g" });
      c.resources!.limits!.memory = "6Gi";
    },
    expect: [
      {
        kind: "StatefulSet",
        name: "elasticsearch",
        message:
          "JVM heap -Xmx4g of container 'elasticsearch' exceeds 50% of its 6Gi memory limit: set -Xms and -Xmx to at most 3Gi or raise the limit to 8Gi",
      },
    ],
  },
  {
    rule: "elasticsearch-heap",
    title: "-Xms1g/-Xmx3g in a mounted jvm.options.d file on a 4Gi limit; ES_JAVA_OPTS would win over it",
    mutate: (o) => {
      const sts = find(o, "StatefulSet", "elasticsearch");
      const c = container(sts);
      c.env = c.env!.filter((e) => e.name !== "ES_JAVA_OPTS");
      c.resources!.limits!.memory = "4Gi";
      c.volumeMounts = [
        ...(c.volumeMounts ?? []),
        { name: "jvm-options", mountPath: "/usr/share/elasticsearch/config/jvm.options.d" },
      ];
      pod(sts).volumes = [
        ...(pod(sts).volumes ?? []),
        { name: "jvm-options", configMap: { name: "es-jvm" } },
      ];
      o.push({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "es-jvm", namespace: "platform" },
        data: { "heap.options": "# heap\n-Xms1g\n-Xmx3g\n" },
      });
      const other = JSON.parse(JSON.stringify(sts)) as K8sObject;
      other.metadata!.name = "elasticsearch-b";
      container(other).env!.push({ name: "ES_JAVA_OPTS", value: "-Xms2g -Xmx2g" });
      o.push(other);
    },
    expect: [
      {
        kind: "StatefulSet",
        name: "elasticsearch",
        message:
          "JVM heap -Xmx3g of container 'elasticsearch' exceeds 50% of its 4Gi memory limit: set -Xms and -Xmx to at most 2Gi or raise the limit to 6Gi",
      },
      {
        kind: "StatefulSet",
        name: "elasticsearch",
        message:
          "heap.options (ConfigMap es-jvm) of container 'elasticsearch' sets -Xms1g and -Xmx3g: set both to the same size",
      },
    ],
  },
  // ---- F18
  {
    rule: "redis-maxmemory",
    title: "maxmemory 1gb on a 1Gi limit",
    mutate: (o) => {
      container(find(o, "Deployment", "redis")).args = [
        "--maxmemory",
        "1gb",
        "--maxmemory-policy",
        "allkeys-lru",
      ];
    },
    expect: [
      {
        kind: "Deployment",
        name: "redis",
        message:
          "maxmemory 1gb of container 'redis' is 100% of its 1Gi memory limit: set it to at most 819.2Mi (80%) or raise the limit",
      },
    ],
  },
  {
    rule: "redis-maxmemory",
    title: "no maxmemory at all; redis.conf in a ConfigMap",
    mutate: (o) => {
      delete container(find(o, "Deployment", "redis")).args;
      const other = JSON.parse(JSON.stringify(find(o, "Deployment", "redis"))) as K8sObject;
      other.metadata!.name = "cache";
      container(other).args = ["redis-server", "/etc/redis/redis.conf"];
      container(other).volumeMounts = [{ name: "conf", mountPath: "/etc/redis" }];
      pod(other).volumes = [{ name: "conf", configMap: { name: "cache-conf" } }];
      o.push(other, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "cache-conf", namespace: "platform" },
        data: { "redis.conf": "maxmemory 2gb\nmaxmemory-policy allkeys-lru\n" },
      });
    },
    expect: [
      {
        kind: "Deployment",
        name: "redis",
        message:
          "set --maxmemory on container 'redis' to at most 819.2Mi (80% of its 1Gi memory limit) with a maxmemory-policy",
      },
      {
        kind: "Deployment",
        name: "cache",
        message:
          "maxmemory 2gb of container 'redis' is 200% of its 1Gi memory limit: set it to at most 819.2Mi (80%) or raise the limit",
      },
    ],
  },
  // Issue #17: Sentinel stores no data; a redis.conf an init container copies into a shared emptyDir is read.
  {
    rule: "redis-maxmemory",
    title: "Sentinel containers (redis-sentinel, --sentinel, sentinel.conf, port 26379) need no maxmemory",
    mutate: (o) => {
      const base = find(o, "Deployment", "redis");
      const variants: Array<(c: Container) => void> = [
        (c) => {
          c.command = ["redis-sentinel", "/etc/redis/sentinel.conf"];
          delete c.args;
        },
        (c) => {
          c.command = ["redis-server"];
          c.args = ["/data/conf/sentinel.conf", "--sentinel"];
        },
        (c) => {
          c.command = ["sh", "-c", "exec redis-server /etc/sentinel/sentinel.conf"];
          delete c.args;
        },
        (c) => {
          delete c.args;
          c.ports = [{ name: "sentinel", containerPort: 26379 }];
        },
      ];
      variants.forEach((vary, i) => {
        const sentinel = JSON.parse(JSON.stringify(base)) as K8sObject;
        sentinel.metadata!.name = `sentinel-${i}`;
        vary(container(sentinel));
        o.push(sentinel);
      });
      delete container(base).args;
    },
    expect: [
      {
        kind: "Deployment",
        name: "redis",
        message:
          "set --maxmemory on container 'redis' to at most 819.2Mi (80% of its 1Gi memory limit) with a maxmemory-policy",
      },
    ],
  },
  {
    rule: "redis-maxmemory",
    title: "redis.conf copied by an init container into a shared emptyDir: its maxmemory is read and checked",
    mutate: (o) => {
      const base = find(o, "Deployment", "redis");
      const make = (name: string, maxmemory: string): K8sObject => {
        const d = JSON.parse(JSON.stringify(base)) as K8sObject;
        d.metadata!.name = name;
        const c = container(d);
        c.args = ["redis-server", "/etc/redis/redis.conf"];
        c.volumeMounts = [{ name: "config", mountPath: "/etc/redis" }];
        pod(d).initContainers = [
          {
            name: "config",
            image: c.image,
            command: ["sh", "-c", "cp /conf-src/redis.conf /etc/redis/redis.conf"],
            volumeMounts: [
              { name: "config-src", mountPath: "/conf-src" },
              { name: "config", mountPath: "/etc/redis" },
            ],
          },
        ];
        pod(d).volumes = [
          { name: "config-src", configMap: { name: `${name}-conf` } },
          { name: "config", emptyDir: {} },
        ];
        o.push(d, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `${name}-conf`, namespace: "platform" },
          data: { "redis.conf": `maxmemory ${maxmemory}\nmaxmemory-policy allkeys-lru\n` },
        });
        return d;
      };
      make("copied-ok", "512mb");
      make("copied-big", "1gb");
    },
    expect: [
      {
        kind: "Deployment",
        name: "copied-big",
        message:
          "maxmemory 1gb of container 'redis' is 100% of its 1Gi memory limit: set it to at most 819.2Mi (80%) or raise the limit",
      },
    ],
  },
  // ---- F16
  {
    rule: "db-connection-budget",
    title: "pools × max replicas above max_connections − reserve",
    mutate: (o) => {
      annotations(find(o, "Deployment", "api"))["keel.dev/db-pools"] = "platform/postgres=25";
    },
    expect: [
      {
        kind: "StatefulSet",
        name: "postgres",
        message:
          "connection pools need 130 connections at max replicas (Deployment api 25 × 4, Deployment worker 5 × 6) but database 'platform/postgres' allows 100 − 5 reserved = 95: lower pool sizes or max replicas, raise max_connections, or put a pooler (PgBouncer) in front",
      },
    ],
  },
  {
    rule: "db-connection-budget",
    title: "malformed annotation and unknown database",
    mutate: (o) => {
      annotations(find(o, "Deployment", "api"))["keel.dev/db-pools"] = "platform/postgres:10";
      annotations(find(o, "Deployment", "worker"))["keel.dev/db-pools"] = "platform/mysql=5";
    },
    expect: [
      {
        kind: "Deployment",
        name: "api",
        message:
          "write annotation keel.dev/db-pools as \"<db-id>=<per-pod pool>[,<db-id>=<n>]\" (it is 'platform/postgres:10')",
      },
      {
        kind: "Deployment",
        name: "worker",
        level: "advisory",
        message:
          "keel.dev/db-pools names database 'platform/mysql' but no workload is annotated keel.dev/database: platform/mysql",
      },
    ],
  },
  // ---- F20
  {
    rule: "backup-retention",
    title: "backup without retention; database without backup; heuristic database",
    mutate: (o) => {
      delete annotations(find(o, "CronJob", "postgres-backup"))["keel.dev/backup-retention"];
      remove(o, "CronJob", "elasticsearch-snapshot");
      const mongo = JSON.parse(JSON.stringify(find(o, "Deployment", "redis"))) as K8sObject;
      mongo.metadata!.name = "mongo";
      container(mongo).image = "registry.keel.internal/mongo:7.0.14";
      o.push(mongo);
    },
    expect: [
      {
        kind: "CronJob",
        name: "postgres-backup",
        message:
          "set annotation keel.dev/backup-retention to the number of backups kept (integer ≥ 1; it is unset) and make the job delete older ones",
      },
      {
        kind: "StatefulSet",
        name: "elasticsearch",
        message:
          "no backup CronJob for database 'platform/elasticsearch': add a CronJob annotated keel.dev/backup-of: platform/elasticsearch and keel.dev/backup-retention: \"<n ≥ 1>\"",
      },
      {
        kind: "Deployment",
        name: "mongo",
        message:
          "no backup CronJob for database 'platform/mongo': add a CronJob annotated keel.dev/backup-of: platform/mongo and keel.dev/backup-retention: \"<n ≥ 1>\" (or annotate the workload keel.dev/database with its id)",
      },
    ],
  },
  // Found by the independent manifest sets: a Bitnami-style pg_dumpall CronJob with no retention, and a read replica.
  {
    rule: "backup-retention",
    title:
      "an unannotated dump CronJob declares no retention; a streaming read replica needs no backup of its own",
    mutate: (o) => {
      const dump = JSON.parse(JSON.stringify(find(o, "CronJob", "postgres-backup"))) as K8sObject;
      dump.metadata = { name: "postgresql-pgdumpall", namespace: "platform" };
      container(dump).command = [
        "/bin/sh",
        "-c",
        "pg_dumpall --clean --if-exists --file=${PGDUMP_DIR}/pg_dumpall-$(date '+%Y-%m-%d-%H-%M').pgdump",
      ];
      const replica = JSON.parse(JSON.stringify(find(o, "StatefulSet", "postgres"))) as K8sObject;
      replica.metadata = { name: "postgres-read", namespace: "platform" };
      container(replica).env = [
        { name: "POSTGRESQL_REPLICATION_MODE", value: "slave" },
        { name: "POSTGRESQL_MASTER_HOST", value: "postgres" },
      ];
      o.push(dump, replica);
    },
    expect: [
      {
        kind: "CronJob",
        name: "postgresql-pgdumpall",
        message:
          'the CronJob backs up a database with pg_dumpall but declares no retention: make it delete all but the newest N backups and annotate it keel.dev/backup-of: <database id> and keel.dev/backup-retention: "<N ≥ 1>"',
      },
    ],
  },
  // ---- F21
  {
    rule: "acme-air-gapped",
    title: "Let's Encrypt issuer and an Ingress asking for it",
    mutate: (o) => {
      o.push({
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: "letsencrypt-prod" },
        spec: { acme: { server: "https://acme-v02.api.letsencrypt.org/directory", solvers: [] } },
      });
      annotations(find(o, "Ingress", "api"))["cert-manager.io/cluster-issuer"] = "letsencrypt-prod";
    },
    expect: [
      {
        kind: "ClusterIssuer",
        name: "letsencrypt-prod",
        message:
          "ClusterIssuer uses ACME (https://acme-v02.api.letsencrypt.org/directory), which needs the internet: use a cert-manager ca or selfSigned issuer (spec.ca.secretName) in the air-gapped stack",
      },
      {
        kind: "Ingress",
        name: "api",
        message:
          "annotation cert-manager.io/cluster-issuer: letsencrypt-prod requests an ACME certificate in an air-gapped stack: point it to the internal CA issuer",
      },
    ],
  },
  {
    rule: "acme-air-gapped",
    title: "ACME is fine when the stack is not air-gapped",
    mutate: (o) => {
      o.push({
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: "letsencrypt-prod" },
        spec: { acme: { server: "https://acme-v02.api.letsencrypt.org/directory" } },
      });
    },
    config: { ...hardenedConfig, "acme-air-gapped": { airGapped: false } },
    expect: [],
  },
];
