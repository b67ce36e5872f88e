"""Run an RQ worker, with RQ's scheduler, inside the Parity app context.

    python worker.py            # REDIS_URL, or the embedded Redis server in instance/

The console shows only problems; every job's start and end is in instance/logs/worker.log (app/logs.py), and
LOG_LEVEL=INFO shows them on the console too.

Each job runs in a forked work horse; the database pool is discarded in the child so that no
connection is shared across processes. What every horse would otherwise build for itself (the ICD-10-CM search
index) is ready in the worker before the first fork (app/warm.py).
"""
import os
import socket
import sys

from rq import Worker

from app import create_app
from app import audit, logs, warm
from app.extensions import db
from app.jobs import queue, queue_missing_report_builds, schedule_next_backup, schedule_next_tick
from app.redis_conn import get_redis


# How often each worker does RQ's upkeep (RQ's default is 10 minutes). Upkeep is where a worker takes over RQ's
# scheduler from one that died holding it, so this bounds how long the clearinghouse clock can stand still after a
# machine dies: the dead scheduler's lock expires after about a minute, then the next upkeep takes it.
MAINTENANCE_SECONDS = 30
# An idle worker waits on Redis for at most WORKER_TTL - 15 seconds before it checks whether upkeep is due.
WORKER_TTL_SECONDS = 45


class ParityWorker(Worker):
    """An RQ worker whose job log lines carry the id of the request that queued the job, and whose upkeep keeps
    the clocks going (the clearinghouse tick; the daily backup when BACKUP_DIR is set)."""

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        # RQ does its first upkeep as soon as the worker starts, so this starts the clocks; later it restarts one
        # whose next job a killed worker took with it. Each tick and backup schedules the one after it, and the job
        # id is the time slot, so this schedules nothing while a clock runs, however many workers there are.
        schedule_next_tick()
        schedule_next_backup()

    def execute_job(self, job, queue):
        token = logs.use_request_id((job.meta or {}).get("request_id"))
        try:  # the forked work horse inherits the id, so the job's own lines carry it too
            return super().execute_job(job, queue)
        finally:
            logs.reset_request_id(token)


def main() -> int:
    os.environ.setdefault("PARITY_PROCESS", "worker")
    app = create_app()
    logs.configure(app.instance_path, "worker")  # replaces create_app's stderr logging: quiet console, files
    audit.set_default(audit.Origin("worker"))
    with app.app_context():
        os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))
        # Summaries an upgrade left to build (or a time zone change whose job was lost) are built in the
        # background, not by the first report someone opens.
        queue_missing_report_builds()
        warm.before_fork(app.instance_path)  # the ICD-10-CM index, shared by every work horse rather than built in each
        worker = ParityWorker([queue()], connection=get_redis(), name=f"parity-{socket.gethostname()}-{os.getpid()}",
                              maintenance_interval=MAINTENANCE_SECONDS, worker_ttl=WORKER_TTL_SECONDS)
        # RQ logs each job at INFO: into the file always, onto the console only when LOG_LEVEL asks.
        worker.work(with_scheduler=True, logging_level="INFO")
    return 0


if __name__ == "__main__":
    sys.exit(main())
