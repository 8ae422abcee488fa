import { pythonScript } from "./python";

/** The module's file name and Python module path (`synapse_av_checker.AvChecker`). */
export const avCheckerFileName = "synapse_av_checker.py";
export const avCheckerModule = "synapse_av_checker.AvChecker";
/** Where Synapse mounts the module; add it to PYTHONPATH. */
export const avCheckerModuleDir = "/modules/keel-av";
/** Synapse's environment variable holding the queue's Redis password (from a Secret, never homeserver.yaml). */
export const avCheckerPasswordEnv = "AV_QUEUE_PASSWORD";

/**
 * The Synapse module (stdlib only): `check_media_file_for_spam` streams small files, remote media and URL
 * previews to clamd while the upload waits and rejects infected ones with `Codes.FORBIDDEN`; larger local
 * uploads are queued on the Redis stream for the scan workers, which quarantine infected media. Thumbnails
 * are derived from scanned files and skipped. Blocking I/O runs in Synapse's thread pool. When clamd or
 * Redis is unavailable the upload is refused (fail_closed) or let through with a warning. The module is the
 * package's `python/synapse_av_checker.py`.
 */
export function renderAvCheckerModule(): string {
  return pythonScript(avCheckerFileName);
}
