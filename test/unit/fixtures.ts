import {
  ImageResolver,
  IngressTls,
  Probes,
  ResourceSpec,
  Site,
  SiteArgs,
  WorkloadArgs,
  resolveSite,
} from "@keel/core";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { StackConfig, parseStackConfig, rawFromAllConfig } from "../../program/config";
import { planStack } from "../../program/deploy";

export const resources: ResourceSpec = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};

export const probes: Probes = {
  startup: { http: { path: "/health", port: 8080 }, periodSeconds: 5, failureThreshold: 12 },
  readiness: { http: { path: "/ready", port: 8080 }, periodSeconds: 10, failureThreshold: 3 },
  liveness: { http: { path: "/health", port: 8080 }, periodSeconds: 10, failureThreshold: 3 },
};

export function workloadArgs(overrides: Partial<WorkloadArgs> = {}): WorkloadArgs {
  return {
    namespace: "apps",
    partOf: "test",
    image: new ImageResolver().image("redis"),
    resources,
    probes,
    ports: [{ name: "http", port: 8080 }],
    ...overrides,
  };
}

/** The repository root: the nearest folder up from here with a Pulumi.yaml (tests also run compiled, from bin/). */
export const repoRoot = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("Pulumi.yaml not found above " + __dirname);
    dir = up;
  }
  return dir;
})();

/**
 * The `keel:*` values of a stack file as the program sees them: Pulumi hands every value over as a string
 * (and rewrites top-level scalars as quoted strings when it saves the file), so they go through the same
 * rawFromAllConfig the program uses.
 */
export function stackConfig(stack: "dev" | "prod"): Record<string, unknown> {
  const file = path.join(repoRoot, `Pulumi.${stack}.yaml`);
  const doc = parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
  const asPulumiSeesIt = Object.fromEntries(
    Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  return rawFromAllConfig(asPulumiSeesIt);
}

/**
 * What every platform component takes, for a small test site: example.org, small sizing, the default image
 * catalog, the "fast" storage class, nginx ingress with ACME certificates. Fresh objects on every call.
 */
/** The site every platform test plans from: example.org, small, the pinned catalogue, fast/bulk classes. */
export function testSite(overrides: Partial<SiteArgs> = {}): Site {
  return resolveSite({ domain: "example.org", ...overrides });
}

/** The ingress certificates platform tests build with. */
export const testTls: IngressTls = { mode: "acme", clusterIssuer: "letsencrypt" };

/** Parses raw stack config and plans every enabled platform, as `deploy` does before registering anything. */
export function planConfig(raw: Record<string, unknown>): {
  cfg: StackConfig;
  plans: ReturnType<typeof planStack>;
} {
  const cfg = parseStackConfig(raw);
  return { cfg, plans: planStack(cfg) };
}

/** The Secrets a pod spec reads: env, envFrom, secret and projected volumes, of every container. */
export function secretsRead(spec: any): string[] {
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  return [
    ...containers.flatMap((c: any) => [
      ...(c.env ?? []).map((e: any) => e.valueFrom?.secretKeyRef?.name),
      ...(c.envFrom ?? []).map((e: any) => e.secretRef?.name),
    ]),
    ...(spec.volumes ?? []).flatMap((v: any) => [
      v.secret?.secretName,
      ...(v.projected?.sources ?? []).map((s: any) => s.secret?.name),
    ]),
  ].filter((n): n is string => typeof n === "string");
}
