#!/usr/bin/env node
/**
 * audit [--format text|json] [--config policy-config.json] <files or folders or - (stdin)>
 *
 * Runs every rule of the pack over Kubernetes YAML/JSON manifests. Exit 0: no mandatory violation;
 * 1: at least one mandatory violation (a file that cannot be parsed is one, `yaml-parse`); 2: usage or config
 * error, or a path that does not exist.
 */
import * as fs from "fs";
import { PolicyConfigFile, validateConfig } from "../core/config";
import { evaluateAll } from "../core/evaluate";
import { isRecord } from "../core/k8s";
import { ALL_RULES } from "../registry";
import { isInputRuleId } from "./input-findings";
import { ManifestError, loadManifests } from "./load-manifests";
import { formatText, inputEntries, toEntries } from "./report";

const USAGE =
  "usage: audit [--format text|json] [--config policy-config.json] <files or folders, or - for standard input>";

export interface AuditOptions {
  format: "text" | "json";
  configFile?: string;
  paths: string[];
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): AuditOptions {
  const options: AuditOptions = { format: "text", paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) {
        throw new UsageError(`${flag} needs a value`);
      }
      return v;
    };
    if (flag === "--format") {
      const format = value();
      if (format !== "text" && format !== "json") {
        throw new UsageError(`--format must be text or json, not '${format}'`);
      }
      options.format = format;
    } else if (flag === "--config") {
      options.configFile = value();
    } else if (flag === "--help" || flag === "-h") {
      throw new UsageError("");
    } else if (flag.startsWith("-") && flag !== "-") {
      throw new UsageError(`unknown option ${flag}`);
    } else {
      options.paths.push(arg);
    }
  }
  if (options.paths.length === 0) {
    throw new UsageError("no files or folders given");
  }
  return options;
}

function readConfig(file: string | undefined): PolicyConfigFile {
  if (!file) {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  if (!isRecord(parsed)) {
    throw new UsageError(`config ${file} must be a JSON object keyed by rule id`);
  }
  const inputIds = Object.keys(parsed).filter(isInputRuleId);
  if (inputIds.length > 0) {
    throw new UsageError(
      `config ${file}: ${inputIds.map((id) => `'${id}'`).join(", ")} reports input the audit could not read; ` +
        "it has no level or settings to configure: fix or leave out the files it names",
    );
  }
  const problems = validateConfig(parsed, ALL_RULES);
  if (problems.length > 0) {
    throw new UsageError(`config ${file}: ${problems.join("; ")}`);
  }
  return parsed;
}

/** Runs the audit; returns the exit code. */
export function main(
  argv: readonly string[],
  out: (text: string) => void,
  err: (text: string) => void,
): number {
  try {
    const options = parseArgs(argv);
    const config = readConfig(options.configFile);
    const { objects, sources, skipped, problems } = loadManifests(options.paths);
    for (const s of skipped) {
      err(`audit: skipped ${s.file}#${s.document}: not a Kubernetes object (${s.what})\n`);
    }
    const entries = [
      ...inputEntries(problems),
      ...toEntries(evaluateAll(objects, ALL_RULES, config), sources),
    ];
    out(
      options.format === "json"
        ? JSON.stringify(entries, null, 2) + "\n"
        : formatText(entries, objects.length),
    );
    return entries.some((e) => e.level === "mandatory") ? 1 : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(e.message ? `audit: ${e.message}\n${USAGE}\n` : `${USAGE}\n`);
      return 2;
    }
    if (e instanceof ManifestError) {
      err(`audit: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  process.exitCode = main(
    process.argv.slice(2),
    (t) => process.stdout.write(t),
    (t) => process.stderr.write(t),
  );
}
