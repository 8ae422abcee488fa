import { BatchJob, ObjectStore, SharedVolume, sharedClaim } from "@keel/core";
import { MatrixContext } from "./context";

/** Synapse's media: the shared volume and its mirror in the object store. */
export interface MatrixMediaStore {
  /** The volume as Synapse's media processes mount it. */
  volume: SharedVolume;
  objectStore: ObjectStore;
  /** The object store's app (its Service name). */
  objectStoreApp: string;
}

const objectStoreApp = "media-s3";
const mirrorApp = "media-mirror";

/**
 * Media on one ReadWriteMany volume (the media repository and, without one, main), mirrored into the S3
 * object store on a schedule: an off-volume copy, and what the LI replica copies from.
 */
export function mediaStore(c: MatrixContext): MatrixMediaStore {
  const { plan, site } = c;
  const child = { parent: c.parent };
  const media = sharedClaim(
    `${c.name}-media`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      claimName: "synapse-media",
      storageClass: site.storageClasses.bulk,
      size: plan.storage.media,
      protect: site.protectData,
    },
    child,
  );
  const objectStore = new ObjectStore(
    `${c.name}-s3`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      appName: objectStoreApp,
      images: site.images,
      resources: c.resources.objectStore,
      storageClass: site.storageClasses.bulk,
      storageSize: plan.storage.objectStore,
      allowFrom: [{ app: mirrorApp }, ...(plan.lawfulIntercept?.readers.objectStore ?? [])],
      protect: site.protectData,
      rotation: site.secretRotation,
      maintenance: site.maintenance,
    },
    child,
  );
  new BatchJob(
    `${c.name}-media-mirror`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      appName: mirrorApp,
      image: site.images.image("rclone"),
      command: ["rclone", "sync", "--s3-provider=Other", "/media", ":s3:synapse-media"],
      resources: c.resources.syncJob,
      schedule: plan.settings.mediaMirrorSchedule,
      env: {
        RCLONE_S3_ENDPOINT: objectStore.endpoint,
        RCLONE_CONFIG: "/tmp/rclone.conf",
        RCLONE_CACHE_DIR: "/tmp/rclone",
      },
      secretEnv: {
        RCLONE_S3_ACCESS_KEY_ID: objectStore.accessKeyRef(),
        RCLONE_S3_SECRET_ACCESS_KEY: objectStore.secretKeyRef(),
      },
      sharedVolumes: [{ name: "media", mountPath: "/media", claimName: media.metadata.name, readOnly: true }],
      egressTo: [{ app: objectStoreApp, ports: [objectStore.port] }],
    },
    child,
  );
  return {
    volume: { name: "media", mountPath: "/media", claimName: media.metadata.name },
    objectStore,
    objectStoreApp,
  };
}
