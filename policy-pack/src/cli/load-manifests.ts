import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { CORE_SCHEMA, Type, YAMLException, loadAll } from "js-yaml";
import { K8sObject, asArray, isRecord } from "../core/k8s";

export interface SourceLocation {
    file: string;
    /** 0-based index of the YAML document in its file (always 0 for JSON). */
    document: number;
}

export interface LoadedManifests {
    objects: K8sObject[];
    sources: Map<K8sObject, SourceLocation>;
    /** Documents skipped because they are not Kubernetes objects (no kind/apiVersion). */
    skipped: SourceLocation[];
}

/** A file or document that cannot be read; the audit command exits 2 with its message. */
export class ManifestError extends Error {}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** Files to read: the given files, and the .yaml/.yml/.json files under the given folders (recursively, sorted). */
export function manifestFiles(paths: readonly string[]): string[] {
    const files: string[] = [];
    for (const p of paths) {
        let stat: fs.Stats;
        try {
            stat = fs.statSync(p);
        } catch {
            throw new ManifestError(`${p}: no such file or folder`);
        }
        if (stat.isDirectory()) {
            files.push(...walk(p));
        } else {
            files.push(p);
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
        } else if (MANIFEST_FILE.test(entry.name)) {
            files.push(full);
        }
    }
    return files;
}

export function loadManifests(paths: readonly string[]): LoadedManifests {
    const loaded: LoadedManifests = { objects: [], sources: new Map(), skipped: [] };
    for (const file of manifestFiles(paths)) {
        const text = fs.readFileSync(file, "utf8");
        const documents = /\.json$/i.test(file) ? [parseJson(file, text)] : parseYaml(file, text);
        documents.forEach((doc, index) => addDocument(loaded, doc, { file, document: index }));
    }
    return loaded;
}

function parseJson(file: string, text: string): unknown {
    try {
        return JSON.parse(text);
    } catch (err) {
        throw new ManifestError(`${file}: document 0: ${(err as Error).message}`);
    }
}

/** YAML 1.2 core schema (no timestamps turned into Dates) plus `<<` merge keys. */
const mergeType = (jsyaml as unknown as { types: { merge: Type } }).types.merge; // exported by js-yaml 4, missing from its typings
const SCHEMA = CORE_SCHEMA.extend([mergeType]);

function parseYaml(file: string, text: string): unknown[] {
    try {
        return loadAll(text, undefined, { schema: SCHEMA, filename: file });
    } catch (err) {
        if (err instanceof YAMLException) {
            const line = err.mark?.line ?? 0;
            throw new ManifestError(`${file}: document ${documentIndexAt(text, line)}: ${err.reason} (line ${line + 1})`);
        }
        throw err;
    }
}

/** Index of the YAML document that contains 0-based `line` (counting `---` separators before it). */
export function documentIndexAt(text: string, line: number): number {
    const lines = text.split("\n").slice(0, line + 1);
    let index = 0;
    let seenContent = false;
    for (const l of lines) {
        if (/^---(\s|$)/.test(l)) {
            if (seenContent) {
                index++;
            }
            seenContent = true;
        } else if (l.trim() !== "" && !l.trim().startsWith("#")) {
            seenContent = true;
        }
    }
    return index;
}

function addDocument(loaded: LoadedManifests, doc: unknown, source: SourceLocation): void {
    if (doc === null || doc === undefined) {
        return;
    }
    if (!isRecord(doc)) {
        throw new ManifestError(`${source.file}: document ${source.document}: expected a Kubernetes object (a mapping), got ${Array.isArray(doc) ? "a list" : typeof doc}`);
    }
    if (typeof doc.kind === "string" && /List$/.test(doc.kind) && Array.isArray(doc.items)) {
        for (const item of asArray<unknown>(doc.items)) {
            addDocument(loaded, item, source);
        }
        return;
    }
    if (typeof doc.kind !== "string" || typeof doc.apiVersion !== "string") {
        loaded.skipped.push(source);
        return;
    }
    const obj = doc as K8sObject;
    loaded.objects.push(obj);
    loaded.sources.set(obj, source);
}
