import { Container, K8sObject, PodSpec, asArray, asString, isRecord } from "./k8s";
import type { StackIndex } from "./stack-index";
import { readOr } from "./unknown";

/** Command and args of a container split into words (shell scripts such as `sh -c "..."` included). */
export function commandWords(container: Container): string[] {
  const parts = [...asArray<unknown>(container.command), ...asArray<unknown>(container.args)];
  return parts
    .filter((p): p is string => typeof p === "string")
    .flatMap((p) => p.split(/\s+/))
    .filter((w) => w !== "");
}

/** `-c name=value`, `-cname=value` and `--name=value` settings of a postgres command line. */
export function postgresArgSettings(container: Container): Map<string, string> {
  const words = commandWords(container);
  const settings = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    let assignment: string | undefined;
    if (word === "-c" && i + 1 < words.length) {
      assignment = words[++i];
    } else if (word.startsWith("-c") && word.includes("=")) {
      assignment = word.slice(2);
    } else if (word.startsWith("--") && word.includes("=")) {
      assignment = word.slice(2);
    }
    if (assignment && assignment.includes("=")) {
      const eq = assignment.indexOf("=");
      settings.set(normalizeKey(assignment.slice(0, eq)), stripQuotes(assignment.slice(eq + 1)));
    }
  }
  return settings;
}

/** `name = value` and `name value` lines of a postgresql.conf / redis.conf style file. */
export function confFileSettings(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const match = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=\s*|\s+)(.+)$/.exec(line);
    if (match) {
      settings.set(normalizeKey(match[1]!), stripQuotes(match[2]!.trim()));
    }
  }
  return settings;
}

function normalizeKey(key: string): string {
  return key.trim().toLowerCase().replace(/-/g, "_");
}

function stripQuotes(value: string): string {
  return value.trim().replace(/^['"]|['"]$/g, "");
}

/**
 * Text of the ConfigMap files (keys ending in `fileSuffix`) mounted into a container, read from the stack.
 * Returns the files with the ConfigMap name, for messages.
 */
export function mountedConfigFiles(
  stack: StackIndex,
  workload: K8sObject,
  pod: PodSpec,
  container: Container,
  fileSuffix: RegExp,
): Array<{ configMap: string; key: string; text: string }> {
  const mounted = new Set(
    asArray<{ name?: string }>(container.volumeMounts)
      .map((m) => asString(m?.name))
      .filter(Boolean),
  );
  const files: Array<{ configMap: string; key: string; text: string }> = [];
  for (const volume of asArray<{ name?: string; configMap?: { name?: string } }>(pod.volumes)) {
    const cmName = asString(volume?.configMap?.name);
    if (!cmName || !mounted.has(asString(volume.name))) {
      continue;
    }
    const cm = stack
      .inNamespace(stack.namespaceOf(workload), "ConfigMap")
      .find((c) => stack.nameOf(c) === cmName);
    const data = cm ? readOr(() => cm.data, undefined) : undefined;
    if (!isRecord(data)) {
      continue;
    }
    for (const [key, text] of Object.entries(data)) {
      if (fileSuffix.test(key) && typeof text === "string") {
        files.push({ configMap: cmName, key, text });
      }
    }
  }
  return files;
}

/** The literal value of an environment variable of the container, if set with `value`. */
export function envValue(container: Container, name: string): string | undefined {
  const entry = asArray<{ name?: string; value?: unknown }>(container.env).find((e) => e?.name === name);
  return asString(entry?.value);
}
