import { pythonScript } from "./python";

/** File name of the worker script in its ConfigMap. */
export const scanWorkerFileName = "av_scan_worker.py";

/**
 * The scan worker: a stdlib-only Python script (the site has no package index). It reads jobs
 * `{media_id, origin, size}` from a Redis stream with a consumer group, downloads the media from Synapse
 * (authenticated media API, admin token), streams it to clamd with INSTREAM, quarantines infected media
 * through the admin API, writes the verdict to the results stream, then acknowledges and deletes the job.
 * Failed jobs stay pending and are reclaimed (XPENDING + XCLAIM) after an idle time; after `max attempts`
 * deliveries they go to the dead-letter stream (quarantined too when failing closed). SIGTERM finishes the
 * current job, then exits. Configuration comes from the environment. The script is the package's
 * `python/av_scan_worker.py`.
 */
export function renderScanWorkerScript(): string {
  return pythonScript(scanWorkerFileName);
}
