import { BatchJob, GeneratedSecret, SharedVolume, sharedClaim } from "@keel/core";
import type { LawfulInterceptPlan, LawfulInterceptSource } from "../lawful-intercept";
import { NamespaceContext } from "../services/context";
import { lawfulInterceptApps as apps } from "./apps";

/**
 * The replica's media volume, filled from main's object store on the LI schedule (LI has no object store
 * of its own to leak). Returns the volume as Synapse mounts it.
 */
export function liMedia(
  c: NamespaceContext,
  plan: LawfulInterceptPlan,
  main: LawfulInterceptSource,
  mainAccess: GeneratedSecret,
): SharedVolume {
  const { site, mainNamespace } = plan;
  const media = sharedClaim(
    `${c.name}-media`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      claimName: "synapse-li-media",
      storageClass: site.storageClasses.bulk,
      size: plan.storage.media,
      protect: site.protectData,
    },
    { parent: c.parent },
  );
  new BatchJob(
    `${c.name}-media-sync`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      appName: apps.mediaSync,
      image: site.images.image("rclone"),
      command: ["rclone", "sync", "--s3-provider=Other", ":s3:synapse-media", "/media"],
      resources: c.resources.syncJob,
      schedule: plan.schedule,
      deadlineSeconds: 1800,
      env: {
        RCLONE_S3_ENDPOINT: `http://${main.s3App}.${mainNamespace}.svc:${main.s3Port}`,
        RCLONE_CONFIG: "/tmp/rclone.conf",
        RCLONE_CACHE_DIR: "/tmp/rclone",
      },
      secretEnv: {
        RCLONE_S3_ACCESS_KEY_ID: mainAccess.ref("s3-access-key"),
        RCLONE_S3_SECRET_ACCESS_KEY: mainAccess.ref("s3-secret-key"),
      },
      sharedVolumes: [{ name: "media", mountPath: "/media", claimName: media.metadata.name }],
      egressTo: [{ app: main.s3App, namespace: mainNamespace, ports: [main.s3Port] }],
    },
    { parent: c.parent },
  );
  return { name: "media", mountPath: "/media", claimName: media.metadata.name };
}
