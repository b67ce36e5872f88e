"""gunicorn settings for Parity in production:

    python -m gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'

BIND (127.0.0.1:5000), WEB_CONCURRENCY (4 workers) and WEB_THREADS (1 thread each) from the environment. One
request per worker process at a time: each request has its process' interpreter lock to itself, and a request waits
for a free worker rather than sharing a busy one's. bench/bench_load.py at 50 users on 2 CPUs, p99 of every page: 4
threads 300-800 ms, 2 threads 240-470 ms, 1 thread 100-250 ms. (Threads had looked better while every save in a
practice queued on the practice row; that lock is fixed.) More threads suit a server whose requests wait on a slow
remote database more than they compute. No access log: Parity writes one line per request itself, with its request
id and without the query string (searches carry names); gunicorn's own lines go through Parity's handler too (JSON
with LOG_FORMAT=json). With PROMETHEUS_MULTIPROC_DIR set, the folder is emptied when the server starts and an
exited worker's files are marked dead, so /metrics sums what counts. The master loads the ICD-10-CM search index
(or builds it once into the instance folder's cache/) before it forks the workers, which share it: no worker's
first diagnosis search waits for it (app/warm.py).
"""
import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

from app import warm

bind = os.environ.get("BIND", "127.0.0.1:5000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "1"))
# Each connection carries one request, so each request goes to whichever worker takes it first: an idle one. A
# worker keeps the connections it accepts, so kept-alive ones stayed where they first landed: at 50 users two of
# the four workers served nearly all of them (each held to one core by its GIL) while a fifth of the CPUs sat idle.
# nginx in front keeps the browsers' connections alive itself.
keepalive = 0
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": os.environ.get("LOG_LEVEL", "INFO").upper(), "handlers": ["parity"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True, "qualname": "gunicorn.error"},
        # Its lines hold the query string, where searches put names: dropped (Parity logs each request itself).
        "gunicorn.access": {"level": "CRITICAL", "handlers": ["none"], "propagate": False,
                            "qualname": "gunicorn.access"},
    },
    "handlers": {"parity": {"()": "app.logs.stream_handler", "process": os.environ.get("PARITY_PROCESS", "web")},
                 "none": {"class": "logging.NullHandler"}},
}


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:  # counts from an earlier run of this server would be summed in
        for entry in Path(directory).iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def when_ready(server):
    warm.before_fork()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)

