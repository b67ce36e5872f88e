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


def test_a_body_declared_larger_than_the_limit_is_413_before_any_of_it_is_read(live_server):
    """A real socket to a live server: only the headers of a 25 MB POST are sent, and the 413 must come
    back while the server still waits for a body it would otherwise have to read."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(live_server.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall((f"POST /login HTTP/1.1\r\nHost: {address.netloc}\r\n"
                            "Content-Type: application/x-www-form-urlencoded\r\n"
                            f"Content-Length: {25 * 1024 * 1024}\r\n\r\n").encode())
        answer = b""
        while b"</html>" not in answer:
            chunk = connection.recv(65536)  # a server reading the body first would time out here
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 413 " in status_line
    assert b"Too large" in rest and b"Content-Security-Policy" in rest  # the normal error page


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 4096}])
def test_the_request_size_limit_is_a_setting(client, make, sign_in):
    sign_in(make.member())
    response = client.post("/settings/practice", data={"legal_name": "x" * 5000})
    assert response.status_code == 413
    assert b"larger than Parity accepts" in response.data
    assert client.post("/login", data={"email": "a@example.org", "password": "small enough"}).status_code == 422


def test_the_size_limit_defaults_to_20_mb(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024
