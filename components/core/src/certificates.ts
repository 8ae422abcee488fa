import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { ValidationError, throwIfInvalid } from "./errors";

export interface CertificateAuthorityArgs {
  /** Subject common name. @default "keel private CA" */
  commonName?: string;
  /** @default "keel" */
  organization?: string;
  /** @default 87600 (10 years) */
  validityHours?: number;
}

/**
 * A private CA from @pulumi/tls for self-signed mode; its certificate is what clients must trust, so
 * `keel:secretRotation` leaves it alone (a new CA would need every client to install it first).
 */
export class CertificateAuthority extends pulumi.ComponentResource {
  /** PEM certificate to distribute to clients (not secret). */
  readonly certPem: pulumi.Output<string>;
  /** PEM private key (secret). */
  readonly keyPem: pulumi.Output<string>;

  constructor(name: string, args: CertificateAuthorityArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:CertificateAuthority", name, {}, opts);
    const key = new tls.PrivateKey(
      `${name}-key`,
      { algorithm: "ECDSA", ecdsaCurve: "P256" },
      { parent: this, additionalSecretOutputs: ["privateKeyPem"] },
    );
    const cert = new tls.SelfSignedCert(
      `${name}-cert`,
      {
        privateKeyPem: key.privateKeyPem,
        isCaCertificate: true,
        validityPeriodHours: args.validityHours ?? 87600,
        earlyRenewalHours: 720,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        subject: {
          commonName: args.commonName ?? "keel private CA",
          organization: args.organization ?? "keel",
        },
      },
      { parent: this },
    );
    this.certPem = cert.certPem;
    this.keyPem = pulumi.secret(key.privateKeyPem);
    this.registerOutputs({ certPem: this.certPem });
  }
}

export interface ServerCertificateArgs {
  namespace: pulumi.Input<string>;
  /** The `kubernetes.io/tls` Secret name. */
  secretName: string;
  dnsNames: string[];
  /** The signing CA. */
  ca: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string> };
  /** @default 8760 (1 year); renewed by `pulumi up` within 30 days of expiry */
  validityHours?: number;
}

const hostRe = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function validateServerCertificateArgs(args: ServerCertificateArgs): ValidationError[] {
  if (args.dnsNames.length === 0) return [new ValidationError("dnsNames", "needs at least one name")];
  return args.dnsNames
    .filter((n) => !hostRe.test(n))
    .map((n) => new ValidationError("dnsNames", `"${n}" is not a DNS name`));
}

/** A server certificate signed by the private CA, stored as a `kubernetes.io/tls` Secret. */
export class ServerCertificate extends pulumi.ComponentResource {
  readonly secretName: pulumi.Output<string>;

  constructor(name: string, args: ServerCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:ServerCertificate", name, {}, opts);
    throwIfInvalid(validateServerCertificateArgs(args));
    const key = new tls.PrivateKey(
      `${name}-key`,
      { algorithm: "ECDSA", ecdsaCurve: "P256" },
      { parent: this, additionalSecretOutputs: ["privateKeyPem"] },
    );
    const csr = new tls.CertRequest(
      `${name}-csr`,
      {
        privateKeyPem: key.privateKeyPem,
        dnsNames: args.dnsNames,
        subject: { commonName: args.dnsNames[0] },
      },
      { parent: this },
    );
    const cert = new tls.LocallySignedCert(
      `${name}-cert`,
      {
        certRequestPem: csr.certRequestPem,
        caPrivateKeyPem: args.ca.keyPem,
        caCertPem: args.ca.certPem,
        validityPeriodHours: args.validityHours ?? 8760,
        earlyRenewalHours: 720,
        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
      },
      { parent: this },
    );
    const secret = new k8s.core.v1.Secret(
      `${name}`,
      {
        metadata: { name: args.secretName, namespace: args.namespace },
        type: "kubernetes.io/tls",
        stringData: {
          "tls.crt": pulumi.interpolate`${cert.certPem}${args.ca.certPem}`,
          "tls.key": pulumi.secret(key.privateKeyPem),
          "ca.crt": args.ca.certPem,
        },
      },
      { parent: this },
    );
    this.secretName = secret.metadata.name;
    this.registerOutputs({ secretName: this.secretName });
  }
}
