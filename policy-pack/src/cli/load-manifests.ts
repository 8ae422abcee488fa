import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { CORE_SCHEMA, Type, YAMLException, loadAll } from "js-yaml";
import { K8sObject, asArray, isRecord } from "../core/k8s";
import { ChartFinder, chartFinding, helmActionLine, templateFileFinding } from "./helm";
import type { InputFinding } from "./input-findings";

export interface SourceLocation {
  file: string;
  /** 0-based index of the YAML document in its file (always 0 for JSON). */
  document: number;
  /** 1-based line where the document starts. */
  line: number;
}

export interface LoadedManifests {
  objects: K8sObject[];
  sources: Map<K8sObject, SourceLocation>;
  /** Documents skipped because they are not Kubernetes objects (no kind/apiVersion, or not a mapping). */
  skipped: Array<SourceLocation & { what: string }>;
  /** Documents and files that could not be audited: parse errors, duplicate keys, Helm templates. */
  problems: InputFinding[];
}

/** A path that does not exist, or standard input named twice; the audit command exits 2 with its message. */
export class ManifestError extends Error {}

/** The path that stands for standard input. */
export const STDIN = "-";
const STDIN_NAME = "<stdin>";

const MANIFEST_FILE = /\.(ya?ml|json)$/i;
const TEMPLATE_FILE = /\.tpl$/i;

/** A file to read: `file` is the path to open, `name` the path relative to the folder it was found in. */
export interface InputFile {
  file: string;
  name: string;
}

/** Files to read: the given files, and the .yaml/.yml/.json/.tpl files under the given folders (recursively, sorted). */
export function manifestFiles(paths: readonly string[]): InputFile[] {
  const files: InputFile[] = [];
  const seen = new Set<string>();
  const add = (f: InputFile) => {
    const key = f.file === STDIN ? STDIN : path.resolve(f.file);
    if (key === STDIN && seen.has(STDIN)) {
      throw new ManifestError("standard input (-) can be read only once");
    }
    if (!seen.has(key)) {
      seen.add(key);
      files.push(f);
    }
  };
  for (const p of paths) {
    if (p === STDIN) {
      add({ file: STDIN, name: STDIN_NAME });
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw new ManifestError(`${p}: no such file or folder`);
    }
    if (stat.isDirectory()) {
      walk(p).forEach((file) => add({ file, name: path.relative(p, file) }));
    } else {
      add({ file: p, name: path.basename(p) });
    }
  }
  return files;
}

function walk(dir: string): string[] {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  const files: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && !entry.name.startsWith(".")) {
        files.push(...walk(full));
      }
    } else if (MANIFEST_FILE.test(entry.name) || TEMPLATE_FILE.test(entry.name)) {
      files.push(full);
    }
  }
  return files;
}

/**
 * Reads every manifest under `paths`. Never throws for a file's content: a document that cannot be parsed
 * becomes a `yaml-parse` problem and the file's other documents and the other files are still read; Helm
 * templates become `helm-unrendered` problems and are not read as manifests.
 */
export function loadManifests(
  paths: readonly string[],
  readStdin: () => string = () => fs.readFileSync(0, "utf8"),
): LoadedManifests {
  const loaded: LoadedManifests = { objects: [], sources: new Map(), skipped: [], problems: [] };
  const charts = new ChartFinder();
  for (const input of manifestFiles(paths)) {
    if (input.file !== STDIN && charts.claim(input.file)) {
      continue;
    }
    const shown = input.file === STDIN ? STDIN_NAME : input.file;
    let text: string;
    try {
      text = input.file === STDIN ? readStdin() : fs.readFileSync(input.file, "utf8");
    } catch (err) {
      loaded.problems.push(unreadable(input, shown, err as Error));
      continue;
    }
    loadText(loaded, { ...input, file: shown }, text);
  }
  loaded.problems.push(...charts.found().map(chartFinding));
  return loaded;
}

function unreadable(input: InputFile, file: string, err: Error): InputFinding {
  return {
    rule: "yaml-parse",
    kind: "File",
    name: input.name,
    file,
    message: `cannot read the file (${err.message}): make it readable or leave it out`,
  };
}

function loadText(loaded: LoadedManifests, input: InputFile, text: string): void {
  if (TEMPLATE_FILE.test(input.file)) {
    loaded.problems.push(templateFileFinding(input.file, input.name, undefined));
    return;
  }
  const parsed = parseText(input, text);
  const helm = helmActionLine(text);
  if (helm && (parsed.problems.length > 0 || parsed.docs.some((d) => hasTemplateArtifact(d.doc, 0)))) {
    loaded.problems.push(templateFileFinding(input.file, input.name, helm));
    return;
  }
  loaded.problems.push(...parsed.problems);
  for (const { doc, source } of parsed.docs) {
    addDocument(loaded, doc, source);
  }
}

interface ParsedText {
  docs: Array<{ doc: unknown; source: SourceLocation }>;
  problems: InputFinding[];
}

function parseText(input: InputFile, text: string): ParsedText {
  const result: ParsedText = { docs: [], problems: [] };
  if (/\.json$/i.test(input.file)) {
    const parsed = parseJson(input, text);
    if ("problem" in parsed) {
      result.problems.push(parsed.problem);
    } else {
      result.docs.push({ doc: parsed.doc, source: { file: input.file, document: 0, line: 1 } });
    }
    return result;
  }
  let document = 0;
  for (const chunk of splitDocuments(text)) {
    const parsed = parseYamlChunk(input, chunk, document);
    result.problems.push(...parsed.problems);
    for (const doc of parsed.docs ?? [undefined]) {
      result.docs.push({ doc, source: { file: input.file, document, line: chunk.line + 1 } });
      document++;
    }
  }
  return result;
}

const TEMPLATED_FIELD = new Set(["apiVersion", "kind", "name", "namespace", "image"]);

/**
 * Whether a parsed document shows that its Helm actions stand where YAML structure is: an unquoted
 * `{{ ... }}` value reads as a mapping with an object key (which becomes "[object Object]"), and a quoted one in
 * a name, namespace, kind or image is not a valid value. Helm text inside data (a ConfigMap shipping templates)
 * is neither, so rendered manifests that carry such text are still audited.
 */
function hasTemplateArtifact(value: unknown, depth: number): boolean {
  if (depth > 64 || value === null || typeof value !== "object") {
    return false;
  }
  if (Array.isArray(value)) {
    return value.some((v) => hasTemplateArtifact(v, depth + 1));
  }
  return Object.entries(value as Record<string, unknown>).some(
    ([k, v]) =>
      k === "[object Object]" ||
      (TEMPLATED_FIELD.has(k) && typeof v === "string" && v.includes("{{")) ||
      hasTemplateArtifact(v, depth + 1),
  );
}

function parseJson(input: InputFile, text: string): { doc: unknown } | { problem: InputFinding } {
  try {
    return { doc: JSON.parse(text) };
  } catch (err) {
    const message = (err as Error).message;
    const position = /at position (\d+)/.exec(message);
    const line = position ? text.slice(0, Number(position[1])).split("\n").length : 1;
    return {
      problem: {
        rule: "yaml-parse",
        kind: "File",
        name: input.name,
        file: input.file,
        document: 0,
        line,
        message: `JSON syntax error at line ${line}: ${message}: fix the JSON (a missing or extra comma, quote or bracket); the file was not audited`,
      },
    };
  }
}

/** One YAML document's text; `line` is the 0-based line of the file where it starts. */
export interface Chunk {
  text: string;
  line: number;
}

const DOCUMENT_START = /^---(?=[ \t\r\n]|$)/gm;

/**
 * Splits a YAML stream at its `---` lines, so that an error in one document leaves the others readable
 * (a `---` at the start of a line always starts a document, even inside a block scalar). Text before the
 * first `---` that holds only comments and blank lines is dropped, as the YAML loader would ignore it.
 */
export function splitDocuments(text: string): Chunk[] {
  const starts: number[] = [0];
  for (const match of text.matchAll(DOCUMENT_START)) {
    if (match.index! > 0) {
      starts.push(match.index!);
    }
  }
  const chunks: Chunk[] = [];
  let line = 0;
  for (let i = 0; i < starts.length; i++) {
    const chunkText = text.slice(starts[i], starts[i + 1] ?? text.length);
    if (i > 0 || /^[ \t]*[^\s#]/m.test(chunkText)) {
      chunks.push({ text: chunkText, line });
    }
    line += countLines(chunkText);
  }
  return chunks;
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) {
    n++;
  }
  return n;
}

/** YAML 1.2 core schema (no timestamps turned into Dates) plus `<<` merge keys. */
const mergeType = (jsyaml as unknown as { types: { merge: Type } }).types.merge; // exported by js-yaml 4, missing from its typings
const SCHEMA = CORE_SCHEMA.extend([mergeType]);

interface ParsedChunk {
  /** Undefined when the document cannot be read at all. */
  docs?: unknown[];
  problems: InputFinding[];
}

/**
 * Parses one document. A duplicate mapping key is reported and the document is read again keeping the last
 * value, as Helm and kubectl's lenient decoding do; any other error leaves the document unread.
 */
function parseYamlChunk(input: InputFile, chunk: Chunk, document: number): ParsedChunk {
  const problems: InputFinding[] = [];
  for (const json of [false, true]) {
    try {
      return {
        docs: loadAll(chunk.text, undefined, { schema: SCHEMA, filename: input.file, json }),
        problems,
      };
    } catch (err) {
      if (!(err instanceof YAMLException)) {
        throw err;
      }
      const duplicate = !json && err.reason === "duplicated mapping key";
      problems.push(yamlProblem(input, chunk, document, err, duplicate));
      if (!duplicate) {
        break;
      }
    }
  }
  return { problems };
}

function yamlProblem(
  input: InputFile,
  chunk: Chunk,
  document: number,
  err: YAMLException,
  duplicate: boolean,
): InputFinding {
  const at = err.mark?.line ?? 0;
  const line = chunk.line + at + 1;
  const where = `line ${line}${err.mark ? `, column ${err.mark.column + 1}` : ""} (document ${document})`;
  let message: string;
  if (duplicate) {
    const key = keyAt(chunk.text.split("\n")[at] ?? "", err.mark?.column ?? 0);
    message =
      `duplicate mapping key ${key ? `'${key}' ` : ""}at ${where}: remove one of the two entries. ` +
      "Tools disagree on which one counts (Helm and lenient decoders keep the last, strict validation rejects the " +
      "document); this document was audited with the last value";
  } else {
    message =
      `YAML syntax error at ${where}: ${err.reason}: fix the syntax there (indentation, quoting, a missing ` +
      "':' or closing bracket); this document was not audited, the file's other documents were";
    if (chunk.text.includes("{{")) {
      message +=
        ". It contains template actions ({{ ... }}): if it is a template, render it and audit the output";
    }
  }
  return { rule: "yaml-parse", kind: "File", name: input.name, file: input.file, document, line, message };
}

/** The mapping key written at `column` of `lineText` (js-yaml points at the repeated key). */
function keyAt(lineText: string, column: number): string | undefined {
  const match = /^(?:-\s+)?("(?:[^"\\]|\\.)*"|'[^']*'|[^\s:#][^:#]*?)\s*:(?:\s|$)/.exec(
    lineText.slice(column),
  );
  return match ? match[1]!.replace(/^["']|["']$/g, "") : undefined;
}

function addDocument(loaded: LoadedManifests, doc: unknown, source: SourceLocation): void {
  if (doc === null || doc === undefined) {
    return;
  }
  if (!isRecord(doc)) {
    loaded.skipped.push({
      ...source,
      what: Array.isArray(doc) ? "a list, not a mapping" : `a ${typeof doc}, not a mapping`,
    });
    return;
  }
  if (typeof doc.kind === "string" && /List$/.test(doc.kind) && Array.isArray(doc.items)) {
    for (const item of asArray<unknown>(doc.items)) {
      addDocument(loaded, item, source);
    }
    return;
  }
  if (typeof doc.kind !== "string" || typeof doc.apiVersion !== "string") {
    loaded.skipped.push({ ...source, what: "no apiVersion/kind" });
    return;
  }
  const obj = doc as K8sObject;
  loaded.objects.push(obj);
  loaded.sources.set(obj, source);
}
