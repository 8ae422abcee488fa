import * as pulumi from "@pulumi/pulumi";

/**
 * Every claim is sized when it is created: a bigger sizing profile gives new volumes more space and leaves
 * existing ones alone (Kubernetes refuses to shrink a claim, and to change an unbound one at all; growing a
 * bound one needs a storage class that allows expansion: edit the claim). Claims ignore their size in the
 * program; StatefulSets ignore their claim templates, which Kubernetes keeps immutable.
 */
export const claimSizeIgnored = ["spec.resources.requests.storage"];

/** Data that must survive restarts: a PVC with an explicit storage class (never "" — F4). */
export interface PersistentVolume {
  name: string;
  mountPath: string;
  /** e.g. "10Gi" */
  size: string;
  storageClass: string;
  /** @default false */
  readOnly?: boolean;
  /** Mount a sub-path of the volume. @default undefined */
  subPath?: string;
}

/**
 * An existing claim shared by several workloads (e.g. a ReadWriteMany media library); the owner of the
 * claim creates it with an explicit storage class.
 */
export interface SharedVolume {
  name: string;
  mountPath: string;
  claimName: pulumi.Input<string>;
  /** @default false */
  readOnly?: boolean;
  /** Mount a sub-path of the volume. @default undefined */
  subPath?: string;
}

/** Throw-away writable space (e.g. /tmp, /var/run) on a read-only root filesystem; never a cache (F19). */
export interface ScratchVolume {
  name: string;
  mountPath: string;
  /** @default "64Mi" */
  sizeLimit?: string;
  /** "Memory" for tmpfs such as /dev/shm. @default disk */
  medium?: "Memory";
}

/** Files rendered by the program (non-secret), mounted from a ConfigMap. */
export type ConfigFiles = {
  name: string;
  mountPath: string;
  /** Mount one file of the ConfigMap at `mountPath` (e.g. a config.json inside an app directory). @default undefined */
  subPath?: string;
} & (
  | {
      /** An existing ConfigMap. */
      configMapName: pulumi.Input<string>;
    }
  | {
      /**
       * Rendered files (name → content). The Workload stores them in a ConfigMap `<app>-<name>` and rolls
       * its pods when the content changes (`keel.dev/config-hash`).
       */
      files: Record<string, string>;
    }
);

/** Files from a Secret (keys, certificates, config with credentials). */
export interface SecretFiles {
  name: string;
  mountPath: string;
  secretName: pulumi.Input<string>;
  /**
   * The rotation (`keel:secretRotation`) of the generated values the files hold or derive from: the pod
   * carries the highest as `keel.dev/secret-rotation`, so a rotation restarts it. @default 0
   */
  rotation?: number;
}

/** A reference to one key of a Kubernetes Secret. */
export interface SecretKeyRef {
  secretName: pulumi.Input<string>;
  key: string;
  /** The rotation of the value behind the key (GeneratedSecret.ref fills it); see SecretFiles. @default 0 */
  rotation?: number;
}
