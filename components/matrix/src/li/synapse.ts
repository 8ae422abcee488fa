import { Postgres, SharedVolume } from "@keel/core";
import {
  SYNAPSE_PORTS,
  SynapseDatabaseSettings,
  monolithWorkerCounts,
  renderHomeserverConfig,
  renderLogConfig,
} from "../config";
import type { LawfulInterceptPlan } from "../lawful-intercept";
import { NamespaceContext, fromIngress, webIngress } from "../services/context";
import { SynapseProcesses } from "../synapse";
import { SynapseSecrets } from "../synapse-secrets";
import { lawfulInterceptApps as apps } from "./apps";

/**
 * synapse-li: one process (no workers) on the replica's database and media, never federating, reached
 * through its ingress and by key-vault.
 */
export function liSynapse(
  c: NamespaceContext,
  plan: LawfulInterceptPlan,
  postgres: Postgres,
  media: SharedVolume,
): { secrets: SynapseSecrets; processes: SynapseProcesses } {
  const { site } = plan;
  const child = { parent: c.parent };
  const secrets = new SynapseSecrets(
    `${c.name}-synapse-secrets`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      app: apps.synapse,
      keyId: "a_li",
      rotation: site.secretRotation,
    },
    child,
  );
  const database: SynapseDatabaseSettings = { host: apps.postgres, database: "synapse", user: "synapse" };
  const processes = new SynapseProcesses(
    `${c.name}-synapse`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      image: plan.synapseImage,
      mainApp: apps.synapse,
      maintenance: site.maintenance,
      groups: [],
      homeserverYaml: renderHomeserverConfig({
        domain: site.domain,
        homeserverHost: plan.hosts.homeserver,
        counts: monolithWorkerCounts,
        database,
        mediaStorePath: "/media/media_store",
        // The replica never federates.
        federationDomainWhitelist: [],
      }),
      logYaml: renderLogConfig(),
      database,
      databasePassword: postgres.passwordRef(),
      secretsSecretName: secrets.configSecretName,
      signingKeySecretName: secrets.signingKeySecretName,
      mainResources: c.resources.synapseMain,
      workerResources: c.resources.synapseMain,
      mediaStore: media,
      httpClients: [fromIngress(c), { app: apps.keyVault }],
      metricsScrapers: [],
      egressTo: [{ app: apps.postgres, ports: [postgres.port] }],
      federationEgress: [],
      protect: site.protectData,
    },
    child,
  );
  webIngress(c, "homeserver", plan.hosts.homeserver, apps.synapse, SYNAPSE_PORTS.http);
  return { secrets, processes };
}
