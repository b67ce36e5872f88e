"""/metrics: Prometheus' text format behind a bearer token (404 without METRICS_TOKEN), request counts and latency
by endpoint and status, RQ queues, claims by status per practice, clearinghouse calls and errors by kind, backup
age; summed across gunicorn workers in multiprocess mode."""
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from app import backups, jobs
from app.clearinghouse.base import ClearinghouseUnavailable
from app.models import Role
from app.redis_conn import get_redis
from tests.support.claimmd_server import ClaimMDServer
from tests.support.insurance import insured, stored_key
from tests.support.processes import running_gunicorn

TOKEN = "scrape-token-for-tests-0123456789"


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})


def test_metrics_is_not_there_without_a_token_configured(app, client, make, sign_in):
    assert app.config["METRICS_TOKEN"] is None
    assert scrape(client).status_code == 404
    sign_in(make.member(role=Role.ADMIN))
    assert scrape(client, token=None).status_code == 404


@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN}])
def test_metrics_needs_the_bearer_token_even_for_a_signed_in_admin(app, client, make, sign_in):
    assert scrape(client, token=None).status_code == 401
    assert scrape(client, token="wrong-token").status_code == 401
    sign_in(make.member(role=Role.ADMIN))
    assert scrape(client, token=None).status_code == 401
    response = scrape(client)
    assert response.status_code == 200 and response.content_type.startswith("text/plain")


@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN}])
def test_metrics_count_requests_claims_queues_and_backup_age(app, client, make):
    world = insured(make, app)
    world.claim()
    world.claim(member_id="MEM77")
    before = samples(scrape(client).text)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/clients").status_code == 302
    with app.app_context():
        jobs.queue().enqueue(jobs.rebuild_report_summaries, world.practice.id)
        backups.record_outcome(get_redis(), ok=True, at=datetime.now(timezone.utc) - timedelta(hours=2), detail="x")
    found = samples(scrape(client).text)
    healthz = (("endpoint", "main.healthz"), ("method", "GET"), ("status", "200"))
    assert found[("parity_http_requests_total", healthz)] - before.get(("parity_http_requests_total", healthz), 0) == 3
    assert found[("parity_http_requests_total", (("endpoint", "clients.index"), ("method", "GET"),
                                                 ("status", "302")))] >= 1
    assert found[("parity_http_request_duration_seconds_count", (("endpoint", "main.healthz"), ("status", "200")))] >= 3
    assert found[("parity_claims", (("practice_id", str(world.practice.id)), ("status", "queued")))] == 2
    assert found[("parity_rq_jobs", (("state", "queued"),))] == 1
    assert found[("parity_rq_jobs", (("state", "failed"),))] == 0
    assert 7190 < found[("parity_backup_age_seconds", ())] < 7300


@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN}])
def test_clearinghouse_calls_and_errors_are_counted_by_kind(app, client, make):
    sandbox = insured(make, app)
    sandbox.claim()
    with app.app_context():
        assert jobs.submit_claims(sandbox.practice.id)["sent"] == 1
    with ClaimMDServer(account_key="test-key") as server:
        app.config["CLAIMMD_URL"] = server.url
        app.config["CLAIMMD_TIMEOUT_SECONDS"] = 2.0
        claimmd = insured(make, app, clearinghouse="claimmd", claimmd_account_key=stored_key(app, "test-key"))
        claimmd.claim()
        server.drop_after_receiving_next_upload()
        with app.app_context(), pytest.raises(ClearinghouseUnavailable):
            jobs.submit_claims(claimmd.practice.id)
    found = samples(scrape(client).text)
    assert found[("parity_clearinghouse_calls_total", (("clearinghouse", "sandbox"), ("operation", "upload"),
                                                        ("outcome", "ok")))] == 1
    unavailable = (("clearinghouse", "claimmd"), ("kind", "unavailable"), ("operation", "upload"))
    assert found[("parity_clearinghouse_errors_total", unavailable)] == 1
    assert not any(name == "parity_clearinghouse_errors_total" and dict(labels)["clearinghouse"] == "sandbox"
                   for name, labels in found)


@pytest.mark.slow
def test_gunicorn_workers_requests_are_summed_in_multiprocess_mode(app, database_url, redis_url, tmp_path):
    """Four gunicorn workers, PROMETHEUS_MULTIPROC_DIR: every request is counted whichever worker answers
    the requests and whichever answers the scrape, and a worker that has exited still counts. Each worker is
    replaced after ten requests, so at least four processes answer the forty (left to themselves, one idle
    worker may take them all)."""
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "test-secret-key",
           "PARITY_INSTANCE_PATH": str(tmp_path / "instance"), "METRICS_TOKEN": TOKEN,
           "PROMETHEUS_MULTIPROC_DIR": str(multiproc), "LOG_LEVEL": "WARNING"}
    with running_gunicorn(env, tmp_path / "gunicorn.log", workers=4, options=("--max-requests", "10")) as base:
        # /login, not /healthz: a readiness check the test gave up waiting for may still be answered and counted
        login = ("parity_http_requests_total", (("endpoint", "auth.login"), ("method", "GET"), ("status", "200")))

        def counted() -> float:
            answer = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            assert answer.status_code == 200
            return samples(answer.text).get(login, 0)

        before = counted()
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: requests.get(f"{base}/login", timeout=30).status_code, range(40)))
        assert statuses == [200] * 40
        # every scrape (each answered by whichever worker takes it) sees all 40, whichever workers answered them
        assert [counted() - before for _ in range(8)] == [40] * 8
        assert len([path for path in multiproc.iterdir() if path.name.startswith("counter_")]) >= 4
