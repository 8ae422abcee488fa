import {
  Capacity,
  ImageKey,
  ImageResolver,
  PinnedImage,
  PlatformPlan,
  Site,
  SizingProfileName,
  ValidationError,
  imageCatalog,
  resolveSite,
  siteDefaults,
  validatePinnedImage,
} from "@keel/core";
import type { ComponentResource } from "@pulumi/pulumi";
import { PlatformName, platformNames, platforms as platformTable } from "./platforms";
import type { PlatformEntry } from "./platforms/entry";

export { type PlatformName, platformNames };

export const tlsModes = ["selfSigned", "provided", "acme"] as const;
export type TlsMode = (typeof tlsModes)[number];

/**
 * The stack configuration as read from `keel:*` config, with defaults filled, and the site it describes,
 * validated once. Each platform's settings object is checked for unknown keys here and resolved by its plan.
 */
export interface StackConfig extends PlatformSettings {
  site: Site;
  platforms: PlatformName[];
  domain: string;
  sizing: SizingProfileName;
  storageClasses: { fast: string; bulk: string };
  ingress: { className: string; controllerNamespace: string; skipAwait: boolean };
  tls: { mode: TlsMode; acmeClusterIssuer?: string };
  imageRegistry?: string;
  images: Partial<Record<ImageKey, PinnedImage>>;
  capacity: Capacity;
  gpu: boolean;
  airGapped: boolean;
  backup: { schedule: string; retain: number };
  protectData: boolean;
  secretRotation: number;
  maintenance: boolean;
}

/** Each platform's `keel:<key>` settings object, typed by its table entry. */
export type PlatformSettings = {
  [K in PlatformName]: (typeof platformTable)[K] extends PlatformEntry<
    PlatformPlan,
    ComponentResource,
    infer S
  >
    ? S
    : never;
};

/** Every key with its default; `undefined` means required. */
const defaults: { [K in Exclude<keyof StackConfig, "site">]: StackConfig[K] | undefined } = {
  platforms: ["aiCore"],
  domain: undefined,
  sizing: siteDefaults.sizing,
  storageClasses: siteDefaults.storageClasses,
  ingress: siteDefaults.ingress,
  tls: { mode: "selfSigned" },
  imageRegistry: undefined,
  images: {},
  capacity: { nodes: [{ count: 3, cpu: 8, memoryGi: 32 }], headroomPercent: 20, limitOvercommit: 2 },
  gpu: false,
  airGapped: false,
  backup: siteDefaults.backup,
  protectData: false,
  secretRotation: 0,
  maintenance: false,
  ...(Object.fromEntries(platformNames.map((p) => [p, {}])) as PlatformSettings),
};

/** Keys read from secret config, not from `keel:*` plain values. */
export const secretKeys = [
  "tlsCertificate",
  "tlsKey",
  "openctiToken",
  "openaiApiKey",
  "anthropicApiKey",
] as const;

export const configKeys = Object.keys(defaults) as Exclude<keyof StackConfig, "site">[];

/** The keys each object-valued config key allows; platforms' come from the platform table. */
const objectKeys = {
  storageClasses: ["fast", "bulk"],
  ingress: ["className", "controllerNamespace", "skipAwait"],
  tls: ["mode", "acmeClusterIssuer"],
  images: Object.keys(imageCatalog),
  capacity: ["nodes", "headroomPercent", "limitOvercommit"],
  backup: ["schedule", "retain"],
} as const;

/** Every `keel:` key with the sub-keys it allows (`null`: a plain value), secret keys included. */
export function configSubKeys(): Map<string, ReadonlySet<string> | null> {
  const subKeys: Record<string, readonly string[]> = { ...objectKeys };
  for (const p of platformNames) subKeys[p] = platformTable[p].settingKeys;
  return new Map(
    [...configKeys, ...secretKeys].map((k) => [k, subKeys[k] ? new Set(subKeys[k]) : null] as const),
  );
}

type Raw = Record<string, unknown>;

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const registryRe = /^[a-z0-9.-]+(:\d{1,5})?(\/[a-z0-9._-]+)*$/;

function err(key: string, problem: string): ValidationError {
  return new ValidationError(`keel:${key}`, problem);
}

function isObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function oneOf<T extends string>(key: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== "string" || !allowed.includes(v as T)) {
    throw err(key, `must be one of ${allowed.join(", ")}; got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function bool(key: string, v: unknown): boolean {
  if (typeof v !== "boolean") throw err(key, `must be true or false; got ${JSON.stringify(v)}`);
  return v;
}

function int(key: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw err(key, `must be an integer from ${min} to ${max}; got ${JSON.stringify(v)}`);
  }
  return v;
}

function num(key: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
    throw err(key, `must be a number from ${min} to ${max}; got ${JSON.stringify(v)}`);
  }
  return v;
}

function str(key: string, v: unknown, re: RegExp, what: string): string {
  if (typeof v !== "string" || !re.test(v)) throw err(key, `must be ${what}; got ${JSON.stringify(v)}`);
  return v;
}

function object(key: string, v: unknown, allowedKeys: readonly string[]): Raw {
  if (!isObject(v)) throw err(key, `must be an object with keys ${allowedKeys.join(", ")}`);
  const unknown = Object.keys(v).filter((k) => !allowedKeys.includes(k));
  if (unknown.length > 0) {
    throw err(`${key}.${unknown[0]}`, `is not a known key; allowed: ${allowedKeys.join(", ")}`);
  }
  return v;
}

/**
 * Validates raw stack config (as parsed from `keel:*` values) and fills defaults. Throws a ValidationError
 * naming the key and what is allowed; nothing has been registered when it throws.
 */
export function parseStackConfig(raw: Raw): StackConfig {
  const unknown = Object.keys(raw).filter(
    (k) => !(configKeys as string[]).includes(k) && !(secretKeys as readonly string[]).includes(k),
  );
  if (unknown.length > 0) {
    throw err(unknown[0], `is not a known key; known keys: ${[...configKeys, ...secretKeys].join(", ")}`);
  }
  const get = <K extends Exclude<keyof StackConfig, "site">>(k: K): unknown =>
    raw[k] !== undefined ? raw[k] : defaults[k];

  const platformsRaw = get("platforms");
  if (!Array.isArray(platformsRaw))
    throw err("platforms", `must be a list drawn from ${platformNames.join(", ")}`);
  const platforms = platformsRaw.map((p, i) => oneOf(`platforms[${i}]`, p, platformNames));
  if (new Set(platforms).size !== platforms.length) throw err("platforms", "lists a platform twice");

  const sc = object("storageClasses", get("storageClasses"), objectKeys.storageClasses);
  const storageClasses = { ...siteDefaults.storageClasses, ...sc } as StackConfig["storageClasses"];
  const ing = object("ingress", get("ingress"), objectKeys.ingress);
  const ingress = { ...siteDefaults.ingress, ...ing } as StackConfig["ingress"];
  bool("ingress.skipAwait", ingress.skipAwait);

  const airGapped = bool("airGapped", get("airGapped"));
  const t = object("tls", get("tls"), objectKeys.tls);
  const mode = oneOf("tls.mode", t.mode ?? "selfSigned", tlsModes);
  if (mode === "acme" && airGapped) {
    throw err(
      "tls.mode",
      "acme cannot work in an air-gapped stack (no route to an ACME server); use selfSigned or provided",
    );
  }
  const tls: StackConfig["tls"] = { mode };
  if (mode === "acme") {
    tls.acmeClusterIssuer = str(
      "tls.acmeClusterIssuer",
      t.acmeClusterIssuer,
      dnsLabel,
      "a cert-manager ClusterIssuer name",
    );
  }
  if (mode === "provided" && (raw.tlsCertificate === undefined || raw.tlsKey === undefined)) {
    throw err(
      "tls.mode",
      "provided needs keel:tlsCertificate and keel:tlsKey set with `pulumi config set --secret`",
    );
  }

  const registryRaw = get("imageRegistry");
  const imageRegistry =
    registryRaw === undefined
      ? undefined
      : str("imageRegistry", registryRaw, registryRe, "a registry host[/path]");
  if (airGapped && !imageRegistry) {
    throw err(
      "imageRegistry",
      "is required in an air-gapped stack (every image must come from the private registry)",
    );
  }

  const imagesRaw = object("images", get("images"), objectKeys.images);
  const images: StackConfig["images"] = {};
  for (const [key, v] of Object.entries(imagesRaw)) {
    const o = object(`images.${key}`, v, ["repository", "tag", "digest"]);
    const base = imageCatalog[key as ImageKey];
    const pinned: PinnedImage = {
      repository: typeof o.repository === "string" ? o.repository : base.repository,
      tag: typeof o.tag === "string" ? o.tag : base.tag,
      ...(typeof o.digest === "string" ? { digest: o.digest } : {}),
    };
    const problems = validatePinnedImage(`keel:images.${key}`, pinned);
    if (problems.length > 0) throw problems[0];
    images[key as ImageKey] = pinned;
  }

  const cap = object("capacity", get("capacity"), objectKeys.capacity);
  const capDefaults = defaults.capacity!;
  const nodesRaw = cap.nodes ?? capDefaults.nodes;
  if (!Array.isArray(nodesRaw) || nodesRaw.length === 0) {
    throw err("capacity.nodes", "must be a non-empty list of {count, cpu, memoryGi}");
  }
  const capacity: Capacity = {
    nodes: nodesRaw.map((n, i) => {
      const o = object(`capacity.nodes[${i}]`, n, ["count", "cpu", "memoryGi"]);
      return {
        count: int(`capacity.nodes[${i}].count`, o.count ?? 1, 1, 1000),
        cpu: num(`capacity.nodes[${i}].cpu`, o.cpu, 1, 1024),
        memoryGi: num(`capacity.nodes[${i}].memoryGi`, o.memoryGi, 1, 16384),
      };
    }),
    headroomPercent: num(
      "capacity.headroomPercent",
      cap.headroomPercent ?? capDefaults.headroomPercent,
      0,
      90,
    ),
    limitOvercommit: num(
      "capacity.limitOvercommit",
      cap.limitOvercommit ?? capDefaults.limitOvercommit,
      1,
      10,
    ),
  };

  const b = object("backup", get("backup"), objectKeys.backup);
  const backup = { ...siteDefaults.backup, ...b } as StackConfig["backup"];
  const settings = Object.fromEntries(
    platformNames.map((p) => [p, object(p, get(p), [...platformTable[p].settingKeys])]),
  ) as unknown as PlatformSettings;
  const sizing = get("sizing") as SizingProfileName;
  const gpu = bool("gpu", get("gpu"));
  const protectData = bool("protectData", get("protectData"));
  const secretRotation = get("secretRotation") as number;
  const maintenance = bool("maintenance", get("maintenance"));
  const site = resolveSite(
    {
      domain: get("domain") as string,
      sizing,
      images: new ImageResolver(imageRegistry, images),
      storageClasses,
      ingress,
      backup,
      protectData,
      secretRotation,
      maintenance,
      airGapped,
      gpu,
    },
    "keel:",
  );

  return {
    site,
    platforms,
    domain: site.domain,
    sizing,
    storageClasses,
    ingress,
    tls,
    imageRegistry,
    images,
    capacity,
    gpu,
    airGapped,
    backup,
    protectData,
    secretRotation,
    maintenance,
    ...settings,
  };
}

/**
 * The Kubernetes provider settings keel relies on (Pulumi.yaml sets both for every stack). Without them the
 * provider replaces a Secret or ConfigMap whose data changes, and the engine replaces every workload that
 * reads it by name, StatefulSets and their pods included: a secret rotation or a config change would
 * recreate databases. With them the data updates in place and pods roll through their config hash or
 * `keel.dev/secret-rotation` annotation.
 */
export const providerSettings = [
  "kubernetes:enableSecretMutable",
  "kubernetes:enableConfigMapMutable",
] as const;

/** Refuses a stack that turned off a setting of `providerSettings`; `all` is `pulumi.runtime.allConfig()`. */
export function validateProviderConfig(all: Record<string, string>): void {
  for (const key of providerSettings) {
    if (all[key] !== "true") {
      throw new ValidationError(
        key,
        `must be true (it is ${all[key] === undefined ? "unset" : `"${all[key]}"`}): keel updates Secrets and ` +
          "ConfigMaps in place and rolls the pods that read them; without it the provider would replace " +
          "them and every workload that reads them. Pulumi.yaml sets it; remove the stack's override",
      );
    }
  }
}

/** Turns `pulumi.runtime.allConfig()` (namespaced, string values) into the raw object parseStackConfig takes. */
export function rawFromAllConfig(all: Record<string, string>): Raw {
  const raw: Raw = {};
  for (const [fullKey, value] of Object.entries(all)) {
    if (!fullKey.startsWith("keel:")) continue;
    const key = fullKey.slice("keel:".length);
    raw[key] = parseValue(value);
  }
  return raw;
}

function parseValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
