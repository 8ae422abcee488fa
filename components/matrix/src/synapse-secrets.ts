import { GeneratedSecret, appLabels } from "@keel/core";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { renderSynapseSecretsConfig } from "./config";

export interface SynapseSecretsArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** Prefix of the Secrets: `<app>-generated`, `<app>-secrets`, `<app>-signing-key`. */
  app: string;
  /** The signing key's id (`ed25519:<keyId>`). */
  keyId: string;
  /** Generate the admin registration secret and the worker replication secret. @default false */
  registrationAndReplication?: boolean;
  /** Synapse's `turn_shared_secret`, shared with coturn/STUNner. @default undefined */
  turnSharedSecret?: pulumi.Input<string>;
  /** @default 0 */
  rotation?: number;
  /** Protect the signing key (the server's identity) from `pulumi destroy`. @default false */
  protect?: boolean;
}

/**
 * Synapse's secrets: generated values in a Secret, the secrets file Synapse loads as its second config file
 * (never a ConfigMap), and the ed25519 signing key, which `rotation` does not touch because remote servers
 * cache it.
 */
export class SynapseSecrets extends pulumi.ComponentResource {
  readonly generated: GeneratedSecret;
  readonly configSecretName: pulumi.Output<string>;
  readonly signingKeySecretName: pulumi.Output<string>;

  constructor(name: string, args: SynapseSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:matrix:SynapseSecrets", name, {}, opts);
    const child = { parent: this };
    const labels = appLabels(args.app, args.partOf);
    const full = args.registrationAndReplication ?? false;
    this.generated = new GeneratedSecret(
      `${name}-values`,
      {
        namespace: args.namespace,
        secretName: `${args.app}-generated`,
        generate: {
          macaroon: { length: 48 },
          form: { length: 48 },
          ...(full ? { registration: { length: 48 }, replication: { length: 48 } } : {}),
        },
        rotation: args.rotation,
      },
      child,
    );
    const v = this.generated.values;
    const file = new k8s.core.v1.Secret(
      `${name}-file`,
      {
        metadata: { name: `${args.app}-secrets`, namespace: args.namespace, labels },
        stringData: {
          "secrets.yaml": pulumi.secret(
            pulumi
              .all([
                v.macaroon,
                v.form,
                v.registration ?? "",
                v.replication ?? "",
                args.turnSharedSecret ?? "",
              ])
              .apply(([macaroon, form, registration, replication, turn]) =>
                renderSynapseSecretsConfig({
                  macaroonSecretKey: macaroon,
                  formSecret: form,
                  ...(registration ? { registrationSharedSecret: registration } : {}),
                  ...(replication ? { workerReplicationSecret: replication } : {}),
                  ...(turn ? { turnSharedSecret: turn } : {}),
                }),
              ),
          ),
        },
      },
      { parent: this, additionalSecretOutputs: ["stringData", "data"] },
    );
    const seed = new random.RandomBytes(`${name}-signing-seed`, { length: 32 }, child);
    const signingKey = new k8s.core.v1.Secret(
      `${name}-signing-key`,
      {
        metadata: { name: `${args.app}-signing-key`, namespace: args.namespace, labels },
        stringData: {
          "signing.key": pulumi.secret(
            pulumi.interpolate`ed25519 ${args.keyId} ${seed.base64.apply((b) => b.replace(/=+$/, ""))}\n`,
          ),
        },
      },
      { parent: this, additionalSecretOutputs: ["stringData", "data"], protect: args.protect ?? false },
    );
    this.configSecretName = file.metadata.name;
    this.signingKeySecretName = signingKey.metadata.name;
    this.registerOutputs({});
  }

  /** Names of the Secrets (never their values). */
  secretNames(): pulumi.Output<string>[] {
    return [this.generated.secretName, this.configSecretName, this.signingKeySecretName];
  }
}
