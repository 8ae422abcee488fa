#!/usr/bin/env python3
"""keel antivirus scan worker: Redis stream -> Synapse media -> clamd -> quarantine (stdlib only)."""
import hashlib
import hmac
import http.server
import json
import logging
import os
import re
import signal
import socket
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

log = logging.getLogger("av-scan-worker")

# @include protocols.py


MEDIA_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
SERVER_NAME = re.compile(r"^[A-Za-z0-9.-]{1,255}(:[0-9]{1,5})?$")


def registration_mac(secret, nonce, user, password, admin=True):
    """Synapse's shared-secret registration MAC: HMAC-SHA1 over nonce, user, password, admin flag."""
    mac = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha1)
    mac.update(nonce.encode("utf-8") + b"\x00" + user.encode("utf-8") + b"\x00" + password.encode("utf-8") + b"\x00")
    mac.update(b"admin" if admin else b"notadmin")
    return mac.hexdigest()


def obtain_admin_token(opener, c):
    """Registers the worker's admin user on first start (shared secret), or logs it in afterwards."""
    def call(path, body=None):
        req = urllib.request.Request(
            c.admin_url + path, data=None if body is None else json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "User-Agent": "keel-av-scan-worker"},
            method="GET" if body is None else "POST")
        with opener.open(req, timeout=c.http_timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    try:
        nonce = call("/_synapse/admin/v1/register")["nonce"]
        return call("/_synapse/admin/v1/register", {
            "nonce": nonce, "username": c.admin_user, "password": c.admin_password, "admin": True,
            "mac": registration_mac(c.registration_secret, nonce, c.admin_user, c.admin_password)})["access_token"]
    except urllib.error.HTTPError as e:
        if e.code != 400:  # 400 M_USER_IN_USE: registered by an earlier start
            raise
    return call("/_matrix/client/v3/login", {
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": c.admin_user},
        "password": c.admin_password})["access_token"]


class NotYetAvailable(Exception):
    """Synapse answered 404: the upload is not committed yet (or was deleted)."""


class Config:
    def __init__(self, env):
        self.redis_host = env["AV_REDIS_HOST"]
        self.redis_port = int(env.get("AV_REDIS_PORT", "6379"))
        self.redis_password = env.get("AV_REDIS_PASSWORD") or None
        self.stream = env.get("AV_STREAM", "av:scan")
        self.group = env.get("AV_GROUP", "av-workers")
        self.results = env.get("AV_RESULTS_STREAM", "av:results")
        self.dead = env.get("AV_DEAD_LETTER_STREAM", "av:dead")
        self.results_maxlen = int(env.get("AV_RESULTS_MAXLEN", "100000"))
        self.max_attempts = int(env.get("AV_MAX_ATTEMPTS", "5"))
        self.claim_idle_ms = int(env.get("AV_CLAIM_IDLE_MS", "60000"))
        self.block_ms = int(env.get("AV_BLOCK_MS", "5000"))
        self.clamd_host = env.get("AV_CLAMD_HOST", "clamav")
        self.clamd_port = int(env.get("AV_CLAMD_PORT", "3310"))
        self.clamd_timeout = float(env.get("AV_CLAMD_TIMEOUT_SECONDS", "120"))
        self.media_url = env["AV_SYNAPSE_MEDIA_URL"].rstrip("/")
        self.admin_url = env["AV_SYNAPSE_ADMIN_URL"].rstrip("/")
        # A token, or the worker's own admin user registered with Synapse's registration secret.
        self.admin_token = env.get("AV_SYNAPSE_ADMIN_TOKEN", "")
        self.admin_user = env.get("AV_SYNAPSE_ADMIN_USER", "av-quarantine")
        self.admin_password = env.get("AV_SYNAPSE_ADMIN_PASSWORD", "")
        self.registration_secret = env.get("AV_SYNAPSE_REGISTRATION_SECRET", "")
        self.http_timeout = float(env.get("AV_HTTP_TIMEOUT_SECONDS", "60"))
        self.fail_closed = env.get("AV_FAIL_MODE", "closed") == "closed"
        self.consumer = env.get("AV_CONSUMER") or env.get("HOSTNAME") or socket.gethostname()
        self.health_port = int(env.get("AV_HEALTH_PORT", "8080"))
        # A step that makes no progress for this long means the loop is stuck (liveness fails).
        self.stall_seconds = float(env.get("AV_STALL_SECONDS", str(self.clamd_timeout + self.http_timeout + 30)))


class Worker:
    def __init__(self, config, redis=None, opener=None, clock=time.monotonic):
        self.config = config
        self.redis = redis or Redis(config.redis_host, config.redis_port, config.redis_password)
        self.opener = opener or urllib.request.build_opener()
        self.clock = clock
        self.heartbeat = clock()
        self.connected = False
        self.group_ready = False
        self.stopping = False

    # -- health ---------------------------------------------------------------------------------------
    def beat(self):
        self.heartbeat = self.clock()

    def alive(self):
        return self.clock() - self.heartbeat < self.config.stall_seconds

    def ready(self):
        return self.connected and self.group_ready and not self.stopping and self.alive()

    def stop(self, *_):
        if not self.stopping:
            log.info("stopping after the current job")
        self.stopping = True

    # -- queue ----------------------------------------------------------------------------------------
    def ensure_group(self):
        try:
            # From the start of the stream: jobs queued before the first worker ran are not lost.
            self.redis.call("XGROUP", "CREATE", self.config.stream, self.config.group, "0", "MKSTREAM")
            log.info("created consumer group %s on %s", self.config.group, self.config.stream)
        except RespError as e:
            if not str(e).startswith("BUSYGROUP"):
                raise
        self.connected = True
        self.group_ready = True

    def run_once(self):
        """Reclaims stuck jobs, then waits up to block_ms for one new job. Returns the jobs handled."""
        c = self.config
        self.beat()
        if not self.group_ready:
            self.ensure_group()
        handled = self.reclaim()
        if self.stopping:
            return handled
        reply = self.redis.call(
            "XREADGROUP", "GROUP", c.group, c.consumer, "COUNT", 1, "BLOCK", c.block_ms,
            "STREAMS", c.stream, ">", timeout=c.block_ms / 1000.0 + 10,
        )
        self.connected = True
        self.beat()
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                self.handle(text(entry_id), pairs(fields), 1)
                handled += 1
        return handled

    def reclaim(self):
        """Jobs idle longer than claim_idle_ms (a worker died, or the job failed and was left pending)."""
        c = self.config
        handled = 0
        pending = self.redis.call("XPENDING", c.stream, c.group, "IDLE", c.claim_idle_ms, "-", "+", 10) or []
        for entry in pending:
            if self.stopping:
                break
            entry_id, deliveries = text(entry[0]), int(entry[3])
            claimed = self.redis.call("XCLAIM", c.stream, c.group, c.consumer, c.claim_idle_ms, entry_id)
            if not claimed:
                continue  # another worker took it first
            if claimed[0] is None or claimed[0][1] is None:
                self.ack(entry_id)  # the entry was deleted while pending
                continue
            job = pairs(claimed[0][1])
            if deliveries >= c.max_attempts:
                self.dead_letter(entry_id, job, "gave up after %d attempts" % deliveries)
            else:
                self.handle(entry_id, job, deliveries + 1)
            handled += 1
        return handled

    def ack(self, entry_id):
        c = self.config
        self.redis.call("XACK", c.stream, c.group, entry_id)
        self.redis.call("XDEL", c.stream, entry_id)

    def record(self, stream, maxlen, fields):
        flat = []
        for key in sorted(fields):
            flat += [key, str(fields[key])]
        self.redis.call("XADD", stream, "MAXLEN", "~", maxlen, "*", *flat)

    # -- one job --------------------------------------------------------------------------------------
    def handle(self, entry_id, job, attempt):
        origin, media_id = job.get("origin", ""), job.get("media_id", "")
        if not SERVER_NAME.match(origin) or not MEDIA_ID.match(media_id):
            self.dead_letter(entry_id, job, "malformed job")
            return
        try:
            verdict, detail = self.scan(origin, media_id)
            if verdict == "error":
                raise ProtocolError("clamd: %s" % detail)
            if verdict == "infected":
                self.quarantine(origin, media_id)
                log.warning("quarantined %s/%s: %s", origin, media_id, detail)
        except (NotYetAvailable, OSError, ProtocolError, urllib.error.URLError, ValueError) as e:
            # Left pending: reclaimed after claim_idle_ms, dead-lettered after max_attempts deliveries.
            log.warning("attempt %d for %s/%s failed: %s", attempt, origin, media_id, e)
            return
        self.record(self.config.results, self.config.results_maxlen, {
            "media_id": media_id, "origin": origin, "verdict": verdict, "signature": detail or "",
            "attempts": attempt, "worker": self.config.consumer, "scanned_at": int(time.time() * 1000),
        })
        self.ack(entry_id)

    def dead_letter(self, entry_id, job, reason):
        origin, media_id = job.get("origin", ""), job.get("media_id", "")
        quarantined = "no"
        if self.config.fail_closed and SERVER_NAME.match(origin) and MEDIA_ID.match(media_id):
            try:
                self.quarantine(origin, media_id)
                quarantined = "yes"
            except (OSError, urllib.error.URLError, ValueError) as e:
                log.warning("could not quarantine unscanned %s/%s: %s", origin, media_id, e)
                quarantined = "failed"
        log.error("dead-lettered %s (%s/%s): %s", entry_id, origin, media_id, reason)
        fields = dict(job)
        fields.update({"entry_id": entry_id, "reason": reason, "quarantined": quarantined,
                       "failed_at": int(time.time() * 1000)})
        self.record(self.config.dead, 10000, fields)
        self.ack(entry_id)

    def _request(self, url, data=None):
        if not self.config.admin_token:
            self.config.admin_token = obtain_admin_token(self.opener, self.config)
        headers = {"Authorization": "Bearer " + self.config.admin_token, "User-Agent": "keel-av-scan-worker"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        return urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")

    def scan(self, origin, media_id):
        c = self.config
        url = "%s/_matrix/client/v1/media/download/%s/%s" % (
            c.media_url, urllib.parse.quote(origin, safe=""), urllib.parse.quote(media_id, safe=""))
        try:
            response = self.opener.open(self._request(url), timeout=c.http_timeout)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                raise NotYetAvailable("Synapse has no media %s/%s (yet)" % (origin, media_id))
            raise

        def chunks():
            while True:
                data = response.read(INSTREAM_CHUNK)
                if not data:
                    return
                yield data

        with response:
            reply = instream_scan(c.clamd_host, c.clamd_port, chunks(), c.clamd_timeout, self.beat)
        return parse_verdict(reply)

    def quarantine(self, origin, media_id):
        c = self.config
        # The media admin API is served where media is (a media repository worker), not by main.
        url = "%s/_synapse/admin/v1/media/quarantine/%s/%s" % (
            c.media_url, urllib.parse.quote(origin, safe=""), urllib.parse.quote(media_id, safe=""))
        with self.opener.open(self._request(url, b"{}"), timeout=c.http_timeout) as response:
            response.read()


class HealthHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        worker = self.server.worker
        checks = {"/healthz": worker.alive, "/readyz": worker.ready}
        if self.path not in checks:
            self.send_error(404)
            return
        ok = checks[self.path]()
        body = json.dumps({"ok": ok, "connected": worker.connected, "stopping": worker.stopping}).encode()
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


def serve_health(worker, port):
    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), HealthHandler)
    server.daemon_threads = True
    server.worker = worker
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = Config(os.environ)
    worker = Worker(config)
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    serve_health(worker, config.health_port)
    log.info("consuming %s as %s/%s", config.stream, config.group, config.consumer)
    backoff = 1.0
    while not worker.stopping:
        try:
            worker.run_once()
            backoff = 1.0
        except (OSError, ProtocolError, RespError, ValueError) as e:
            worker.connected = False
            worker.group_ready = False  # re-created if the stream was lost (NOGROUP)
            worker.redis.close()
            log.warning("queue unavailable (%s); retrying in %.0fs", e, backoff)
            deadline = time.monotonic() + backoff
            while not worker.stopping and time.monotonic() < deadline:
                worker.beat()
                time.sleep(0.5)
            backoff = min(backoff * 2, 30.0)
    worker.redis.close()
    log.info("stopped")


if __name__ == "__main__":
    main()
