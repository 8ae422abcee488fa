import {
  GeneratedSecret,
  ResourceSpec,
  Workload,
  annotations as keys,
  appLabels,
  toK8sResources,
  toPolicyPeer,
} from "@keel/core";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { elasticsearchSetupScript } from "./elasticsearch-config";

/** What the one-shot setup job runs against. */
export interface ElasticsearchSetupArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  image: string;
  resources: ResourceSpec;
  /** The `elastic`, `kibana_system` and application passwords. */
  credentials: GeneratedSecret;
  /** The node it configures (the job starts after it). */
  server: Workload;
  /** A new rotation re-runs the job. */
  rotation: number;
}

/**
 * The setup job (and its network policy: Elasticsearch only): waits for the cluster, then sets the
 * `kibana_system` password and the application's role and user from the generated credentials.
 */
export function elasticsearchSetupJob(
  name: string,
  args: ElasticsearchSetupArgs,
  parent: pulumi.Resource,
): k8s.batch.v1.Job {
  const app = "elasticsearch-setup";
  const labels = appLabels(app, args.partOf);
  const meta = { name: app, namespace: args.namespace, labels };
  new k8s.networking.v1.NetworkPolicy(
    `${name}-setup-netpol`,
    {
      metadata: meta,
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": app } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [],
        egress: [{ to: [toPolicyPeer({ app: "elasticsearch" })], ports: [{ port: 9200, protocol: "TCP" }] }],
      },
    },
    { parent },
  );
  const secret = (key: string) => ({
    valueFrom: { secretKeyRef: { name: args.credentials.secretName, key } },
  });
  return new k8s.batch.v1.Job(
    `${name}-setup`,
    {
      metadata: meta,
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: 900,
        ttlSecondsAfterFinished: 7 * 24 * 3600,
        template: {
          // A new rotation re-runs the job (the template changes, so the Job is replaced).
          metadata: { labels, annotations: { [keys.secretRotation]: String(args.rotation) } },
          spec: {
            restartPolicy: "OnFailure",
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              runAsGroup: 1000,
              fsGroup: 1000,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "setup",
                image: args.image,
                command: ["bash", "-c", elasticsearchSetupScript()],
                env: [
                  { name: "ELASTIC_PASSWORD", ...secret("elastic-password") },
                  { name: "KIBANA_SYSTEM_PASSWORD", ...secret("kibana-system-password") },
                  { name: "OSINT_PASSWORD", ...secret("osint-password") },
                ],
                resources: toK8sResources(args.resources),
                securityContext: {
                  runAsNonRoot: true,
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  privileged: false,
                  capabilities: { drop: ["ALL"] },
                  seccompProfile: { type: "RuntimeDefault" },
                },
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
          },
        },
      },
    },
    { parent, dependsOn: [args.server] },
  );
}
