import { GeneratedSecret, NetworkPeer, ResourceSpec, SecretKeyRef, Workload, parseMemory } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";

export interface KibanaArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** Must be the Elasticsearch version (the catalog pins both to the same release). */
  image: string;
  resources: ResourceSpec;
  elasticsearchUrl: pulumi.Input<string>;
  /** The `kibana_system` password (set in Elasticsearch by its setup job). */
  password: SecretKeyRef;
  /** Public URL, e.g. `https://kibana.example.org`. */
  publicUrl: string;
  allowFrom?: NetworkPeer[];
  /** @default 0 */
  rotation?: number;
}

/** Node's old-space size for a memory limit: 60 %, the rest for buffers and native memory. */
export function kibanaHeapMb(memoryLimitBytes: number): number {
  return Math.floor((memoryLimitBytes / 1024 ** 2) * 0.6);
}

/** Kibana on the same version as Elasticsearch, authenticating as `kibana_system`, with generated encryption keys. */
export class Kibana extends pulumi.ComponentResource {
  readonly serviceName: pulumi.Output<string>;
  readonly port = 5601;
  readonly keys: GeneratedSecret;

  constructor(name: string, args: KibanaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:osint:Kibana", name, {}, opts);
    this.keys = new GeneratedSecret(
      `${name}-keys`,
      {
        namespace: args.namespace,
        secretName: "kibana-keys",
        generate: {
          "security-key": { length: 32 },
          "saved-objects-key": {
            length: 32,
            neverRotated:
              "Kibana encrypts saved objects (connector and rule secrets) with it in Elasticsearch; a new key " +
              "leaves them undecryptable",
          },
          "reporting-key": { length: 32 },
        },
        rotation: args.rotation,
      },
      { parent: this },
    );
    const status = { http: { path: "/api/status", port: this.port } };
    const workload = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: "kibana",
        partOf: args.partOf,
        image: args.image,
        resources: args.resources,
        bootSeconds: 180,
        probes: {
          startup: { ...status, periodSeconds: 10, failureThreshold: 24, timeoutSeconds: 5 },
          readiness: { ...status, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
          liveness: { tcp: { port: this.port }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
        },
        ports: [{ name: "http", port: this.port }],
        env: {
          ELASTICSEARCH_HOSTS: args.elasticsearchUrl,
          ELASTICSEARCH_USERNAME: "kibana_system",
          SERVER_PUBLICBASEURL: args.publicUrl,
          SERVER_HOST: "0.0.0.0",
          STATUS_ALLOWANONYMOUS: "true",
          PATH_DATA: "/var/lib/kibana",
          TELEMETRY_OPTIN: "false",
          NODE_OPTIONS: `--max-old-space-size=${kibanaHeapMb(parseMemory(args.resources.limits.memory))}`,
        },
        secretEnv: {
          ELASTICSEARCH_PASSWORD: args.password,
          XPACK_SECURITY_ENCRYPTIONKEY: this.keys.ref("security-key"),
          XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY: this.keys.ref("saved-objects-key"),
          XPACK_REPORTING_ENCRYPTIONKEY: this.keys.ref("reporting-key"),
        },
        runAsUser: 1000,
        scratchVolumes: [{ name: "state", mountPath: "/var/lib/kibana", sizeLimit: "128Mi" }],
        allowFrom: args.allowFrom,
        egressTo: [{ app: "elasticsearch", ports: [9200] }],
      },
      { parent: this },
    );
    this.serviceName = workload.serviceName;
    this.registerOutputs({ serviceName: this.serviceName });
  }
}
