import { Workload } from "@keel/core";
import { lkJwtApp } from "../clients";
import { HAPROXY_MONITOR_URI, HAPROXY_PORTS, SYNAPSE_PORTS, renderHaproxyConfig } from "../config";
import { SynapseProcesses } from "../synapse";
import { MatrixContext, fromIngress, webIngress } from "./context";

/** HAProxy's app (Service name): what the ingress, lk-jwt-service and Synapse's clients reach. */
export const haproxyApp = "synapse-haproxy";

/**
 * HAProxy in front of every Synapse process, routing each request to the worker that serves it (the
 * generated haproxy.cfg, pods discovered through DNS SRV records), and the homeserver's ingress to it.
 */
export function haproxyRouter(c: MatrixContext, synapse: SynapseProcesses): Workload {
  const { plan, site } = c;
  const s = plan.settings;
  const monitor = { http: { path: HAPROXY_MONITOR_URI, port: HAPROXY_PORTS.http } };
  const haproxy = new Workload(
    `${c.name}-haproxy`,
    {
      namespace: c.namespace,
      appName: haproxyApp,
      partOf: c.partOf,
      image: site.images.image("haproxy"),
      command: ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"],
      replicas: plan.replicas.haproxy,
      resources: c.resources.haproxy,
      probes: {
        startup: { ...monitor, periodSeconds: 2, failureThreshold: 15 },
        readiness: { ...monitor, periodSeconds: 5, failureThreshold: 2 },
        liveness: { ...monitor, periodSeconds: 10, failureThreshold: 3 },
      },
      ports: [
        { name: "http", port: HAPROXY_PORTS.http },
        { name: "stats", port: HAPROXY_PORTS.stats },
      ],
      runAsUser: 99,
      configFiles: [
        {
          name: "config",
          mountPath: "/usr/local/etc/haproxy",
          files: {
            "haproxy.cfg": renderHaproxyConfig({
              counts: s.workers,
              maxReplicas: s.workerMaxReplicas,
              namespace: plan.namespace,
              sharedMediaStore: true,
            }),
          },
        },
      ],
      scratchVolumes: [{ name: "run", mountPath: "/var/lib/haproxy", sizeLimit: "16Mi" }],
      allowFrom: [
        fromIngress(c, [HAPROXY_PORTS.http]),
        { app: lkJwtApp, ports: [HAPROXY_PORTS.http] },
        ...c.scrapers.map((sc) => ({ ...sc, ports: [HAPROXY_PORTS.stats] })),
      ],
      egressTo: synapse.apps.map((app) => ({ app, ports: [SYNAPSE_PORTS.http, SYNAPSE_PORTS.health] })),
      podAnnotations: {
        "keel.dev/metrics-port": String(HAPROXY_PORTS.stats),
        "keel.dev/metrics-path": "/metrics",
      },
    },
    { parent: c.parent },
  );
  webIngress(c, "homeserver", plan.hosts.homeserver, haproxy.serviceName, HAPROXY_PORTS.http, {
    annotations: {
      "nginx.ingress.kubernetes.io/proxy-body-size": s.maxUploadSize.replace(/M$/, "m"),
      // /sync long-polls for up to 30 s; federation transactions can be slow.
      "nginx.ingress.kubernetes.io/proxy-read-timeout": "180",
    },
  });
  return haproxy;
}
