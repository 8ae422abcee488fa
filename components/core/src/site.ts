import { validateBackupPolicy } from "./backup-policy";
import { Demand } from "./capacity";
import { ValidationError, throwIfInvalid } from "./errors";
import { ImageKey, ImageResolver } from "./images";
import { SizingProfile, SizingProfileName, sizingProfile, sizingProfileNames } from "./sizing";

/** What every platform of a stack shares, as given: the cluster, its ingress, storage and policies. */
export interface SiteArgs {
  /** Base DNS domain; each platform's hosts are `<host>.<domain>`. */
  domain: string;
  /** @default "small" */
  sizing?: SizingProfileName;
  /** The image catalogue with the site's overrides and registry. @default the catalogue as pinned */
  images?: ImageResolver;
  /** Block storage (databases, config) and bulk storage (libraries, backups). @default fast, bulk */
  storageClasses?: { fast?: string; bulk?: string };
  /** @default nginx, in namespace ingress-nginx, awaited */
  ingress?: { className?: string; controllerNamespace?: string; skipAwait?: boolean };
  /** Backup schedule and retention of every database. @default "17 3 * * *", 7 */
  backup?: { schedule?: string; retain?: number };
  /** Protect data volumes and databases from `pulumi destroy`. @default false */
  protectData?: boolean;
  /** Bump to rotate every generated secret. @default 0 */
  secretRotation?: number;
  /**
   * A node maintenance window: while true, the budget of each critical workload that runs a single replica
   * lets its pod be evicted, so `kubectl drain` proceeds (with that service down while its pod moves).
   * Replicated workloads keep their budgets. Set it for the drains, then back to false. @default false
   */
  maintenance?: boolean;
  /** Nothing the stack runs may depend on the internet. @default false */
  airGapped?: boolean;
  /** The cluster has GPU nodes. @default false */
  gpu?: boolean;
}

/** A validated site with every default filled: what platforms plan and build from. */
export interface Site {
  readonly domain: string;
  readonly sizing: SizingProfile;
  readonly images: ImageResolver;
  readonly storageClasses: { readonly fast: string; readonly bulk: string };
  readonly ingress: {
    readonly className: string;
    readonly controllerNamespace: string;
    readonly skipAwait: boolean;
  };
  readonly backup: { readonly schedule: string; readonly retain: number };
  readonly protectData: boolean;
  readonly secretRotation: number;
  readonly maintenance: boolean;
  readonly airGapped: boolean;
  readonly gpu: boolean;
}

export const siteDefaults = {
  sizing: "small",
  storageClasses: { fast: "fast", bulk: "bulk" },
  ingress: { className: "nginx", controllerNamespace: "ingress-nginx", skipAwait: false },
  backup: { schedule: "17 3 * * *", retain: 7 },
} as const;

const domainRe = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function filled(args: SiteArgs): Site {
  return {
    domain: args.domain,
    sizing: sizingProfile(args.sizing ?? siteDefaults.sizing),
    images: args.images ?? new ImageResolver(),
    storageClasses: { ...siteDefaults.storageClasses, ...args.storageClasses },
    ingress: { ...siteDefaults.ingress, ...args.ingress },
    backup: { ...siteDefaults.backup, ...args.backup },
    protectData: args.protectData ?? false,
    secretRotation: args.secretRotation ?? 0,
    maintenance: args.maintenance ?? false,
    airGapped: args.airGapped ?? false,
    gpu: args.gpu ?? false,
  };
}

/** Every problem with a site; fields are named `<prefix><field>` (the program passes `keel:`). */
export function validateSiteArgs(args: SiteArgs, prefix = ""): ValidationError[] {
  const problems: ValidationError[] = [];
  const bad = (field: string, problem: string) => problems.push(new ValidationError(prefix + field, problem));
  if (args.domain === undefined || args.domain === "") bad("domain", "is required (e.g. example.org)");
  else if (!domainRe.test(args.domain))
    bad("domain", `must be a DNS domain such as example.org; got ${JSON.stringify(args.domain)}`);
  if (args.sizing !== undefined && !sizingProfileNames.includes(args.sizing))
    bad("sizing", `must be one of ${sizingProfileNames.join(", ")}; got ${JSON.stringify(args.sizing)}`);
  const site = filled({ ...args, sizing: undefined });
  for (const key of ["fast", "bulk"] as const) {
    const v = site.storageClasses[key];
    if (!dnsLabel.test(v))
      bad(`storageClasses.${key}`, `must be a storage class name; got ${JSON.stringify(v)}`);
  }
  if (!dnsLabel.test(site.ingress.className))
    bad("ingress.className", `must be an IngressClass name; got ${JSON.stringify(site.ingress.className)}`);
  if (!dnsLabel.test(site.ingress.controllerNamespace))
    bad(
      "ingress.controllerNamespace",
      `must be a namespace name; got ${JSON.stringify(site.ingress.controllerNamespace)}`,
    );
  if (typeof site.backup.schedule !== "string")
    bad("backup.schedule", `must be a 5-field cron expression; got ${JSON.stringify(site.backup.schedule)}`);
  else
    for (const p of validateBackupPolicy({ ...site.backup, storageClass: site.storageClasses.bulk }))
      bad(p.field, p.problem);
  const rotation = site.secretRotation;
  if (!Number.isInteger(rotation) || rotation < 0 || rotation > 1_000_000)
    bad("secretRotation", `must be an integer from 0 to 1000000; got ${JSON.stringify(rotation)}`);
  if (typeof site.maintenance !== "boolean")
    bad("maintenance", `must be true or false; got ${JSON.stringify(site.maintenance)}`);
  return problems;
}

/** Validates a site once (throwing with every problem) and fills its defaults. */
export function resolveSite(args: SiteArgs, prefix = ""): Site {
  throwIfInvalid(validateSiteArgs(args, prefix));
  return filled(args);
}

/** A namespace with annotated metrics endpoints, and their ports (what Prometheus may reach). */
export interface ScrapeTarget {
  namespace: string;
  ports: number[];
}

/**
 * What a platform will make, computed from the site and its own arguments without creating anything: the
 * program checks every platform's plan together (capacity, namespaces, node ports) before the first resource.
 */
export interface PlatformPlan {
  readonly site: Site;
  /** Namespaces the platform creates. */
  readonly namespaces: readonly string[];
  /** Every workload at its largest scale. */
  readonly demand: readonly Demand[];
  /** Ports opened on every node, which no two platforms may share. */
  readonly nodePorts: readonly { port: number; protocol: "TCP" | "UDP" }[];
  /** Metrics endpoints the monitoring platform scrapes. */
  readonly scrapeTargets: readonly ScrapeTarget[];
  /** Every catalogue image it may run, whatever its settings: what a mirror of the stack must hold. */
  readonly images: readonly ImageKey[];
}

/** Problems between plans: a namespace or a node port claimed twice. */
export function checkPlans(plans: Record<string, PlatformPlan>): ValidationError[] {
  const problems: ValidationError[] = [];
  const owners = new Map<string, string>();
  for (const [platform, plan] of Object.entries(plans)) {
    for (const ns of plan.namespaces) claim(`namespace ${ns}`, platform, "namespace");
    for (const p of plan.nodePorts) claim(`node port ${p.port}/${p.protocol}`, platform, "node port");
  }
  return problems;

  function claim(what: string, platform: string, kind: string) {
    const other = owners.get(what);
    if (other === undefined) owners.set(what, platform);
    else
      problems.push(
        new ValidationError(
          `keel:${platform}`,
          `${what} is also claimed by ${other}; give one of them another ${kind}`,
        ),
      );
  }
}

/** Runs `plan`, renaming its `app.*` errors to `<field>.*` (the program's config key). */
export function planAs<P>(field: string, plan: () => P): P {
  try {
    return plan();
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    const renamed = (f: string) => (f === "app" ? field : f.startsWith("app.") ? field + f.slice(3) : f);
    const out = new ValidationError(renamed(e.field), e.problem);
    out.message = e.message.replace(/(^|\n)app(?=[.:])/g, `$1${field}`);
    throw out;
  }
}
