"""Where Parity's processes log, in one place: the worker, gunicorn under `make run` and the supervisor.

The console shows problems only (warnings and errors), so that `make run` stays quiet while nothing is wrong;
everything from INFO up also goes to a rotated file per process in `instance/logs/` (`worker.log`, `web.log`,
and gunicorn's `access.log`). `LOG_LEVEL=INFO` (or `make run`'s `--verbose`) brings INFO back to the console.

`config()` returns a `logging.config.dictConfig` dictionary; gunicorn takes the same dictionary as its
`logconfig_dict` (app/gunicorn_config.py). A different format (JSON, say) is one formatter here.
"""
import logging
import logging.config
import os
from pathlib import Path

#: The rotated files: 5 MB each, four old ones kept.
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 4
FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
ACCESS_FORMAT = "%(message)s"


def console_level(environ: os._Environ | dict | None = None) -> str:
    """WARNING unless LOG_LEVEL asks for more (or less)."""
    return ((environ if environ is not None else os.environ).get("LOG_LEVEL") or "WARNING").upper()


def log_dir(instance_path: str) -> Path:
    path = Path(instance_path) / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _file(path: Path, formatter: str = "plain") -> dict:
    return {"class": "logging.handlers.RotatingFileHandler", "filename": str(path), "maxBytes": MAX_BYTES,
            "backupCount": BACKUPS, "encoding": "utf-8", "formatter": formatter, "level": "INFO"}


def config(instance_path: str, process: str, *, level: str | None = None, access_log: bool = False) -> dict:
    """The logging of one process (`worker`, `web`): problems on the console (stderr), INFO and up in
    instance/logs/<process>.log. With `access_log` (gunicorn), requests go to instance/logs/access.log, and
    to the console too when the console level is INFO or lower."""
    level = level or console_level()
    directory = log_dir(instance_path)
    handlers = {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain",
                            "level": level},
                "file": _file(directory / f"{process}.log")}
    numeric = logging.getLevelName(level)
    numeric = numeric if isinstance(numeric, int) else logging.WARNING
    result = {"version": 1, "disable_existing_loggers": False,
              "formatters": {"plain": {"format": FORMAT}, "access": {"format": ACCESS_FORMAT}},
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
    """Set up this process's logging (the worker calls it before RQ, which then adds no handler of its own)."""
    logging.config.dictConfig(config(instance_path, process, level=level))
