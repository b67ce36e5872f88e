"""Parity: billing for therapy and behavioral-health practices."""
import logging
import os
import time
from datetime import timedelta

from flask import Flask, abort, flash, g, has_request_context, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from app import audit, authz, cli, errors, formatting, htmx, logs, member_sessions, metrics, models, web_sessions  # noqa: F401  (models registers the tables)
from app.billing import summaries  # noqa: F401  (keeps the reports' summaries in step with every commit)
from app.blueprints import account, auth, bills, claims, clients, main, payers, remittances, reports, services, sessions, settings
from app.config import from_environment
from app.extensions import csrf, db, login_manager, migrate
from app.models.types import utcnow
from app.navigation import SETTINGS_NAVIGATION, items_for

#: Headers on every response. Scripts only from our own origin: no inline script, no CDN.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from the environment, then `config` on top (tests use that)."""
    app = Flask(__name__, instance_path=os.environ.get("PARITY_INSTANCE_PATH") or None,
                instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(from_environment(app.instance_path))
    app.config.update(config or {})
    if not app.testing:  # tests keep pytest's log capture
        logs.configure_stream(os.environ.get("PARITY_PROCESS", "web"))
    if app.config["TRUSTED_PROXIES"]:
        # The client's address (throttling, audit) from X-Forwarded-For, only as far as proxies we trust.
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    _init_observability(app)  # request id, metrics and the request's log line, for every request
    _refuse_large_bodies(app)  # before CSRFProtect, the first to read a body
    csrf.init_app(app)
    _init_login(app)

    authz.init_app(app)
    errors.init_app(app)
    _init_request_lifecycle(app)
    _init_templates(app)

    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(services.bp)
    app.register_blueprint(services.codes_bp)
    app.register_blueprint(payers.bp)
    app.register_blueprint(clients.bp)
    app.register_blueprint(sessions.bp)
    app.register_blueprint(sessions.diagnoses_bp)
    app.register_blueprint(bills.bp)
    app.register_blueprint(bills.payments_bp)
    app.register_blueprint(claims.bp)
    app.register_blueprint(remittances.bp)
    app.register_blueprint(reports.bp)

    cli.init_app(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, and WAL so readers never block the writer (web + worker)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def _refuse_large_bodies(app: Flask) -> None:
    """413 for a body declared larger than MAX_CONTENT_LENGTH, before any of it is read. (A body sent
    without a length is cut off at the limit by werkzeug as it is read.)"""

    @app.before_request
    def refuse_large_body():
        limit = app.config["MAX_CONTENT_LENGTH"]
        if limit is not None and (request.content_length or 0) > limit:
            abort(413)


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(web_sessions.load_member)


request_log = logging.getLogger("parity.request")


def _init_observability(app: Flask) -> None:
    """Registered first, so that every request is timed, counted and logged, those refused early included."""

    @app.before_request
    def request_id():
        """Every request gets an id (the proxy's X-Request-ID when sane): in its log lines, its response, and the
        log lines of the jobs it queues."""
        g.request_started = time.perf_counter()
        g.request_id = logs.new_request_id(request.headers.get(logs.REQUEST_ID_HEADER))
        g.request_id_token = logs.use_request_id(g.request_id)

    @app.after_request
    def count_and_log_request(response):
        """One log line and the request metrics per request; the path without its query string (searches
        carry names)."""
        started = g.get("request_started")
        if started is not None:
            seconds = time.perf_counter() - started
            metrics.observe_request(request.endpoint, request.method, response.status_code, seconds)
            request_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "method": request.method, "path": request.path, "endpoint": request.endpoint or "",
                "status": response.status_code, "ms": round(seconds * 1000, 1)})
            response.headers[logs.REQUEST_ID_HEADER] = g.request_id
        return response

    @app.teardown_request
    def end_request_id(error=None):
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.reset_request_id(token)


def _init_request_lifecycle(app: Flask) -> None:
    """One transaction per request, idle sign-out, and the headers every response carries."""
    idle_limit: timedelta = app.config["PERMANENT_SESSION_LIFETIME"]

    @app.before_request
    def audit_origin():
        """What is recorded in this request comes from the web, from this address, by the signed-in member."""
        g.audit_origin = audit.use_origin(audit.Origin(
            "web", ip_address=request.remote_addr, user_agent=(request.user_agent.string or "")[:300],
            signed_in_member_id=lambda: current_user.id if current_user.is_authenticated else None))

    @app.teardown_request
    def end_audit_origin(error=None):
        token = g.pop("audit_origin", None)
        if token is not None:
            audit.reset_origin(token)

    @app.before_request
    def sign_out_when_idle():
        if not current_user.is_authenticated:
            return None
        now = utcnow().timestamp()
        last_seen = session.get("seen", now)
        if now - last_seen > idle_limit.total_seconds():
            web_sessions.end()
            flash(f"You were signed out after {int(idle_limit.total_seconds() // 60)} minutes without activity.", "info")
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        if now - last_seen >= member_sessions.LAST_SEEN_EVERY.total_seconds() or "seen" not in session:
            # Written at most once a minute: an unchanged session is not signed and sent again on every request.
            session["seen"] = now
        return None

    @app.after_request
    def finish_transaction(response):
        """Commit what a successful request did; a 4xx/5xx answer keeps nothing (nothing half-saved)."""
        if response.status_code < 400:
            db.session.commit()  # jobs queued with enqueue_after_commit go to Redis here
        else:
            db.session.rollback()
        return response

    @app.after_request
    def security_headers(response):
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if current_user.is_authenticated:
            # Pages carry client health information: never keep them in a shared or disk cache.
            response.headers["Cache-Control"] = "no-store"
        return htmx.add_vary(response)


def _init_templates(app: Flask) -> None:
    formatting.init_app(app)
    app.jinja_env.add_extension("jinja2.ext.do")
    # HTML attributes with a value: WTForms renders None as the text "None" (type="None" would show a
    # password in clear text).
    app.jinja_env.globals["present"] = lambda attributes: {key: value for key, value in attributes.items()
                                                           if value is not None}
    # Form macros as a global, so that blocks rendered alone (htmx fragments) can use them too.
    app.jinja_env.globals["forms"] = app.jinja_env.get_template("_partials/forms.html").module

    @app.context_processor
    def navigation():
        """Functions, not lists: only whole pages call them, and most responses are fragments (autocomplete
        keystrokes, htmx swaps) that would build both menus for nothing."""
        if not has_request_context() or not current_user.is_authenticated:  # mail rendered by a job has no user
            return {"nav_items": list, "settings_nav_items": list}
        return {"nav_items": lambda: items_for(current_user),
                "settings_nav_items": lambda: items_for(current_user, SETTINGS_NAVIGATION)}
