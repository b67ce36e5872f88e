"""Gunicorn's settings under `make run` (`gunicorn -c python:app.gunicorn_config`, from app/supervisor.py).

Logs as app/logs.py says (problems on the console, the rest in instance/logs/), and gunicorn's control socket
in the instance folder rather than the shared ~/.gunicorn/. Gunicorn ignores settings it does not know, so
`control_socket` is simply unused by releases before 25.1, which have no control socket. The master has the
ICD-10-CM search index ready before it forks the workers (app/warm.py).
"""
import os

from app import logs, warm

_instance = os.environ["PARITY_INSTANCE_PATH"]

logconfig_dict = logs.config(_instance, "web", access_log=True)
control_socket = os.path.join(_instance, "gunicorn.ctl")


def when_ready(server):
    warm.before_fork(_instance)
