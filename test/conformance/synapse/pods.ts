import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { Recorded } from "../../unit/harness";
import { dataOf, objectIn } from "../harness";

/*
 * The Synapse pods a stack renders (main, each worker pod, LI), written to a scratch folder as the kubelet
 * would mount them, with only the mount paths rewritten. Shared by the Synapse config conformance suite and
 * the Matrix end-to-end test (test/matrix).
 */

export interface Mount {
  mountPath: string;
  kind: "configMap" | "secret" | "emptyDir" | "pvc";
  files: Record<string, string>;
}

/** One Synapse pod as the StatefulSet renders it. */
export interface Pod {
  namespace: string;
  statefulSet: string;
  pod: string;
  command: string[];
  env: Record<string, string>;
  mounts: Mount[];
}

/** Every pod of every StatefulSet whose container runs a Synapse app. */
export function synapsePods(res: Recorded[]): Pod[] {
  const pods: Pod[] = [];
  for (const ss of res.filter((r) => r.type === "kubernetes:apps/v1:StatefulSet")) {
    const spec = ss.inputs.spec.template.spec;
    const c = spec.containers[0];
    const command: string[] = [...(c.command ?? []), ...(c.args ?? [])];
    if (!command.some((a) => /-m synapse\.app\.|^synapse\.app\./.test(a))) continue;
    const namespace: string = ss.inputs.metadata.namespace;
    const mounts: Mount[] = (c.volumeMounts ?? []).map((m: any) => {
      expect(m.subPath, `${ss.inputs.metadata.name} ${m.mountPath}: whole-volume mounts`).to.equal(undefined);
      const v = spec.volumes.find((x: any) => x.name === m.name);
      if (v.configMap) {
        expect(v.configMap.items, "no items selection").to.equal(undefined);
        const data = objectIn(res, "ConfigMap", namespace, v.configMap.name).inputs.data ?? {};
        return { mountPath: m.mountPath, kind: "configMap", files: data };
      }
      if (v.secret) {
        expect(v.secret.items, "no items selection").to.equal(undefined);
        const files = dataOf(objectIn(res, "Secret", namespace, v.secret.secretName));
        return { mountPath: m.mountPath, kind: "secret", files };
      }
      if (v.emptyDir) return { mountPath: m.mountPath, kind: "emptyDir", files: {} };
      if (v.persistentVolumeClaim) return { mountPath: m.mountPath, kind: "pvc", files: {} };
      throw new Error(`${ss.inputs.metadata.name}: volume ${m.name} of an unknown kind`);
    });
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) env[e.name] = dataOf(objectIn(res, "Secret", namespace, ref.name))[ref.key];
      else if (typeof e.value === "string") env[e.name] = e.value;
    }
    const podNameEnv = (c.env ?? []).find((e: any) => e.valueFrom?.fieldRef?.fieldPath === "metadata.name");
    for (let i = 0; i < (ss.inputs.spec.replicas ?? 1); i++) {
      const pod = `${ss.inputs.metadata.name}-${i}`;
      pods.push({
        namespace,
        statefulSet: ss.inputs.metadata.name,
        pod,
        command,
        env: { ...env, ...(podNameEnv ? { [podNameEnv.name]: pod } : {}) },
        mounts,
      });
    }
  }
  return pods;
}

/** Rewrites mount paths in one pass (a rewritten path is never rewritten again, e.g. /tmp). */
export class PathRewriter {
  readonly applied = new Set<string>();
  private readonly re: RegExp;
  constructor(
    readonly podRoot: string,
    mountPaths: string[],
  ) {
    const alts = [...mountPaths]
      .sort((a, b) => b.length - a.length)
      .map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    this.re = new RegExp(`(^|[\\s>="':])(${alts.join("|")})(?=/|$|[\\s"'])`, "g");
  }
  /** A path-like value (the whole string is, or starts with, a mount path). */
  value(v: string): string {
    const m = /^\/[^\s]*$/.test(v)
      ? v.replace(this.re, (_all, pre: string, mp: string) => `${pre}${this.podRoot}${mp}`)
      : v;
    if (m !== v) this.applied.add(`${v} → ${m}`);
    return m;
  }
  /** Paths inside a command string (shell script or argument). */
  text(v: string): string {
    const out = v.replace(this.re, (_all, pre: string, mp: string) => {
      this.applied.add(`command: ${mp}/… → ${this.podRoot}${mp}/…`);
      return `${pre}${this.podRoot}${mp}`;
    });
    return out;
  }
  /** A YAML file: every string value naming a mount path is rewritten in the text, nothing else changes. */
  yaml(name: string, text: string): string {
    const walk = (v: any): any =>
      typeof v === "string"
        ? this.value(v)
        : Array.isArray(v)
          ? v.map(walk)
          : v && typeof v === "object"
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
            : v;
    const parsed = YAML.parse(text);
    const expected = walk(parsed);
    let out = text;
    const found: string[] = [];
    const collect = (a: any, b: any) => {
      if (typeof a === "string" && a !== b) found.push(a);
      else if (a && typeof a === "object") for (const k of Object.keys(a)) collect(a[k], b[k]);
    };
    collect(parsed, expected);
    for (const v of new Set(found)) out = out.split(JSON.stringify(v)).join(JSON.stringify(this.value(v)));
    expect(YAML.parse(out), `${name}: only the path values change`).to.deep.equal(expected);
    return out;
  }
}

/** A PEM whose body is not base64 (the Pulumi mocks' "-----BEGIN CERTIFICATE-----\nkeel-ca-cert\n…"). */
export function isStandInCertificate(pem: string): boolean {
  const bodies = [...pem.matchAll(/-----BEGIN [A-Z ]+-----([^-]*)-----END/g)].map((m) => m[1]);
  return bodies.length === 0 || bodies.some((b) => !/^[A-Za-z0-9+/=\s]+$/.test(b) || b.trim().length < 100);
}

let realCa: string | undefined;
export function selfSignedCa(dir: string): string {
  if (realCa) return realCa;
  const r = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
    ].concat(["-subj", "/CN=keel conformance CA", "-keyout", path.join(dir, "ca.key"), "-out", "-"]),
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  realCa = r.stdout;
  return realCa;
}

/** A pod's files written under <scratch>/<pod>, with its command and env rewritten to match. */
export interface WrittenPod {
  podRoot: string;
  /** Each file as written, by its path in the container (<mountPath>/<file>). */
  files: Record<string, string>;
  command: string[];
  env: NodeJS.ProcessEnv;
  /** Every rewrite made, with <scratch>/<pod> for the pod's folder. */
  applied: string[];
}

/**
 * Writes the pod's volumes into <scratch>/<pod> and rewrites the mount paths in its files, command and env;
 * `edit` changes a file (as <mountPath>/<file>) before it is written.
 */
export function writePod(
  scratch: string,
  pod: Pod,
  edit: (file: string, text: string) => string = (_f, t) => t,
): WrittenPod {
  const podRoot = path.join(scratch, pod.pod);
  const rw = new PathRewriter(
    podRoot,
    pod.mounts.map((m) => m.mountPath),
  );
  const files: Record<string, string> = {};
  const substituted: string[] = [];
  for (const m of pod.mounts) {
    const dir = podRoot + m.mountPath;
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, raw] of Object.entries(m.files)) {
      const where = `${m.mountPath}/${name}`;
      let text = edit(where, raw);
      if (name.endsWith(".pem") && isStandInCertificate(text)) {
        substituted.push(`${where}: the mocks' stand-in certificate → a self-signed CA made by openssl`);
        text = selfSignedCa(scratch);
      }
      if (/\.ya?ml$/.test(name)) text = rw.yaml(`${pod.pod} ${where}`, text);
      files[where] = text;
      fs.writeFileSync(path.join(dir, name), text, { mode: m.kind === "secret" ? 0o600 : 0o644 });
    }
  }
  const command = pod.command.map((a) => rw.text(a));
  const env: NodeJS.ProcessEnv = { HOME: podRoot, LANG: "C.UTF-8" };
  for (const [k, v] of Object.entries(pod.env)) env[k] = rw.value(v);
  const applied = [...rw.applied, ...substituted].map((a) => a.split(podRoot).join("<scratch>/<pod>"));
  return { podRoot, files, command, env, applied };
}
