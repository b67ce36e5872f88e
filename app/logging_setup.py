"""Logging for Parity's processes: one line per event, JSON lines when LOG_FORMAT=json, each with the request id
of the request it belongs to — in the web process, and in the worker for the jobs that request queued.

`configure(process)` is the one entry point (web servers through create_app, the worker in worker.py). Log
messages carry ids, never names, member IDs or diagnoses; the request line logs the path without its query
string (searches carry names).
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from contextvars import ContextVar, Token
from datetime import datetime, timezone

REQUEST_ID_HEADER = "X-Request-ID"
#: A request id a proxy sends is kept when it looks like one; anything else is replaced.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_request_id: ContextVar[str | None] = ContextVar("parity_request_id", default=None)
_HANDLER_MARK = "_parity_handler"
#: LogRecord attributes every record has; anything else was passed as `extra=` and goes into the JSON line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id",
                                                                          "taskName"}


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


def handler(process: str) -> logging.Handler:
    """Parity's handler: stderr, one line per record (JSON with LOG_FORMAT=json), with the request id. Also named
    by deploy/gunicorn.conf.py's logging configuration, so gunicorn's own lines are written the same way."""
    made = logging.StreamHandler(sys.stderr)
    setattr(made, _HANDLER_MARK, True)
    made.addFilter(RequestIdFilter())
    if os.environ.get("LOG_FORMAT", "").lower() == "json":
        made.setFormatter(JsonFormatter(process))
    else:
        made.setFormatter(logging.Formatter(f"%(asctime)s {process} %(levelname)s %(name)s "
                                            "[%(request_id)s] %(message)s"))
    return made


def configure(process: str) -> None:
    """Send every log record to Parity's handler at LOG_LEVEL (INFO). Safe to call again: Parity's handler is
    replaced, other handlers (pytest's) are left alone."""
    root = logging.getLogger()
    root.handlers[:] = [existing for existing in root.handlers if not getattr(existing, _HANDLER_MARK, False)]
    root.addHandler(handler(process))
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
