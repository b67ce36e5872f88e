"""Health checks for /healthz: database, Redis and live RQ workers. Each is quick and bounded."""
import time

from sqlalchemy import text

from app import jobs
from app.extensions import db
from app.redis_conn import get_redis


def _timed(check):
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as error:  # a health check reports failures, it never raises them
        detail, ok = f"{type(error).__name__}: {error}", False
    return ok, detail, round((time.perf_counter() - started) * 1000, 2)


def report() -> tuple[dict, bool]:
    """The health report and whether Parity can serve requests (database and Redis answer)."""
    db_ok, _, db_ms = _timed(lambda: db.session.execute(text("SELECT 1")).scalar_one())
    redis_ok, _, redis_ms = _timed(lambda: get_redis().ping())
    workers_ok, workers, workers_ms = _timed(lambda: jobs.worker_count())
    healthy = db_ok and redis_ok
    return {
        "status": "ok" if healthy else "error",
        "database": {"ok": db_ok, "ms": db_ms, "dialect": db.engine.dialect.name},
        "redis": {"ok": redis_ok, "ms": redis_ms},
        "workers": workers if workers_ok else 0,
        "worker": {"ok": workers_ok and workers > 0, "ms": workers_ms,
                   "detail": "" if workers_ok and workers > 0 else "no worker is running: background jobs wait"},
    }, healthy
