"""Logging for Parity's processes, in one place: one line per event, JSON lines when LOG_FORMAT=json, each with
the id of the request it belongs to (in the web process, and in the worker for the jobs that request queued).

Two ways a process logs:
- Under `make run` (`config()`/`configure()`): the console shows problems only (warnings and errors), so that it
  stays quiet while nothing is wrong; everything from INFO up also goes to a rotated file per process in
  `instance/logs/` (`worker.log`, `web.log`, and gunicorn's `access.log`). `LOG_LEVEL=INFO` (or `make run`'s
  `--verbose`) brings INFO back to the console. Gunicorn takes the same dictionary as its `logconfig_dict`
  (app/gunicorn_config.py).
- Anywhere else (production under systemd, `flask` commands: `configure_stream()`): every record at LOG_LEVEL
  (INFO) to stderr, for the journal. deploy/gunicorn.conf.py names `stream_handler` for gunicorn's own lines.

Log messages carry ids, never names, member IDs or diagnoses; the request line logs the path without its query
string (searches carry names).
"""
from __future__ import annotations

import json
import logging
import logging.config
import os
import re
import sys
import uuid
from contextvars import ContextVar, Token
from datetime import datetime, timezone
from pathlib import Path

#: The rotated files: 5 MB each, four old ones kept.
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 4
ACCESS_FORMAT = "%(message)s"
REQUEST_ID_HEADER = "X-Request-ID"
#: A request id a proxy sends is kept when it looks like one; anything else is replaced.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_request_id: ContextVar[str | None] = ContextVar("parity_request_id", default=None)
_HANDLER_MARK = "_parity_handler"
#: LogRecord attributes every record has; anything else was passed as `extra=` and goes into the JSON line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id",
                                                                          "taskName"}


# ---------------------------------------------------------------- the request id


def new_request_id(offered: str | None = None) -> str:
    """The id of a request: the proxy's X-Request-ID when it is a plain token, else a new random one."""
    return offered if offered and _ACCEPTABLE_ID.match(offered) else uuid.uuid4().hex


def current_request_id() -> str | None:
    return _request_id.get()


def use_request_id(value: str | None) -> Token:
    return _request_id.set(value)


def reset_request_id(token: Token) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


# ---------------------------------------------------------------- how a line looks


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, process, logger, message, request id, extras, exception."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "process": self.process,
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id and request_id != "-":
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def formatter(process: str) -> logging.Formatter:
    """JSON lines with LOG_FORMAT=json, else plain text; both with the request id (RequestIdFilter sets it)."""
    if os.environ.get("LOG_FORMAT", "").lower() == "json":
        return JsonFormatter(process)
    return logging.Formatter(f"%(asctime)s {process} %(levelname)s [%(process)d] %(name)s [%(request_id)s] "
                             "%(message)s")


# ---------------------------------------------------------------- under `make run`: quiet console, files


def console_level(environ: os._Environ | dict | None = None) -> str:
    """WARNING unless LOG_LEVEL asks for more (or less)."""
    return ((environ if environ is not None else os.environ).get("LOG_LEVEL") or "WARNING").upper()


def log_dir(instance_path: str) -> Path:
    path = Path(instance_path) / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _file(path: Path, formatter_name: str = "plain") -> dict:
    return {"class": "logging.handlers.RotatingFileHandler", "filename": str(path), "maxBytes": MAX_BYTES,
            "backupCount": BACKUPS, "encoding": "utf-8", "formatter": formatter_name, "level": "INFO",
            "filters": ["request_id"]}


def config(instance_path: str, process: str, *, level: str | None = None, access_log: bool = False) -> dict:
    """The logging of one process (`worker`, `web`) under `make run`: problems on the console (stderr), INFO and
    up in instance/logs/<process>.log. With `access_log` (gunicorn), requests go to instance/logs/access.log, and
    to the console too when the console level is INFO or lower."""
    level = level or console_level()
    directory = log_dir(instance_path)
    handlers = {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain",
                            "level": level, "filters": ["request_id"]},
                "file": _file(directory / f"{process}.log")}
    numeric = logging.getLevelName(level)
    numeric = numeric if isinstance(numeric, int) else logging.WARNING
    result = {"version": 1, "disable_existing_loggers": False,
              "filters": {"request_id": {"()": RequestIdFilter}},
              "formatters": {"plain": {"()": formatter, "process": process}, "access": {"format": ACCESS_FORMAT}},
              "handlers": handlers,
              "root": {"level": min(logging.INFO, numeric), "handlers": ["console", "file"]},
              "loggers": {}}
    if access_log:
        handlers["access_file"] = _file(directory / "access.log", "access")
        handlers["access_console"] = {**handlers["console"], "formatter": "access"}
        access = ["access_file"] + (["access_console"] if numeric <= logging.INFO else [])
        result["loggers"] = {"gunicorn.error": {"level": "INFO", "handlers": ["console", "file"], "propagate": False},
                             "gunicorn.access": {"level": "INFO", "handlers": access, "propagate": False}}
    return result


def configure(instance_path: str, process: str, *, level: str | None = None) -> None:
    """Set up this process's logging under `make run` (the worker calls it before RQ, which then adds no handler
    of its own). It replaces whatever handlers the root logger had."""
    logging.config.dictConfig(config(instance_path, process, level=level))


# ---------------------------------------------------------------- elsewhere: stderr for the journal


def stream_handler(process: str) -> logging.Handler:
    """Parity's stderr handler: one line per record (JSON with LOG_FORMAT=json), with the request id. Also named
    by deploy/gunicorn.conf.py's logging configuration, so gunicorn's own lines are written the same way."""
    made = logging.StreamHandler(sys.stderr)
    setattr(made, _HANDLER_MARK, True)
    made.addFilter(RequestIdFilter())
    made.setFormatter(formatter(process))
    return made


def configure_stream(process: str) -> None:
    """Send every log record to stderr at LOG_LEVEL (INFO), unless this process's logging is set up already
    (gunicorn's logconfig_dict, `configure()`). Safe to call again: Parity's own stream handler is replaced,
    other handlers are left alone."""
    root = logging.getLogger()
    others = [existing for existing in root.handlers if not getattr(existing, _HANDLER_MARK, False)]
    if others:
        return
    root.handlers[:] = [stream_handler(process)]
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
