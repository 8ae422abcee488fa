import { SignatureSource } from "./args";
import { scanHeadroomBytes } from "./sizes";

/** Where things live in the clamd container (the image's preloaded signatures stay at /var/lib/clamav). */
export const clamavPaths = {
  /** Rendered clamd.conf, freshclam.conf and freshclam-bootstrap.conf (the image's defaults are hidden). */
  config: "/etc/clamav",
  /** The run script. */
  scripts: "/opt/keel",
  /** The live signature set, a scratch volume seeded from `seed` at start. */
  database: "/var/lib/clamav-db",
  /** The signatures baked into the image (`clamav/clamav:<version>` is preloaded; `_base` is not). */
  seed: "/var/lib/clamav",
  /** Local socket and pid file. */
  run: "/run/clamav",
  /** clamd's TemporaryDirectory: streams and extracted archive members (Workload's /tmp is fixed at 64Mi). */
  scanTmp: "/var/tmp/clamd",
} as const;

export const clamdPort = 3310;
/** clamd's scanning threads (its default); also sizes the temporary directory. */
export const clamdMaxThreads = 10;

/** What clamd.conf depends on. */
export interface ClamdConfInput {
  /** Synapse's max_upload_size in bytes: the stream limit and the per-file limit. */
  maxUploadBytes: number;
  /** Whether a reload may load the new database beside the old one (see `concurrentReloadFits`). */
  concurrentDatabaseReload: boolean;
}

/**
 * A reload runs beside scanning only when the limit holds two databases plus scans in flight; otherwise
 * reloads block scanning for their duration (tens of seconds) instead of getting clamd OOM-killed. The same
 * bound decides freshclam's TestDatabases, which loads a trial copy in the same container.
 */
export function concurrentReloadFits(memoryLimitBytes: number, signatureMemoryBytes: number): boolean {
  return memoryLimitBytes >= 2 * signatureMemoryBytes + scanHeadroomBytes;
}

/** Archives and documents expand when scanned: clamd may scan up to 4× the upload, capped at 4000M. */
export function clamdScanLimits(maxUploadBytes: number) {
  return {
    streamMaxLength: maxUploadBytes,
    maxFileSize: maxUploadBytes,
    maxScanSize: Math.min(4 * maxUploadBytes, 4000 * 1024 ** 2),
  };
}

/** clamd's size notation (1M = 1048576, 1K = 1024). */
export function clamavSize(bytes: number): string {
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}M`;
  if (bytes % 1024 === 0) return `${bytes / 1024}K`;
  return String(bytes);
}

/** Space the temporary directory needs: every thread holding a full stream and its extracted content. */
export function clamdTmpBytes(maxUploadBytes: number): number {
  const l = clamdScanLimits(maxUploadBytes);
  return clamdMaxThreads * (l.streamMaxLength + l.maxScanSize);
}

function render(lines: [string, string | number][], header: string[]): string {
  return [...header.map((h) => `# ${h}`), ...lines.map(([k, v]) => `${k} ${v}`)].join("\n") + "\n";
}

/** clamd.conf, rendered in a fixed order (no false diffs). No `User`: clamd starts unprivileged. */
export function renderClamdConf(input: ClamdConfInput): string {
  const l = clamdScanLimits(input.maxUploadBytes);
  return render(
    [
      ["Foreground", "yes"],
      ["LogTime", "yes"],
      ["ExtendedDetectionInfo", "yes"],
      ["DatabaseDirectory", clamavPaths.database],
      ["TemporaryDirectory", clamavPaths.scanTmp],
      ["LocalSocket", `${clamavPaths.run}/clamd.sock`],
      ["FixStaleSocket", "yes"],
      ["PidFile", `${clamavPaths.run}/clamd.pid`],
      ["TCPSocket", clamdPort],
      ["MaxThreads", clamdMaxThreads],
      ["StreamMaxLength", clamavSize(l.streamMaxLength)],
      ["MaxFileSize", clamavSize(l.maxFileSize)],
      ["MaxScanSize", clamavSize(l.maxScanSize)],
      ["ConcurrentDatabaseReload", input.concurrentDatabaseReload ? "yes" : "no"],
      ["SelfCheck", 600],
      ["ExitOnOOM", "yes"],
    ],
    [
      "rendered by keel: clamd runs unprivileged and logs to stdout",
      "StreamMaxLength and MaxFileSize follow Synapse's max_upload_size, MaxScanSize is 4x that",
      input.concurrentDatabaseReload
        ? "the memory limit holds two signature databases: reloads run beside scanning"
        : "the memory limit holds one signature database: reloads block scanning while they run",
    ],
  );
}

/** What freshclam.conf depends on. */
export interface FreshclamConfInput {
  source: SignatureSource;
  checksPerDay: number;
  /** Load new databases in a trial engine before use (needs room for a second copy). */
  testDatabases: boolean;
  /** Send RELOAD to clamd after an update (off for the bootstrap download, when clamd is not running). */
  notifyClamd: boolean;
}

/** freshclam.conf, rendered in a fixed order. */
export function renderFreshclamConf(input: FreshclamConfInput): string {
  const source: [string, string][] =
    input.source.mode === "mirror"
      ? // PrivateMirror disables DNS version checks and scripted (cdiff) updates against the CDN.
        [["PrivateMirror", input.source.url]]
      : [
          ["DatabaseMirror", "database.clamav.net"],
          ["ScriptedUpdates", "yes"],
        ];
  return render(
    [
      ["DatabaseDirectory", clamavPaths.database],
      ["Foreground", "yes"],
      ["LogTime", "yes"],
      ...source,
      ["Checks", input.checksPerDay],
      ["MaxAttempts", 3],
      ["ConnectTimeout", 30],
      ["ReceiveTimeout", 1800],
      ["Bytecode", "yes"],
      ["TestDatabases", input.testDatabases ? "yes" : "no"],
      ...(input.notifyClamd
        ? ([["NotifyClamd", `${clamavPaths.config}/clamd.conf`]] as [string, string][])
        : []),
    ],
    [
      "rendered by keel",
      input.source.mode === "mirror"
        ? "signatures come only from the site's private mirror"
        : "signatures come from ClamAV's CDN (not for air-gapped sites)",
    ],
  );
}

/**
 * The container's command (under tini): seed the live signature set from the image when it is empty (no
 * network needed to start), download it only when the image has none, then run freshclam's daemon and
 * clamd side by side. If either exits the script exits non-zero and the container restarts, so signatures
 * never go stale silently; SIGTERM stops both and exits 0.
 */
export function renderClamdRunScript(): string {
  return String.raw`#!/bin/sh
# rendered by keel: seeds the live signatures, then supervises freshclam and clamd
set -eu
conf="${"$"}{CLAMAV_CONF_DIR:-${clamavPaths.config}}"
live="${"$"}{CLAMAV_DB_DIR:-${clamavPaths.database}}"
seed="${"$"}{CLAMAV_SEED_DIR:-${clamavPaths.seed}}"

has_main() { [ -f "$1/main.cvd" ] || [ -f "$1/main.cld" ]; }

if ! has_main "$live"; then
  if has_main "$seed"; then
    echo "keel: seeding signatures from the image ($seed)"
    for f in "$seed"/*.cvd "$seed"/*.cld; do
      if [ -f "$f" ]; then cp "$f" "$live/"; fi
    done
  else
    echo "keel: the image has no signatures; downloading the initial set"
    freshclam --config-file="$conf/freshclam-bootstrap.conf" --foreground --stdout
  fi
fi

freshclam --config-file="$conf/freshclam.conf" --daemon --foreground --stdout &
freshclam_pid=$!
clamd --config-file="$conf/clamd.conf" --foreground &
clamd_pid=$!

stopping=0
trap 'stopping=1; kill -TERM "$clamd_pid" "$freshclam_pid" 2>/dev/null || true' TERM INT
while [ "$stopping" = 0 ] && kill -0 "$clamd_pid" 2>/dev/null && kill -0 "$freshclam_pid" 2>/dev/null; do
  sleep 2 &
  wait $! || true
done
kill -TERM "$clamd_pid" "$freshclam_pid" 2>/dev/null || true
wait "$clamd_pid" 2>/dev/null || true
wait "$freshclam_pid" 2>/dev/null || true
if [ "$stopping" = 1 ]; then
  echo "keel: stopped"
  exit 0
fi
echo "keel: clamd or freshclam exited; exiting so the container restarts" >&2
exit 1
`;
}
