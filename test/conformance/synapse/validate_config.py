"""Stands in for `python` in a Synapse container command: `python -m <synapse app> --config-path …`.

Loads the config files exactly the way the named app does at start, with Synapse's own code, and stops
before anything connects to PostgreSQL or Redis:

- synapse.app.homeserver: `load_or_generate_config` (HomeServerConfig.load_or_generate_config), then
  `create_homeserver` (refuses `worker_app` on the main process);
- synapse.app.generic_worker / synapse.app.media_repository: `load_config` (HomeServerConfig.load_config
  "Synapse worker"), then `create_homeserver` (asserts a known `worker_app`);
- both: `setup_logging` with the process's log config (dictConfig of the rendered log.yaml), the first
  step of the app's `setup`; `hs.setup()`, the next step, opens the database and is not run.

Synapse's own error goes to stderr and the exit status is 1, as the app's. On success, the facts the suite
asserts are written as JSON to $SYNAPSE_CONFORMANCE_REPORT (stdout belongs to the rendered log handler).
"""

import json
import os
import sys
import traceback


def fail(message: str) -> None:
    sys.stderr.write("\n" + message + "\n")
    sys.exit(1)


def listener_facts(listeners):
    out = []
    for listener in listeners:
        names = sorted({n for r in (listener.http_options.resources if listener.http_options else []) for n in r.names})
        out.append(
            {
                "type": listener.type,
                "port": getattr(listener, "port", None),
                "bind_addresses": list(getattr(listener, "bind_addresses", []) or []),
                "resources": names,
            }
        )
    return out


def main() -> None:
    args = sys.argv[1:]
    if len(args) < 2 or args[0] != "-m":
        fail(f"expected `-m <module> <args…>`, got {args!r}")
    module, argv = args[1], args[2:]
    report_path = os.environ.get("SYNAPSE_CONFORMANCE_REPORT")

    import synapse
    from synapse.config.logger import setup_logging

    if module == "synapse.app.homeserver":
        from synapse.app import homeserver as app

        config = app.load_or_generate_config(argv)  # ConfigError → stderr, exit 1 (the app's own)
        worker = False
    elif module in ("synapse.app.generic_worker", "synapse.app.media_repository"):
        from synapse.app import generic_worker as app  # media_repository.main is generic_worker.main

        config = app.load_config(argv)  # ConfigError → stderr, exit 1 (the app's own)
        worker = True
    else:
        fail(f"not a Synapse app this suite knows: {module}")

    from synapse.config._base import ConfigError

    try:
        hs = app.create_homeserver(config)
        setup_logging(hs, config, use_worker_options=worker)
    except (ConfigError, AssertionError) as e:
        fail(f"{type(e).__name__}: {e}\n{traceback.format_exc()}")

    w = config.worker
    writers = {
        stream: list(getattr(w.writers, stream))
        for stream in ("events", "typing", "to_device", "account_data", "receipts", "presence", "push_rules", "device_lists",
                       "quarantined_media_changes")
    }
    report = {
        "synapse_version": synapse.__version__,
        "python_version": sys.version.split()[0],
        "module": module,
        "argv": argv,
        "server_name": config.server.server_name,
        "public_baseurl": config.server.public_baseurl,
        "worker_app": w.worker_app,
        "worker_name": w.worker_name,
        "instance_name": w.instance_name,
        "instance_map": {
            name: {"host": getattr(loc, "host", None), "port": getattr(loc, "port", None), "tls": getattr(loc, "tls", None)}
            for name, loc in w.instance_map.items()
        },
        "stream_writers": writers,
        "writes": sorted(s for s, names in writers.items() if w.instance_name in names),
        "listeners": listener_facts(w.worker_listeners if worker else config.server.listeners),
        "federation_sender_instances": list(w.federation_shard_config.instances),
        "send_federation": w.send_federation,
        "pusher_instances": list(w.pusher_shard_config.instances),
        "start_pushers": w.start_pushers,
        "run_background_tasks": w.run_background_tasks,
        "can_load_media_repo": config.media.can_load_media_repo,
        "media_instance_running_background_jobs": getattr(config.media, "media_instance_running_background_jobs", None),  # only where the media repo loads
        "media_store_path": getattr(config.media, "media_store_path", None),  # only where the media repo loads
        "max_upload_size": getattr(config.media, "max_upload_size", None),  # only where the media repo loads
        "secrets": {
            "registration_shared_secret": len(config.registration.registration_shared_secret or ""),
            "macaroon_secret_key": len(config.key.macaroon_secret_key or b""),
            "form_secret": len(config.key.form_secret or ""),
            "worker_replication_secret": len(w.worker_replication_secret or ""),
            "turn_shared_secret": len(config.voip.turn_shared_secret or ""),
        },
        "signing_keys": [f"{k.alg}:{k.version}" for k in config.key.signing_key],
        "log_config": w.worker_log_config if worker else config.logging.log_config,
        "modules": [f"{cls.__module__}.{cls.__name__}" for cls, _ in config.modules.loaded_modules],
        "redis_enabled": config.redis.redis_enabled,
        "redis_password_set": bool(getattr(config.redis, "redis_password", None)),
        "federation_custom_ca": config.tls.federation_ca_trust_root is not None
        if hasattr(config.tls, "federation_ca_trust_root")
        else None,
    }
    if report_path:
        with open(report_path, "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
