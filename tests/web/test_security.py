"""CSRF, security headers and the health check."""
import pytest

from app.models import Role
from tests.conftest import csrf_token_from


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_a_post_without_csrf_token_is_400(client, make):
    member = make.member()
    response = client.post("/login", data={"email": member.email, "password": "whatever-password"})
    assert response.status_code == 400


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_signed_in_write_without_token_is_400_and_htmx_is_told_to_refresh(client, make, sign_in):
    admin = make.member()
    sign_in(admin)
    plain = client.post(f"/settings/members/{admin.id}/deactivate")
    assert plain.status_code == 400
    htmx_request = client.post(f"/settings/members/{admin.id}/deactivate", headers={"HX-Request": "true"})
    assert htmx_request.status_code == 400
    assert htmx_request.headers["HX-Refresh"] == "true"


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_csrf_token_in_htmx_header_is_accepted(client, make, sign_in):
    admin = make.member()
    sign_in(admin)
    page = client.get("/settings/members").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    token = csrf_token_from(page)
    response = client.post("/settings/practice", headers={"X-CSRFToken": token, "HX-Request": "true"},
                           data={"legal_name": ""})
    assert response.status_code == 422  # CSRF passed; the form itself is invalid


def test_every_page_has_strict_security_headers(client, make, sign_in):
    for response in (client.get("/login"), client.get("/healthz")):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    sign_in(make.member())
    page = client.get("/settings/members")
    assert page.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in page.headers["Vary"]


def test_pages_have_no_inline_scripts_or_event_handlers(client, make, sign_in):
    import re

    sign_in(make.member())
    for url in ("/", "/settings/practice", "/settings/members", "/settings/audit", "/settings/outbox"):
        html = client.get(url).get_data(as_text=True)
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts and all("src=" in tag for tag in scripts), url
        assert not re.search(r"\son[a-z]+\s*=", html), url
        assert "cdn" not in html.lower(), url


def test_htmx_is_vendored_with_its_version_in_the_name(client):
    html = client.get("/login").get_data(as_text=True)
    assert "/static/htmx-2.0.11.min.js" in html
    response = client.get("/static/htmx-2.0.11.min.js")
    assert response.status_code == 200 and b'version:"2.0.11"' in response.data


def test_healthz_reports_database_redis_and_workers_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["workers"] == 0


def test_clinician_navigation_hides_admin_pages(client, make, sign_in):
    sign_in(make.member(role=Role.CLINICIAN))
    html = client.get("/").get_data(as_text=True)
    assert "/settings/members" not in html
