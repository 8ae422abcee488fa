import { ConfigFiles, GeneratedSecret, NetworkPeer, ResourceSpec, Workload, parseMemory } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";

/** Settings OpenCTI needs from its broker: 512 MiB messages and a 24 h consumer acknowledgement timeout. */
export const openctiBrokerSettings = { maxMessageSize: 536870912, consumerTimeoutMs: 86400000 } as const;

/**
 * rabbitmq.conf, rendered in a fixed order (no false diffs). Credentials are not in it: the default user
 * and password come from RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS (a Secret).
 */
export function renderRabbitmqConf(memoryLimitBytes: number): string {
  const settings: [string, string | number][] = [
    ["listeners.tcp.default", 5672],
    ["management.tcp.port", 15672],
    ["prometheus.tcp.port", 15692],
    ["loopback_users.guest", "true"],
    ["log.console", "true"],
    ["log.console.level", "info"],
    ["log.file", "false"],
    ["total_memory_available_override_value", memoryLimitBytes],
    ["vm_memory_high_watermark.relative", "0.6"],
    ["disk_free_limit.absolute", "1GB"],
    ["max_message_size", openctiBrokerSettings.maxMessageSize],
    ["consumer_timeout", openctiBrokerSettings.consumerTimeoutMs],
  ];
  return ["# rendered by keel", ...settings.map(([k, v]) => `${k} = ${v}`)].join("\n") + "\n";
}

export interface RabbitMQArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  image: string;
  resources: ResourceSpec;
  storageClass: string;
  /** @default "10Gi" */
  storageSize?: string;
  /** The default (administrator) user. @default "osint" */
  user?: string;
  allowFrom?: NetworkPeer[];
  /** @default false */
  protect?: boolean;
  /** @default 0 */
  rotation?: number;
  /** A node maintenance window: the single pod's budget lets drains evict it. @default false */
  maintenance?: boolean;
}

/**
 * RabbitMQ (official image) as a StatefulSet: OpenCTI's message size and consumer timeout, memory watermark
 * from the limit, a generated password and probes that detect failure in 30 s (the audit's took 240 s).
 */
export class RabbitMQ extends pulumi.ComponentResource {
  readonly host: pulumi.Output<string>;
  readonly port = 5672;
  readonly user: string;
  readonly credentials: GeneratedSecret;

  constructor(name: string, args: RabbitMQArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:osint:RabbitMQ", name, {}, opts);
    this.user = args.user ?? "osint";
    const conf = renderRabbitmqConf(parseMemory(args.resources.limits.memory));
    this.credentials = new GeneratedSecret(
      `${name}-credentials`,
      {
        namespace: args.namespace,
        secretName: "rabbitmq-credentials",
        generate: {
          password: {
            length: 32,
            neverRotated:
              "RabbitMQ creates RABBITMQ_DEFAULT_USER/PASS only when its node database is new; the volume keeps it",
          },
        },
        rotation: args.rotation,
      },
      { parent: this },
    );
    const configFiles: ConfigFiles[] = [
      { name: "config", mountPath: "/etc/rabbitmq/conf.d", files: { "10-keel.conf": conf } },
    ];
    const diagnostics = (check: string) => ({ exec: { command: ["rabbitmq-diagnostics", "-q", check] } });
    const server = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: "rabbitmq",
        partOf: args.partOf,
        kind: "StatefulSet",
        image: args.image,
        resources: args.resources,
        bootSeconds: 60,
        probes: {
          startup: { ...diagnostics("ping"), periodSeconds: 10, failureThreshold: 18, timeoutSeconds: 10 },
          readiness: {
            ...diagnostics("check_running"),
            periodSeconds: 10,
            failureThreshold: 3,
            timeoutSeconds: 10,
          },
          liveness: { ...diagnostics("ping"), periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 10 },
        },
        ports: [
          { name: "amqp", port: 5672 },
          { name: "management", port: 15672 },
          { name: "metrics", port: 15692 },
        ],
        env: { RABBITMQ_DEFAULT_USER: this.user, RABBITMQ_CONFIG_FILES: "/etc/rabbitmq/conf.d" },
        secretEnv: { RABBITMQ_DEFAULT_PASS: this.credentials.ref("password") },
        runAsUser: 999,
        persistentVolumes: [
          {
            name: "data",
            mountPath: "/var/lib/rabbitmq",
            size: args.storageSize ?? "10Gi",
            storageClass: args.storageClass,
          },
        ],
        configFiles,
        critical: true,
        maintenance: args.maintenance,
        terminationGracePeriodSeconds: 60,
        allowFrom: args.allowFrom,
      },
      { parent: this, protect: args.protect ?? false },
    );
    this.host = server.serviceName;
    this.registerOutputs({ host: this.host, credentials: this.credentials.secretName });
  }

  passwordRef() {
    return this.credentials.ref("password");
  }
}
