import { IngressTls, Namespace, NetworkPeer, namespaceBudget, throwIfInvalid } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { buildAlertmanager } from "./alertmanager";
import { buildAlloy } from "./alloy";
import { buildBlackboxExporter } from "./blackbox";
import { tlsProbeTarget } from "./blackbox-config";
import { buildGrafana } from "./grafana";
import { buildKubeStateMetrics } from "./kube-state-metrics";
import { buildLoki } from "./loki";
import { BuildScope, monitoringApps } from "./parts";
import { MonitoringPeers, MonitoringPlan, validateMonitoringPeers, watchedNamespaces } from "./plan";
import { buildPrometheus } from "./prometheus";

/** What `Monitoring` builds from: its plan, the site's ingress certificates and what it watches of its peers. */
export interface MonitoringBuildArgs extends MonitoringPeers {
  plan: MonitoringPlan;
  tls: IngressTls;
}

/**
 * The monitoring stack in its own namespace: Prometheus (alert rules, Kubernetes service discovery over the
 * watched namespaces), Alertmanager, the blackbox exporter (certificate expiry), kube-state-metrics (restarts,
 * backup jobs, quotas), Grafana with provisioned datasources and dashboards, Loki and Alloy (pod logs through
 * the Kubernetes API). The peers it watches (`targets`, `certificateEndpoints`) are validated before anything
 * is created (`validateMonitoringPeers`): they are known only when the stack is built.
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly grafanaUrl: string;
  /** The Secret holding Grafana's `admin` password (key `password`). */
  readonly grafanaAdminSecretName: pulumi.Output<string>;
  /** Names of the Secrets the stack generated (never their values). */
  readonly secretNames: pulumi.Output<string[]>;
  /** The peer scraped workloads let in on their metrics port (`allowFrom`). */
  readonly scraperPeer: NetworkPeer;

  constructor(name: string, args: MonitoringBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:monitoring:Monitoring", name, {}, opts);
    throwIfInvalid(validateMonitoringPeers(args));
    const { plan } = args;
    const targets = args.targets ?? [];
    const watched = watchedNamespaces(plan, targets);
    this.grafanaUrl = plan.grafanaUrl;
    this.scraperPeer = { app: monitoringApps.prometheus, namespace: plan.namespace };

    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: plan.namespace,
        budget: namespaceBudget([...plan.demand], plan.site.sizing, plan.storageGi),
      },
      { parent: this },
    );
    this.namespace = ns.name;
    const scope: BuildScope = { name, plan, namespace: ns.name, inNs: { parent: this, dependsOn: [ns] } };

    const tlsProbeTargets = (args.certificateEndpoints ?? []).map(tlsProbeTarget);
    const prometheus = buildPrometheus(scope, { namespaces: watched, targets, tlsProbeTargets });
    const alertmanager = buildAlertmanager(scope, prometheus);
    buildBlackboxExporter(scope, prometheus, {
      targets: tlsProbeTargets,
      caCertificate: args.probeCaCertificate,
    });
    buildKubeStateMetrics(scope, prometheus, watched);
    const loki = buildLoki(scope, prometheus);
    buildAlloy(scope, { prometheus, loki }, plan.logNamespaces ?? watched);
    const grafana = buildGrafana(scope, { prometheus, loki, alertmanager }, args.tls);

    this.grafanaAdminSecretName = grafana.admin.secretName;
    this.secretNames = pulumi.all([grafana.admin.secretName]).apply((names) => names as string[]);
    this.registerOutputs({
      namespace: this.namespace,
      grafanaUrl: this.grafanaUrl,
      grafanaAdminSecretName: this.grafanaAdminSecretName,
      secretNames: this.secretNames,
    });
  }
}
