/**
 * A full, deterministic dump of what a program registers under the unit tests' Pulumi mocks: every resource
 * (components too) with its URN, type, name, parent, custom flag, the options that change what `pulumi up`
 * does, and its inputs as the engine receives them. Secrets are shown as a marker with a digest of the value
 * (a changed secret shows, its value does not); unknowns and resource references as markers.
 *
 * It records at the mock monitor (the class, not an instance), so it sees a program loaded from another
 * work tree as long as that tree resolves the same @pulumi/pulumi (a worktree whose node_modules link here).
 */
import { createHash } from "crypto";
import { stringify } from "yaml";

/** One registration as the engine would see it. */
export interface DumpedResource {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  custom: boolean;
  options?: Record<string, unknown>;
  inputs: unknown;
}

// rpc.ts's signature key and values (stable parts of the Pulumi wire protocol).
const sigKey = "4dabf18193072939515e22adb298388d";
const sigs: Record<string, string> = {
  "1b47061264138c4ac30d75fd1eb44270": "secret",
  "5cf8f73096256a8f31e491e813e4eb8e": "resource",
  c44067f5952c0a294b673a41bacd8c17: "asset",
  "0def7320c3a5731c473e5ecbe6d01bc7": "archive",
  d0e6a833031e9bbcd3f4e8bde6ca49a4: "output",
};
const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Wire values as readable, order-independent data: object keys sorted, special values as markers. */
export function normalize(value: unknown): unknown {
  if (value === unknown) return "[unknown]";
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  const sig = typeof obj[sigKey] === "string" ? sigs[obj[sigKey] as string] : undefined;
  if (sig === "secret") return `[secret sha256:${digest(normalize(obj.value))}]`;
  if (sig === "resource") return `[resource ${String(obj.urn)}]`;
  const keys = Object.keys(obj)
    .filter((k) => k !== sigKey)
    .sort();
  const out: Record<string, unknown> = sig ? { [`[${sig}]`]: true } : {};
  for (const k of keys) out[k] = normalize(obj[k]);
  return out;
}

function digest(value: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(value) ?? "undefined")
    .digest("hex")
    .slice(0, 16);
}

/** The mock engine's URN: a child's type is qualified by its parent's (what the real engine does too). */
function urnOf(stack: string, project: string, parent: string, type: string, name: string): string {
  const qualified = parent ? `${parent.split("::")[2].split("$").pop()}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** A RegisterResourceRequest or ReadResourceRequest (protobuf getters; the read one lacks some). */
type WireRequest = Record<string, ((this: WireRequest) => unknown) | undefined>;

/** The getter's value, or undefined where the request has no such getter or it is empty/false. */
function field(req: WireRequest, getter: string): unknown {
  const v = req[getter]?.call(req);
  return v === "" || v === false || v === 0 || (Array.isArray(v) && v.length === 0) ? undefined : v;
}

/** Options that change what an update does, only where set (sorted lists: order carries no meaning). */
function optionsOf(req: WireRequest): Record<string, unknown> | undefined {
  const sorted = (getter: string) => (field(req, getter) as string[] | undefined)?.slice().sort();
  const aliases = field(req, "getAliasesList") as { toObject(): unknown }[] | undefined;
  const options: Record<string, unknown> = {
    protect: field(req, "getProtect"),
    provider: field(req, "getProvider"),
    dependsOn: sorted("getDependenciesList"),
    ignoreChanges: sorted("getIgnorechangesList"),
    replaceOnChanges: sorted("getReplaceonchangesList"),
    additionalSecretOutputs: sorted("getAdditionalsecretoutputsList"),
    aliases: aliases?.map((a) => a.toObject()),
    deleteBeforeReplace: field(req, "getDeletebeforereplace"),
    retainOnDelete: field(req, "getRetainondelete"),
    deletedWith: field(req, "getDeletedwith"),
    importId: field(req, "getImportid"),
    version: field(req, "getVersion"),
  };
  const set = Object.entries(options).filter(([, v]) => v !== undefined);
  return set.length > 0 ? Object.fromEntries(set) : undefined;
}

const records: DumpedResource[] = [];
let installed = false;
let recording = false;

/**
 * Records every registerResource and readResource the mock monitor receives from now on; the returned
 * function stops recording and gives the records.
 */
export function recordRegistrations(): () => DumpedResource[] {
  records.length = 0;
  if (!installed) wrapMockMonitor();
  installed = true;
  recording = true;
  return () => {
    recording = false;
    return [...records];
  };
}

function wrapMockMonitor(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mocks = require("@pulumi/pulumi/runtime/mocks");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings");
  const proto = mocks.MockMonitor.prototype;
  const record = (req: WireRequest, custom: boolean, inputs: unknown) => {
    const [type, name, parent] = ["getType", "getName", "getParent"].map((g) => String(field(req, g) ?? ""));
    const urn = urnOf(settings.getStack(), settings.getProject(), parent, type, name);
    const options = optionsOf(req);
    records.push({
      urn,
      type,
      name,
      ...(parent ? { parent } : {}),
      custom,
      ...(options ? { options } : {}),
      inputs: normalize(inputs),
    });
  };
  for (const [method, custom, object] of [
    ["registerResource", undefined, "getObject"],
    ["readResource", true, "getProperties"],
  ] as const) {
    const original = proto[method];
    proto[method] = function (this: unknown, req: WireRequest, callback: unknown) {
      if (recording) {
        const inputs = (field(req, object) as { toJavaScript(): unknown } | undefined)?.toJavaScript();
        record(req, custom ?? Boolean(field(req, "getCustom")), inputs ?? {});
      }
      return original.call(this, req, callback);
    };
  }
}

/** The resources sorted by URN as one YAML document (block scalars keep config files diffable line by line). */
export function toDumpYaml(resources: DumpedResource[]): string {
  const byUrn = [...resources].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  for (let i = 1; i < byUrn.length; i++) {
    if (byUrn[i].urn === byUrn[i - 1].urn) throw new Error(`${byUrn[i].urn} registered twice`);
  }
  return stringify(byUrn, { lineWidth: 0 });
}
