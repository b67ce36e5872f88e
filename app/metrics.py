"""What /metrics tells Prometheus (prometheus_client's text format).

Two kinds of numbers:
- counted where they happen, per process: requests by endpoint, method and status, and their latency histogram.
  With several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (an empty folder each web server's workers share,
  emptied when the server starts): prometheus_client then keeps the counts in files there, and a scrape sums them.
- read when scraped, the same from every web server: RQ's queue depth and failed jobs (given by the caller, since
  only app.jobs talks to RQ), claims by status per practice (the maintained ClaimCount rows), clearinghouse calls
  and errors by kind (counted in Redis by the workers, which may run on other machines) and the age of the last
  backup that worked (Redis too).
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import wraps

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import select

from app import backups
from app.clearinghouse.base import ClearinghouseUnavailable
from app.extensions import db
from app.models import ClaimCount

CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUESTS = Counter("parity_http_requests", "HTTP requests answered, by endpoint, method and status.",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("parity_http_request_duration_seconds", "Time to answer a request, by endpoint and status.",
                    ["endpoint", "status"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))

#: Redis hash of clearinghouse calls: field "clearinghouse|operation|outcome" → count (outcome: ok, or the kind
#: of error: unavailable for network failures, refused for answers that say no).
CLEARINGHOUSE_CALLS_KEY = "parity:metrics:clearinghouse-calls"
#: The adapter methods that reach the clearinghouse (app/clearinghouse/base.py's protocol).
CLEARINGHOUSE_OPERATIONS = ("upload", "find_upload", "poll", "list_remittances", "fetch_remittance")


def observe_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    name = endpoint or "unmatched"
    REQUESTS.labels(name, method, str(status)).inc()
    LATENCY.labels(name, str(status)).observe(seconds)


# ---------------------------------------------------------------- clearinghouse calls, counted in Redis

class CountedClearinghouse:
    """A clearinghouse adapter whose calls are counted in Redis by kind, operation and outcome."""

    def __init__(self, adapter, kind: str, redis) -> None:
        self._adapter, self._kind, self._redis = adapter, kind, redis

    def __getattr__(self, name: str):
        value = getattr(self._adapter, name)
        if name not in CLEARINGHOUSE_OPERATIONS:
            return value

        @wraps(value)
        def counted(*args, **kwargs):
            outcome = "ok"
            try:
                return value(*args, **kwargs)
            except ClearinghouseUnavailable:
                outcome = "unavailable"
                raise
            except Exception:
                outcome = "refused"
                raise
            finally:
                _count_call(self._redis, self._kind, name, outcome)

        return counted


def _count_call(redis, kind: str, operation: str, outcome: str) -> None:
    try:
        redis.hincrby(CLEARINGHOUSE_CALLS_KEY, f"{kind}|{operation}|{outcome}", 1)
    except Exception:  # noqa: BLE001 - a metric that cannot be counted never fails the job
        pass


# ---------------------------------------------------------------- read when scraped

class _StateCollector:
    """The numbers read at scrape time (see the module's docstring)."""

    def __init__(self, redis, queue_stats: Callable[[], dict[str, int]]) -> None:
        self.redis, self.queue_stats = redis, queue_stats

    def collect(self):
        stats = self.queue_stats()
        depth = GaugeMetricFamily("parity_rq_jobs", "RQ jobs by state (queued, started, scheduled, failed).",
                                  labels=["state"])
        for state, count in sorted(stats.items()):
            depth.add_metric([state], count)
        yield depth

        claims = GaugeMetricFamily("parity_claims", "Claims by status, per practice.", labels=["practice_id", "status"])
        for practice_id, status, count in db.session.execute(
                select(ClaimCount.practice_id, ClaimCount.status, ClaimCount.count)
                .order_by(ClaimCount.practice_id, ClaimCount.status)):
            claims.add_metric([str(practice_id), status], count)
        yield claims

        calls = CounterMetricFamily("parity_clearinghouse_calls", "Calls to clearinghouses by clearinghouse, "
                                    "operation and outcome (ok, unavailable, refused).",
                                    labels=["clearinghouse", "operation", "outcome"])
        errors = CounterMetricFamily("parity_clearinghouse_errors", "Failed clearinghouse calls by clearinghouse, "
                                     "operation and kind of error.", labels=["clearinghouse", "operation", "kind"])
        for field, count in sorted(self.redis.hgetall(CLEARINGHOUSE_CALLS_KEY).items()):
            kind, operation, outcome = (field.decode() if isinstance(field, bytes) else field).split("|")
            calls.add_metric([kind, operation, outcome], int(count))
            if outcome != "ok":
                errors.add_metric([kind, operation, outcome], int(count))
        yield calls
        yield errors

        last = backups.last_success_timestamp(self.redis)
        age = GaugeMetricFamily("parity_backup_age_seconds", "Seconds since the last backup that worked "
                                "(absent when none has).")
        if last is not None:
            age.add_metric([], max(0.0, time.time() - last))
        yield age


def exposition(redis, queue_stats: Callable[[], dict[str, int]]) -> bytes:
    """The text Prometheus scrapes: this process's (or, in multiprocess mode, every worker's) request metrics,
    then the numbers read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = None
    state = CollectorRegistry(auto_describe=False)
    state.register(_StateCollector(redis, queue_stats))
    return generate_latest(counted or REGISTRY) + generate_latest(state)
