"""The first diagnosis search each gunicorn worker answers, on a fresh demo: the ICD-10-CM index is loaded (or
built once into the instance folder's cache/) by gunicorn's master before it forks, so no worker builds it on a
request. `--no-hooks` runs gunicorn with its defaults, without Parity's settings, as before that.

    .venv/bin/python bench/bench_first_search.py              # 4 workers, deploy/gunicorn.conf.py
    .venv/bin/python bench/bench_first_search.py --no-hooks   # the same without the master's warm-up

Prints how long gunicorn took to answer after it was started (a fresh instance folder: the index is built, not
loaded from a copy) and the latency of the concurrent first searches, on twice as many connections as workers.
"""
import argparse
import concurrent.futures
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _server import Client, demo_server  # noqa: E402


def _first_searches(host: str, connections: int) -> list[float]:
    clients = [Client(host) for _ in range(connections)]
    for client in clients:
        client.sign_in("clinician@demo.parity")
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        return sorted(pool.map(lambda client: client.time("/diagnoses/search?q=anx"), clients))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--no-hooks", action="store_true", help="gunicorn's defaults, without Parity's settings")
    args = parser.parse_args()
    config = None if args.no_hooks else "deploy/gunicorn.conf.py"
    connections = args.workers * 2  # sign-ins may land on any worker: twice as many reach every one
    with demo_server(workers=args.workers, config=config) as host:
        served = _wait_for_answer(host)
        samples = _first_searches(host, connections)
    print(f"gunicorn x{args.workers} {'(defaults)' if args.no_hooks else '(deploy/gunicorn.conf.py)'} answered "
          f"{served:.1f} s after it started; first diagnosis searches on {connections} connections at once: "
          + ", ".join(f"{sample:.0f}" for sample in samples) + " ms")
    return 0


def _wait_for_answer(host: str) -> float:
    """Seconds from gunicorn's start until it answers /healthz (demo_server yields once the port is open)."""
    started = demo_server.started
    while True:
        try:
            status, _ = Client(host).request("GET", "/healthz")
            if status == 200:
                return time.perf_counter() - started
        except (OSError, ConnectionError):
            time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
