import {
  appLabels,
  exemptionKey,
  NetworkPeer,
  ResourceSpec,
  SecretKeyRef,
  stableYaml,
  Workload,
} from "@keel/core";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The TURN listener STUNner exposes (Gateway listener and stunnerd listener alike). */
export const turnListener = { name: "udp-listener", port: 3478, protocol: "TURN-UDP" } as const;

export interface StunnerdConfigInput {
  realm: string;
  /** Networks the TURN relay may reach (LiveKit's node and pod addresses). */
  peerCidrs: string[];
}

/** Where stunnerd reads its config: a Secret volume, watched (`-w`) so a rotated secret applies without a restart. */
export const stunnerdConfigDir = "/etc/stunnerd";
export const stunnerdConfigFile = "stunnerd.conf";

/**
 * stunnerd's command line. `-c` takes a config origin: anything but a `file://` URI is a config-discovery
 * server address (stunnerd 1.2.1, pkg/config/client/util.go getURI), so a bare path leaves it without listeners.
 */
export const stunnerdArgs = ["-w", "-c", `file://${stunnerdConfigDir}/${stunnerdConfigFile}`];

/**
 * stunnerd's static configuration for standalone mode (no operator), as deterministic YAML, with ephemeral
 * (TURN REST) authentication. The shared secret is written in: stunnerd expands `$VARS` in its config but
 * then restores `auth.credentials` as written (pkg/config/client/config.go ParseConfig), so a `$VAR` there
 * would itself be the secret. The text is therefore a credential and lives only in a Secret. The pod address
 * (`$STUNNER_ADDR`, the relay address; the listener binds every address) is expanded at start.
 */
export function renderStunnerdConfig(c: StunnerdConfigInput, sharedSecret: string): string {
  return stableYaml({
    version: "v1",
    admin: { name: "stunnerd", loglevel: "all:INFO", healthcheck_endpoint: "http://:8086" },
    auth: { type: "ephemeral", realm: c.realm, credentials: { secret: sharedSecret } },
    listeners: [
      {
        name: `webrtc/${turnListener.name}`,
        protocol: turnListener.protocol,
        address: "$STUNNER_ADDR",
        port: turnListener.port,
        routes: ["webrtc/livekit"],
      },
    ],
    clusters: [{ name: "webrtc/livekit", type: "STATIC", endpoints: c.peerCidrs }],
  });
}

/** The rendered config as a secret output, whatever the secret's input was: the text carries the TURN secret. */
export function stunnerdConfigText(
  c: StunnerdConfigInput,
  sharedSecret: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.secret(pulumi.output(sharedSecret).apply((secret) => renderStunnerdConfig(c, secret)));
}

export interface StunnerArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  image: string;
  resources: ResourceSpec;
  replicas: number;
  config: StunnerdConfigInput;
  /** The shared TURN secret (key `secret`) in this namespace; also the GatewayConfig's authRef. */
  sharedSecret: SecretKeyRef;
  /** The same secret's value (a secret output), written into stunnerd's config Secret. */
  sharedSecretValue: pulumi.Input<string>;
  /** The LiveKit Service the UDPRoute sends media to. */
  livekitService: pulumi.Input<string>;
  /** Create the cluster-scoped GatewayClass. */
  gatewayClassName: string;
  /** The CRDs must exist before the objects (when this program installs them). @default [] */
  crds?: pulumi.Resource[];
  /** Don't wait for a load-balancer address. @default false */
  skipAwait?: boolean;
}

/** The TURN listener's node port (static band of the node-port range). */
export const stunnerTurnNodePort = 30078;

/**
 * STUNner as a WebRTC media gateway: the Gateway API objects an operator would read (GatewayClass,
 * GatewayConfig, Gateway with a TURN-UDP listener on 3478, UDPRoute to LiveKit) and, since no operator is
 * assumed, stunnerd itself in standalone mode with the equivalent static configuration.
 */
export class Stunner extends pulumi.ComponentResource {
  /** The LoadBalancer Service clients reach the TURN listener through. */
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: StunnerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:webrtc:Stunner", name, {}, opts);
    const child = { parent: this };
    const labels = appLabels("stunnerd", args.partOf);
    gatewayApiObjects(name, args, labels, this);

    const configSecret = new k8s.core.v1.Secret(
      `${name}-stunnerd-config`,
      {
        metadata: { name: "stunnerd-config", namespace: args.namespace, labels },
        type: "Opaque",
        stringData: { [stunnerdConfigFile]: stunnerdConfigText(args.config, args.sharedSecretValue) },
      },
      { parent: this, additionalSecretOutputs: ["stringData", "data"] },
    );
    const health = (path: string) => ({ http: { path, port: 8086 } });
    new Workload(
      `${name}-stunnerd`,
      {
        namespace: args.namespace,
        appName: "stunnerd",
        partOf: args.partOf,
        image: args.image,
        command: ["stunnerd"],
        args: stunnerdArgs,
        replicas: args.replicas,
        resources: args.resources,
        bootSeconds: 10,
        probes: {
          startup: { ...health("/live"), periodSeconds: 2, failureThreshold: 15, timeoutSeconds: 2 },
          readiness: { ...health("/ready"), periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 2 },
          liveness: { ...health("/live"), periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
        },
        ports: [
          { name: "turn-udp", port: turnListener.port, protocol: "UDP" },
          { name: "health", port: 8086, expose: false },
        ],
        fieldEnv: { STUNNER_ADDR: "status.podIP" },
        secretFiles: [
          {
            name: "config",
            mountPath: stunnerdConfigDir,
            secretName: configSecret.metadata.name,
            // The config holds the TURN secret: its rotation restarts stunnerd.
            rotation: args.sharedSecret.rotation,
          },
        ],
        terminationGracePeriodSeconds: 60,
        allowFrom: [{ cidr: "0.0.0.0/0" }],
        egressTo: [{ app: "livekit" }, ...args.config.peerCidrs.map((cidr): NetworkPeer => ({ cidr }))],
      },
      child,
    );
    const service = new k8s.core.v1.Service(
      `${name}-turn`,
      {
        metadata: {
          name: "stunner-turn",
          namespace: args.namespace,
          labels,
          annotations: {
            [exemptionKey("service-exposure")]:
              "TURN clients outside the cluster reach STUNner's listener; it relays only to LiveKit",
            ...(args.skipAwait ? { "pulumi.com/skipAwait": "true" } : {}),
          },
        },
        spec: {
          type: "LoadBalancer",
          externalTrafficPolicy: "Local",
          selector: { "app.kubernetes.io/name": "stunnerd", "app.kubernetes.io/part-of": args.partOf },
          ports: [
            {
              name: "turn-udp",
              port: turnListener.port,
              targetPort: turnListener.port,
              // Fixed, in the static band, so it can never take a port another fixed Service needs.
              nodePort: stunnerTurnNodePort,
              protocol: "UDP",
            },
          ],
        },
      },
      child,
    );
    this.serviceName = service.metadata.name;
    this.registerOutputs({ serviceName: this.serviceName });
  }
}

/**
 * The Gateway API objects an operator would read: GatewayClass, GatewayConfig, a Gateway with the TURN-UDP
 * listener and a UDPRoute to LiveKit. They need the CRDs first (when this program installs them).
 */
function gatewayApiObjects(
  name: string,
  args: StunnerArgs,
  labels: Record<string, string>,
  parent: pulumi.Resource,
): void {
  const crdOpts = { parent, dependsOn: args.crds ?? [] };
  const gatewayConfigName = "stunner-gatewayconfig";

  new k8s.apiextensions.CustomResource(
    `${name}-gatewayclass`,
    {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "GatewayClass",
      metadata: { name: args.gatewayClassName, labels },
      spec: {
        controllerName: "stunner.l7mp.io/gateway-operator",
        parametersRef: {
          group: "stunner.l7mp.io",
          kind: "GatewayConfig",
          name: gatewayConfigName,
          namespace: args.namespace,
        },
        description: "STUNner, the WebRTC media gateway (stunnerd runs standalone from the same settings)",
      },
    },
    crdOpts,
  );
  new k8s.apiextensions.CustomResource(
    `${name}-gatewayconfig`,
    {
      apiVersion: "stunner.l7mp.io/v1",
      kind: "GatewayConfig",
      metadata: { name: gatewayConfigName, namespace: args.namespace, labels },
      spec: {
        realm: args.config.realm,
        authType: "ephemeral",
        authRef: { name: args.sharedSecret.secretName, namespace: args.namespace },
      },
    },
    crdOpts,
  );
  const gateway = new k8s.apiextensions.CustomResource(
    `${name}-gateway`,
    {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: "udp-gateway", namespace: args.namespace, labels },
      spec: { gatewayClassName: args.gatewayClassName, listeners: [{ ...turnListener }] },
    },
    crdOpts,
  );
  new k8s.apiextensions.CustomResource(
    `${name}-udproute`,
    {
      apiVersion: "stunner.l7mp.io/v1",
      kind: "UDPRoute",
      metadata: { name: "livekit", namespace: args.namespace, labels },
      spec: {
        parentRefs: [{ name: gateway.metadata.name }],
        rules: [{ backendRefs: [{ name: args.livekitService, namespace: args.namespace }] }],
      },
    },
    crdOpts,
  );
}
