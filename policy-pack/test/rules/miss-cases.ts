import type { K8sObject } from "../../src/core/k8s";
import { find } from "../helpers";
import type { RuleCase } from "./cases";

/** Cases for the misses of issue #17: key material, CR storage classes, unlabelled LI, placeholders, selectors. */

/** Deterministic bytes that look random (a linear congruential generator), so no case depends on chance. */
function noise(length: number, seed: number): number[] {
  const bytes: number[] = [];
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    bytes.push((x >> 16) & 0xff);
  }
  return bytes;
}

const b64 = (bytes: number[] | string): string => Buffer.from(bytes as never).toString("base64");
const wrap = (text: string): string => `${text.match(/.{1,64}/g)!.join("\n")}\n`;
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const FIX = "move it to a Secret and reference it with secretKeyRef or a secret volume";
const CERT =
  "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xvdWQgQ0EgZm9yIHRlc3Rz\n-----END CERTIFICATE-----\n";
const configMap = (name: string, namespace: string, fields: Record<string, unknown>): K8sObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace },
  ...fields,
});
const secret = (name: string, fields: Record<string, unknown>): K8sObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: "platform" },
  type: "Opaque",
  ...fields,
});
const deployment = (name: string, namespace: string, labels: Record<string, string>): K8sObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace, labels },
  spec: {
    replicas: 1,
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: { containers: [{ name, image: "registry.keel.internal/x:1.0.0" }] },
    },
  },
});

export const MISS_CASES: RuleCase[] = [
  // ---- key material that is neither PEM nor a DSN
  {
    rule: "configmap-secret",
    title:
      "a git-crypt key base64-wrapped in data is reported; an image, a font, a CA bundle and base64 text are not",
    mutate: (o) => {
      const cm = find(o, "ConfigMap", "api-config");
      (cm.data as Record<string, string>)["git-crypt.key"] = wrap(
        b64([0, ...ascii("GITCRYPTKEY"), ...noise(136, 7)]),
      );
      (cm.data as Record<string, string>)["ca-bundle.b64"] = wrap(b64(CERT + CERT));
      cm.binaryData = {
        "logo.png": b64([0x89, ...ascii("PNG\r\n\x1a\n"), ...noise(300, 3)]),
        "font.woff2": b64([...ascii("wOF2"), ...noise(500, 5)]),
        "ca.crt": b64(CERT),
      };
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        message: `data.git-crypt.key holds base64-encoded binary data that looks like key material (a git-crypt key): ${FIX}`,
      },
    ],
  },
  {
    rule: "configmap-secret",
    title:
      "binaryData: a DER private key, random bytes under any name and a key-named blob are key material; a DER certificate is not",
    mutate: (o) => {
      find(o, "ConfigMap", "api-config").binaryData = {
        "tls.der": b64([0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, ...noise(200, 11)]),
        "ca.der": b64([0x30, 0x82, 0x03, 0x10, 0x30, 0x82, 0x02, 0x78, ...noise(200, 13)]),
        blob: b64(noise(64, 17)),
        "signing.key": b64([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 0, 0, 0, 0]),
        "table.bin": b64([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 0, 0, 0, 0]),
      };
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        message: `binaryData.tls.der holds binary data that looks like key material (a DER private key): ${FIX}`,
      },
      {
        kind: "ConfigMap",
        name: "api-config",
        message: `binaryData.blob holds binary data that looks like key material: ${FIX}`,
      },
      {
        kind: "ConfigMap",
        name: "api-config",
        message: `binaryData.signing.key holds binary data that looks like key material: ${FIX}`,
      },
    ],
  },
  {
    rule: "configmap-secret",
    title: "a base64-encoded PEM private key in data",
    mutate: (o) => {
      (find(o, "ConfigMap", "api-config").data as Record<string, string>)["deploy.b64"] = b64(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
      );
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        message: `data.deploy.b64 holds a base64-encoded PEM private key: ${FIX}`,
      },
    ],
  },
  {
    rule: "configmap-secret",
    title: "base64 user:password is a credential; a base64 word or sentence that is not is judged as text",
    mutate: (o) => {
      const data = find(o, "ConfigMap", "api-config").data as Record<string, string>;
      data.BASIC_AUTH_B64 = b64("grafana:Sup3r-S3cret-Pa55");
      data.GREETING_B64 = b64("Welcome to the team chat, please be kind");
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        message: `data.BASIC_AUTH_B64 holds base64-encoded credentials (user:password): ${FIX}`,
      },
    ],
  },
  // ---- storageClassName "" inside custom resources
  {
    rule: "pvc-storage-class",
    title:
      'storageClass "" in a CloudNativePG Cluster and storageClassName "" in a MinIO Tenant pool; set classes pass',
    mutate: (o) => {
      o.push({
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: { name: "pg", namespace: "platform" },
        spec: {
          instances: 3,
          storage: { size: "50Gi", storageClass: "" },
          walStorage: { size: "10Gi", storageClass: "fast-ssd" },
        },
      });
      o.push({
        apiVersion: "minio.min.io/v2",
        kind: "Tenant",
        metadata: { name: "media", namespace: "platform" },
        spec: {
          pools: [
            { servers: 4, volumeClaimTemplate: { spec: { storageClassName: "fast-ssd" } } },
            { servers: 4, volumeClaimTemplate: { spec: { storageClassName: " " } } },
          ],
        },
      });
      // A static PersistentVolume has no class on purpose; built-in kinds other than claims are not searched.
      o.push({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: "nfs" },
        spec: { storageClassName: "", capacity: { storage: "1Ti" } },
      });
    },
    expect: [
      {
        kind: "Cluster",
        name: "pg",
        message:
          'set spec.storage.storageClass to fast-ssd or slow-hdd: "" disables dynamic provisioning and the claims the operator creates stay Pending',
      },
      {
        kind: "Tenant",
        name: "media",
        message:
          'set spec.pools[1].volumeClaimTemplate.spec.storageClassName to fast-ssd or slow-hdd: "" disables dynamic provisioning and the claims the operator creates stay Pending',
      },
    ],
  },
  // ---- lawful intercept without keel's labels
  {
    rule: "li-isolation",
    title:
      "LI workloads in the platform's namespace without a NetworkPolicy, an LI namespace named by a label; livekit and redis-cli are not LI",
    mutate: (o) => {
      o.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: "chat" } });
      o.push(deployment("synapse", "chat", { app: "synapse" }));
      o.push(deployment("livekit", "chat", { app: "livekit" }));
      o.push(deployment("redis-cli", "chat", { app: "redis-cli", component: "client" }));
      o.push(deployment("synapse-li", "chat", { app: "synapse-li" }));
      o.push(deployment("key-vault", "chat", { app: "key-vault", "app.kubernetes.io/component": "li" }));
      o.push({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "interception", labels: { purpose: "lawful-intercept" } },
      });
    },
    expect: [
      {
        kind: "Deployment",
        name: "synapse-li",
        message:
          "Deployment synapse-li looks like a lawful-intercept workload (name 'synapse-li', label app: synapse-li) but shares namespace chat with the platform it intercepts (synapse, livekit, redis-cli): move it to its own namespace labelled keel.dev/lawful-intercept: \"true\" and keel.dev/intercepts: chat",
      },
      {
        kind: "Deployment",
        name: "synapse-li",
        message:
          "no NetworkPolicy in namespace chat selects the pods of lawful-intercept Deployment synapse-li: isolate them (deny by default, no ingress from the intercepted platform, no internet egress)",
      },
      {
        kind: "Deployment",
        name: "key-vault",
        message:
          'Deployment key-vault looks like a lawful-intercept workload (label app.kubernetes.io/component: li) but shares namespace chat with the platform it intercepts (synapse, livekit, redis-cli): move it to its own namespace labelled keel.dev/lawful-intercept: "true" and keel.dev/intercepts: chat',
      },
      {
        kind: "Deployment",
        name: "key-vault",
        message:
          "no NetworkPolicy in namespace chat selects the pods of lawful-intercept Deployment key-vault: isolate them (deny by default, no ingress from the intercepted platform, no internet egress)",
      },
      {
        kind: "Namespace",
        name: "interception",
        message:
          'namespace interception looks like a lawful-intercept namespace (label purpose: lawful-intercept): label it keel.dev/lawful-intercept: "true" and keel.dev/intercepts: <main namespace> so its isolation is checked',
      },
      {
        kind: "Namespace",
        name: "interception",
        message:
          "add a default-deny NetworkPolicy for Ingress (podSelector: {}, no rules) to lawful-intercept namespace interception",
      },
      {
        kind: "Namespace",
        name: "interception",
        message:
          "add a default-deny NetworkPolicy for Egress (podSelector: {}, no rules) to lawful-intercept namespace interception",
      },
    ],
  },
  {
    rule: "li-isolation",
    title: "an LI workload alone in an unlabelled namespace, selected by a NetworkPolicy",
    mutate: (o) => {
      o.push(deployment("element-web-li", "li-web", { app: "element-web-li" }));
      o.push({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "deny", namespace: "li-web" },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      });
    },
    expect: [
      {
        kind: "Deployment",
        name: "element-web-li",
        message:
          "Deployment element-web-li looks like a lawful-intercept workload (name 'element-web-li', label app: element-web-li) but namespace li-web is not labelled keel.dev/lawful-intercept: \"true\": label it (with keel.dev/intercepts: <main namespace>) so its isolation is checked",
      },
    ],
  },
  // ---- placeholders left in ConfigMaps and Secrets
  {
    rule: "placeholder-value",
    title:
      "CHANGE_ME, CHANGE_TO_*, <your-...>, REPLACE_* and changeme in ConfigMaps and Secrets; a comment-only haproxy.cfg",
    mutate: (o) => {
      const data = find(o, "ConfigMap", "api-config").data as Record<string, string>;
      data["homeserver.yaml"] = "server_name: <your-domain>\nmacaroon_secret_key: CHANGE_TO_RANDOM_STRING\n";
      data.ADMIN_EMAIL = "CHANGE_ME";
      o.push(
        configMap("haproxy-config", "platform", {
          data: {
            "haproxy.cfg":
              "# This will be populated from deployment/config/haproxy.cfg\n# Use: kubectl create configmap haproxy-config --from-file=haproxy.cfg\n",
          },
        }),
      );
      o.push(
        secret("s3", {
          stringData: { accessKey: "REPLACE_WITH_ACCESS_KEY" },
          data: { secretKey: b64("changeme") },
        }),
      );
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        message:
          "data.homeserver.yaml holds placeholders '<your-domain>' (line 1), 'CHANGE_TO_RANDOM_STRING' (line 2): replace them with the real values before deploying (credentials from a Secret)",
      },
      {
        kind: "ConfigMap",
        name: "api-config",
        message:
          "data.ADMIN_EMAIL holds the placeholder 'CHANGE_ME': replace it with the real value before deploying (a credential from a Secret)",
      },
      {
        kind: "ConfigMap",
        name: "haproxy-config",
        message:
          "data.haproxy.cfg holds only comments, so the file mounted from it is empty: embed the real configuration (or remove the entry)",
      },
      {
        kind: "Secret",
        name: "s3",
        message:
          "stringData.accessKey holds the placeholder 'REPLACE_WITH_ACCESS_KEY': replace it with the real value before deploying (a credential from a Secret)",
      },
      {
        kind: "Secret",
        name: "s3",
        message:
          "data.secretKey holds the placeholder 'changeme': replace it with the real value before deploying (a credential from a Secret)",
      },
    ],
  },
  {
    rule: "placeholder-value",
    title:
      "ordinary words are not placeholders; a comment-only drop-in that says nothing about later is advisory",
    mutate: (o) => {
      const data = find(o, "ConfigMap", "api-config").data as Record<string, string>;
      data["nginx.conf"] = "location / {\n  sub_filter 'http://' 'https://';  # replace links\n}\n";
      data["notes"] = "See CHANGELOG.md; to replace a node, drain it first. Exchange_Mode: fast";
      data["overrides.conf"] = "# no local overrides\n";
      o.push(secret("tls-ref", { data: { "tls.crt": b64(CERT) } }));
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "api-config",
        level: "advisory",
        message:
          "data.overrides.conf holds only comments, so the file mounted from it is empty: embed the real configuration (or remove the entry)",
      },
    ],
  },
  {
    rule: "placeholder-value",
    title:
      "a template whose tokens the ConfigMap's own entrypoint substitutes at run time is not a placeholder",
    mutate: (o) => {
      o.push(
        configMap("web-template", "platform", {
          data: {
            "config.json.tpl": '{ "server": "REPLACE_SERVER_NAME", "brand": "Chat" }\n',
            "entrypoint.sh":
              '#!/bin/sh\nsed "s/REPLACE_SERVER_NAME/$SERVER_NAME/" /tpl/config.json.tpl > /app/config.json\nexec nginx\n',
            "other.json": '{ "admin": "CHANGE_ME" }\n',
          },
        }),
      );
    },
    expect: [
      {
        kind: "ConfigMap",
        name: "web-template",
        message:
          "data.other.json holds the placeholder 'CHANGE_ME': replace it with the real value before deploying (a credential from a Secret)",
      },
    ],
  },
  // ---- selectors that match no pod
  {
    rule: "selector-matches-pods",
    title:
      "a PDB in another namespace than its pods (seed 003's coturn); a Service and a NetworkPolicy matching nothing, next to an unrelated custom resource",
    mutate: (o) => {
      o.push({
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: { name: "pg", namespace: "platform" },
        spec: { instances: 2 },
      });
      o.push({
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "coturn", namespace: "platform" },
        spec: { maxUnavailable: 1, selector: { matchLabels: { app: "coturn" } } },
      });
      o.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "livekit", namespace: "platform" },
        spec: { selector: { app: "livekit" }, ports: [{ port: 7880 }] },
      });
      o.push({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "workers", namespace: "platform" },
        spec: {
          podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["queue-worker"] }] },
          policyTypes: ["Ingress"],
        },
      });
      // Not checked: a Service without a selector (its Endpoints are managed by hand) and an ExternalName Service.
      o.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "external-db", namespace: "platform" },
        spec: { ports: [{ port: 5432 }] },
      });
      o.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "mail", namespace: "platform" },
        spec: { type: "ExternalName", externalName: "smtp.example.org", selector: { app: "mail" } },
      });
    },
    expect: [
      {
        kind: "PodDisruptionBudget",
        name: "coturn",
        message:
          "PodDisruptionBudget coturn selects {app: coturn}, which matches no pod in namespace platform but DaemonSet coturn in namespace turn: move the PodDisruptionBudget to namespace turn",
      },
      {
        kind: "Service",
        name: "livekit",
        message:
          "Service livekit selects {app: livekit}, which matches no pod in namespace platform: change its selector to the pod labels of the workload it is meant for",
      },
      {
        kind: "NetworkPolicy",
        name: "workers",
        message:
          "NetworkPolicy workers selects its matchExpressions, which matches no pod in namespace platform: change its selector to the pod labels of the workload it is meant for",
      },
    ],
  },
  {
    rule: "selector-matches-pods",
    title: "pods an operator makes from a custom resource, or a namespace without workloads: advisory",
    mutate: (o) => {
      o.push({
        apiVersion: "stunner.l7mp.io/v1",
        kind: "Gateway",
        metadata: { name: "udp", namespace: "rtc" },
        spec: {},
      });
      o.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "stunner", namespace: "rtc" },
        spec: { selector: { app: "stunner" }, ports: [{ port: 3478 }] },
      });
      o.push({
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "web", namespace: "web" },
        spec: { minAvailable: 1, selector: { matchLabels: { app: "web" } } },
      });
    },
    expect: [
      {
        kind: "Service",
        name: "stunner",
        level: "advisory",
        message:
          "Service stunner selects {app: stunner}, which matches no pod in namespace rtc (pods made by an operator from Gateway udp may match): check its labels against the operator's pods",
      },
      {
        kind: "PodDisruptionBudget",
        name: "web",
        level: "advisory",
        message:
          "PodDisruptionBudget web selects {app: web}, which matches no pod in namespace web, which has no workloads in these manifests: check its labels, or audit it with the manifests of its pods",
      },
    ],
  },
];
