"""Work a server does once, before it forks: gunicorn's master before its web workers, the RQ worker before its
work horses. The children inherit the result and share its memory copy-on-write, so none of them makes a request
or a job wait for it.

Today that is the ICD-10-CM search index (seconds to build): loaded from its copy in the instance folder's
cache/, or built and copied there for the next start (`app.billing.diagnoses.preload`).
"""
import gc
import os
from pathlib import Path

from flask import Flask

from app.billing import diagnoses


def instance_path() -> str:
    """The instance folder create_app uses (PARITY_INSTANCE_PATH, else Flask's default for the package), found
    without building the app, as gunicorn's master needs it."""
    return Flask("app", instance_path=os.environ.get("PARITY_INSTANCE_PATH") or None).instance_path


def cache_dir(instance: str) -> Path:
    return Path(instance) / "cache"


def before_fork(instance: str | None = None) -> None:
    """Have the shared indexes ready in this process, then keep the collector off them: objects that live as
    long as the process, whose pages the children would otherwise copy as the collector walks them."""
    diagnoses.preload(cache_dir(instance or instance_path()))
    gc.freeze()
