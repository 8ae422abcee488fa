import { appLabels } from "@keel/core";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { antivirusApps } from "../antivirus";
import { renderHomeserverConfig, renderLogConfig } from "../config";
import { SynapseProcesses } from "../synapse";
import { SynapseSecrets } from "../synapse-secrets";
import { MatrixContext } from "./context";
import { MatrixDatabase } from "./database";
import { haproxyApp } from "./haproxy";
import { MatrixAntivirus } from "./antivirus";
import { MatrixMediaStore } from "./media-store";
import { MatrixRedis } from "./redis";

/** Synapse's generated secrets, its secrets file and its signing key (protected with the site's data). */
export function synapseSecrets(c: MatrixContext, turnSharedSecret?: pulumi.Input<string>): SynapseSecrets {
  return new SynapseSecrets(
    `${c.name}-synapse-secrets`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      app: "synapse",
      keyId: "a_keel",
      registrationAndReplication: true,
      turnSharedSecret,
      rotation: c.site.secretRotation,
      protect: c.site.protectData,
    },
    { parent: c.parent },
  );
}

/** What Synapse's processes are wired to. */
export interface SynapsePeers {
  database: MatrixDatabase;
  redis: MatrixRedis;
  media: MatrixMediaStore;
  secrets: SynapseSecrets;
  antivirus?: MatrixAntivirus;
  /** PEM of the stack's private CA (self-signed mode): trusted for federation. */
  caCertificate?: pulumi.Input<string>;
  /** TURN servers for 1:1 calls (from the WebRTC platform). */
  turnUris?: string[];
}

const caPath = "/etc/keel-ca/ca.pem";

/** The private CA (not a secret) that other servers' certificates chain to, for federation. */
function federationCa(c: MatrixContext, pem: pulumi.Input<string>): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    `${c.name}-federation-ca`,
    {
      metadata: {
        name: "synapse-federation-ca",
        namespace: c.namespace,
        labels: appLabels("synapse", c.partOf),
      },
      stringData: { "ca.pem": pem },
    },
    { parent: c.parent },
  );
}

/**
 * Synapse's main process and every worker group with one homeserver.yaml: PgBouncer and Redis, the media
 * volume, the antivirus module on every process, the private CA for federation; HAProxy (and the scan
 * workers) reach the client port, Prometheus the metrics port.
 */
export function synapseProcesses(c: MatrixContext, peers: SynapsePeers): SynapseProcesses {
  const { plan, site } = c;
  const s = plan.settings;
  const { database, redis, antivirus } = peers;
  const av = antivirus?.component.synapse;
  const ca = peers.caCertificate ? federationCa(c, peers.caCertificate) : undefined;
  const homeserverYaml = renderHomeserverConfig({
    domain: site.domain,
    homeserverHost: plan.hosts.homeserver,
    counts: s.workers,
    database: database.synapse,
    redis: { host: redis.app, passwordPath: "/secrets/redis/password" },
    mediaStorePath: "/media/media_store",
    maxUploadSize: s.maxUploadSize,
    sharedMediaStore: true,
    federationCustomCaPath: ca ? caPath : undefined,
    federationDomainWhitelist: s.federationDomainWhitelist,
    ipRangeWhitelist: [...plan.ipRangeWhitelist],
    turn: peers.turnUris ? { uris: peers.turnUris } : undefined,
    groupCalls: plan.calls,
    cacheFactor: plan.cacheFactor,
    modules: plan.antivirus ? [plan.antivirus.module] : [],
  });
  return new SynapseProcesses(
    `${c.name}-synapse`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      image: site.images.image("synapse"),
      maintenance: site.maintenance,
      groups: [...plan.groups],
      homeserverYaml,
      logYaml: renderLogConfig(),
      database: database.synapse,
      databasePassword: database.postgres.passwordRef(),
      secretsSecretName: peers.secrets.configSecretName,
      signingKeySecretName: peers.secrets.signingKeySecretName,
      redisSecretName: redis.server.credentials.secretName,
      mainResources: c.resources.synapseMain,
      workerResources: c.resources.synapseWorker,
      mediaStore: peers.media.volume,
      extraConfig: av
        ? [{ name: "av-module", mountPath: av.mountPath, configMapName: av.configMapName }]
        : [],
      env: av?.env,
      secretEnv: av?.secretEnv,
      extraSecretFiles: ca ? [{ name: "ca", mountPath: "/etc/keel-ca", secretName: ca.metadata.name }] : [],
      httpClients: [{ app: haproxyApp }, ...(av ? [{ app: antivirusApps.scanWorker }] : [])],
      metricsScrapers: c.scrapers,
      egressTo: [database.poolerPeer, redis.peer, ...(av?.egressTo ?? [])],
      federationEgress: [...plan.federationEgress],
      protect: site.protectData,
    },
    { parent: c.parent, dependsOn: [database.pgbouncer, redis.server] },
  );
}
