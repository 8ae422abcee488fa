// The resource plugins a stack needs, and where they live in a PULUMI_HOME plugin cache.
import * as fs from "fs";
import * as path from "path";
import { PluginRef } from "./site/state";

const versionRe = /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;

/** Resource plugins the installed SDK packages declare (`"pulumi": {"resource": true, "name", "version"}`). */
export function pluginsFromPackages(
  pkgs: { name: string; version: string; pulumi?: unknown }[],
): PluginRef[] {
  const out: PluginRef[] = [];
  for (const p of pkgs) {
    const meta = p.pulumi as { resource?: boolean; name?: string; version?: string } | undefined;
    if (!meta || meta.resource !== true) continue;
    const name = meta.name ?? p.name.replace(/^@pulumi\//, "");
    const version = (meta.version ?? p.version).replace(/^v/, "");
    if (!/^[a-z0-9-]+$/.test(name) || !versionRe.test(version)) {
      throw new Error(`${p.name}: unusable plugin declaration ${JSON.stringify(meta)}`);
    }
    out.push({ name, version });
  }
  return mergePlugins(out);
}

/** Union of plugin lists, one entry per name and version, sorted. */
export function mergePlugins(...lists: PluginRef[][]): PluginRef[] {
  const byKey = new Map<string, PluginRef>();
  for (const p of lists.flat()) byKey.set(`${p.name}@${p.version.replace(/^v/, "")}`, p);
  return [...byKey.values()]
    .map((p) => ({ name: p.name, version: p.version.replace(/^v/, "") }))
    .sort((a, b) => (a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1));
}

/** The plugin cache folder name: `resource-<name>-v<version>`. */
export function pluginDirName(p: PluginRef): string {
  return `resource-${p.name}-v${p.version}`;
}

/**
 * Locates each plugin in `<pulumiHome>/plugins`: the folder must hold `pulumi-resource-<name>` and no
 * `.partial` marker (an interrupted install). Returns the folders, or throws listing every missing plugin.
 */
export function locatePlugins(pulumiHome: string, plugins: PluginRef[]): Map<PluginRef, string> {
  const found = new Map<PluginRef, string>();
  const missing: string[] = [];
  for (const p of plugins) {
    const dir = path.join(pulumiHome, "plugins", pluginDirName(p));
    const bin = path.join(dir, `pulumi-resource-${p.name}`);
    if (fs.existsSync(bin) && !fs.existsSync(`${dir}.partial`)) found.set(p, dir);
    else missing.push(`${p.name} ${p.version} (expected ${bin})`);
  }
  if (missing.length > 0) {
    throw new Error(
      `plugins missing from the plugin cache ${pulumiHome}: ${missing.join("; ")}. ` +
        "Build them with `npm run toolchain` (versions come from package.json).",
    );
  }
  return found;
}
