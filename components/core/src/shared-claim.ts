import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appLabels } from "./conventions";
import { claimSizeIgnored } from "./volumes";

export interface SharedClaimArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** The claim's name (and its app label). */
  claimName: string;
  /** A class that supports ReadWriteMany (never "": F4). */
  storageClass: string;
  /** e.g. "50Gi" */
  size: string;
  /** @default false */
  protect?: boolean;
}

/**
 * A ReadWriteMany claim several workloads mount (a media library, Synapse's media store), kept when the stack
 * is destroyed so the data outlives a mistaken `pulumi destroy`.
 */
export function sharedClaim(
  name: string,
  args: SharedClaimArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.PersistentVolumeClaim {
  return new k8s.core.v1.PersistentVolumeClaim(
    name,
    {
      metadata: {
        name: args.claimName,
        namespace: args.namespace,
        labels: appLabels(args.claimName, args.partOf),
      },
      spec: {
        accessModes: ["ReadWriteMany"],
        storageClassName: args.storageClass,
        resources: { requests: { storage: args.size } },
      },
    },
    { ...opts, retainOnDelete: true, protect: args.protect ?? false, ignoreChanges: claimSizeIgnored },
  );
}
