import { pythonProtocols } from "./python-common";

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
 * Redis is unavailable the upload is refused (fail_closed) or let through with a warning.
 */
export function renderAvCheckerModule(): string {
  return (
    String.raw`"""keel antivirus: a Synapse spam-checker module scanning media with clamd (stdlib only)."""
import logging
import os
import socket
import struct
import time

try:
    from synapse.module_api import NOT_SPAM
    from synapse.module_api.errors import Codes

    FORBIDDEN = Codes.FORBIDDEN
except ImportError:  # outside Synapse (tests, tooling): the values Synapse compares against
    NOT_SPAM = "NOT_SPAM"
    FORBIDDEN = "M_FORBIDDEN"

logger = logging.getLogger(__name__)
` +
    pythonProtocols +
    String.raw`

class CheckerConfig:
    """The module's config from homeserver.yaml; unknown or missing keys fail Synapse's start."""

    KEYS = {
        "server_name", "clamd_host", "clamd_port", "clamd_timeout_seconds", "sync_max_bytes", "fail_closed",
        "redis_host", "redis_port", "redis_password_env", "stream",
    }

    def __init__(self, raw):
        unknown = set(raw) - self.KEYS
        if unknown:
            raise ValueError("synapse_av_checker: unknown config keys %s" % sorted(unknown))
        try:
            self.server_name = str(raw["server_name"])
            self.clamd_host = str(raw["clamd_host"])
            self.redis_host = str(raw["redis_host"])
        except KeyError as e:
            raise ValueError("synapse_av_checker: config key %s is required" % e)
        self.clamd_port = int(raw.get("clamd_port", 3310))
        self.clamd_timeout = float(raw.get("clamd_timeout_seconds", 60))
        self.sync_max_bytes = int(raw.get("sync_max_bytes", 10 * 1024 * 1024))
        self.fail_closed = bool(raw.get("fail_closed", True))
        self.redis_port = int(raw.get("redis_port", 6379))
        self.redis_password_env = str(raw.get("redis_password_env", "AV_QUEUE_PASSWORD"))
        self.stream = str(raw.get("stream", "av:scan"))


def decide(config, path, server_name, file_id, url_cache=False):
    """NOT_SPAM or FORBIDDEN for one stored file (blocking: run it in a thread)."""
    size = os.path.getsize(path)
    remote = bool(server_name)
    # Remote media and URL previews are scanned now: a remote file's id is not its media id, so it could
    # not be quarantined later by id.
    if size <= config.sync_max_bytes or remote or url_cache:
        try:
            reply = instream_scan(config.clamd_host, config.clamd_port, file_chunks(path), config.clamd_timeout)
        except (OSError, ProtocolError) as e:
            return unavailable(config, "clamd unreachable for %s: %s" % (file_id, e))
        verdict, detail = parse_verdict(reply)
        if verdict == "infected":
            logger.warning("rejected media %s (%s): %s", file_id, server_name or "local", detail)
            return FORBIDDEN
        if verdict == "error":
            return unavailable(config, "clamd could not scan %s: %s" % (file_id, detail))
        return NOT_SPAM
    redis = Redis(config.redis_host, config.redis_port, os.environ.get(config.redis_password_env) or None)
    try:
        redis.call(
            "XADD", config.stream, "*",
            "media_id", file_id, "origin", config.server_name, "size", size,
            "enqueued_at", int(time.time() * 1000),
        )
    except (OSError, ProtocolError, RespError) as e:
        return unavailable(config, "could not queue %s for scanning: %s" % (file_id, e))
    finally:
        redis.close()
    logger.info("queued media %s (%d bytes) for an asynchronous scan", file_id, size)
    return NOT_SPAM


def unavailable(config, why):
    if config.fail_closed:
        logger.error("refusing media: %s", why)
        return FORBIDDEN
    logger.warning("accepting media unscanned (fail_closed is off): %s", why)
    return NOT_SPAM


class AvChecker:
    def __init__(self, config, api):
        self._config = config
        self._api = api
        api.register_spam_checker_callbacks(check_media_file_for_spam=self.check_media_file_for_spam)

    @staticmethod
    def parse_config(config):
        return CheckerConfig(config or {})

    async def check_media_file_for_spam(self, file_wrapper, file_info):
        if getattr(file_info, "thumbnail", None):
            return NOT_SPAM  # generated by Synapse from media that was scanned
        return await self._api.defer_to_thread(
            decide, self._config, file_wrapper.path, getattr(file_info, "server_name", None),
            file_info.file_id, bool(getattr(file_info, "url_cache", False)),
        )
`
  );
}
