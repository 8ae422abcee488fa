import { ResourceSpec, SizingProfile, sized } from "@keel/core";

/**
 * Base sizes (the `small` profile). clamd keeps the whole signature database in memory (~1.2 GiB with
 * main, daily and bytecode) and a reload loads a second copy before dropping the first, hence 3 GiB.
 */
export const antivirusBaseSizes = {
  clamav: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "3Gi" } },
  scanWorker: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
} satisfies Record<string, ResourceSpec>;

export type AntivirusComponent = keyof typeof antivirusBaseSizes;

export function antivirusSize(profile: SizingProfile, component: AntivirusComponent): ResourceSpec {
  return sized(profile, antivirusBaseSizes[component]);
}

const Mi = 1024 ** 2;

/** The smallest clamd memory limit accepted: signatures plus a second copy during a reload. */
export const clamdMinMemoryBytes = 3 * 1024 * Mi;

/** Memory the signature database occupies once loaded in clamd (main + daily + bytecode, ClamAV 1.5). */
export const defaultSignatureMemory = "1280Mi";

/** Memory kept for scans in flight on top of the signatures (per clamd, all threads). */
export const scanHeadroomBytes = 512 * Mi;
