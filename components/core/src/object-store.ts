import { ValidationError, throwIfInvalid } from "./errors";
import { ImageResolver } from "./images";
import { NetworkPeer } from "./network";
import { ResourceSpec } from "./resources";
import { GeneratedSecret } from "./secrets";
import { Workload } from "./workload";
import * as pulumi from "@pulumi/pulumi";
import { ObjectStoreBackend, objectStoreBackends, s3Backends } from "./object-store-backends";

export interface ObjectStoreArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** Which S3 server runs behind the store. @default "rustfs" */
  backend?: ObjectStoreBackend;
  images: ImageResolver;
  resources: ResourceSpec;
  /** Storage class of the data volume. */
  storageClass: string;
  /** @default "100Gi" */
  storageSize?: string;
  /** The Service name clients use. @default "s3" */
  appName?: string;
  /** Who may connect. @default [] */
  allowFrom?: NetworkPeer[];
  /** @default false */
  protect?: boolean;
  /** Bump to rotate the keys. @default 0 */
  rotation?: number;
  /** A node maintenance window: the single pod's budget lets drains evict it. @default false */
  maintenance?: boolean;
}

export function validateObjectStoreArgs(args: ObjectStoreArgs): ValidationError[] {
  const backend = args.backend ?? "rustfs";
  if (!objectStoreBackends.includes(backend)) {
    return [
      new ValidationError("backend", `must be one of ${objectStoreBackends.join(", ")}, got "${backend}"`),
    ];
  }
  if (!args.storageClass?.trim()) return [new ValidationError("storageClass", "must name a storage class")];
  return [];
}

/**
 * One S3-compatible object store whatever the server: clients get an endpoint and a generated key pair;
 * the backend (RustFS, Versity S3 Gateway) is a small adapter.
 */
export class ObjectStore extends pulumi.ComponentResource {
  /** `http://<service>:<port>` inside the namespace. */
  readonly endpoint: pulumi.Output<string>;
  readonly port: number;
  readonly credentials: GeneratedSecret;

  constructor(name: string, args: ObjectStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    // Moved from @keel/osint so Matrix media shares it; the alias keeps existing stacks' URNs.
    super(
      "keel:core:ObjectStore",
      name,
      {},
      {
        ...opts,
        aliases: [{ type: "keel:osint:ObjectStore" }, ...(opts?.aliases ?? [])],
      },
    );
    throwIfInvalid(validateObjectStoreArgs(args));
    const app = args.appName ?? "s3";
    const backend = s3Backends[args.backend ?? "rustfs"];
    this.port = backend.port;

    this.credentials = new GeneratedSecret(
      `${name}-credentials`,
      {
        namespace: args.namespace,
        secretName: `${app}-credentials`,
        generate: { "access-key": { length: 20 }, "secret-key": { length: 40 } },
        rotation: args.rotation,
      },
      { parent: this },
    );

    const server = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: app,
        partOf: args.partOf,
        kind: "StatefulSet",
        image: args.images.image(backend.image),
        command: backend.command,
        args: backend.args,
        resources: args.resources,
        probes: backend.probes,
        bootSeconds: 30,
        ports: [{ name: "s3", port: backend.port }],
        env: backend.env,
        secretEnv: backend.secretEnv({
          accessKey: this.credentials.ref("access-key"),
          secretKey: this.credentials.ref("secret-key"),
        }),
        runAsUser: backend.runAsUser,
        persistentVolumes: [
          {
            name: "data",
            mountPath: "/data",
            size: args.storageSize ?? "100Gi",
            storageClass: args.storageClass,
          },
        ],
        scratchVolumes: backend.scratchVolumes,
        critical: true,
        maintenance: args.maintenance,
        terminationGracePeriodSeconds: 60,
        allowFrom: args.allowFrom,
      },
      { parent: this, protect: args.protect ?? false },
    );
    this.endpoint = pulumi.interpolate`http://${server.serviceName}:${backend.port}`;
    this.registerOutputs({ endpoint: this.endpoint, credentials: this.credentials.secretName });
  }

  accessKeyRef() {
    return this.credentials.ref("access-key");
  }

  secretKeyRef() {
    return this.credentials.ref("secret-key");
  }
}
