"""Code autocomplete speed on the demo, side by side with GET /healthz in the same run.

Target (issue: service catalog): /codes/search p50 ≤ 3 × /healthz p50, and p99 ≤ 25 ms.
Requests alternate between the two endpoints so both see the same machine conditions.

    .venv/bin/python bench/bench_code_search.py [--rounds 400]
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import Client, demo_server, percentile, summary  # noqa: E402

# What people type, one keystroke at a time: code prefixes and words.
TYPED = ["9083", "90837", "908", "9", "H20", "family", "crisis", "psycho", "group", "interactive", "screen", "late"]


def keystrokes() -> list[str]:
    return [word[:end] for word in TYPED for end in range(1, len(word) + 1)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    queries = keystrokes()
    with demo_server() as host:
        client = Client(host)
        client.sign_in("clinician@demo.parity")
        for query in queries:  # warm up: first requests build the indexes and templates
            client.time(f"/codes/search?q={query}&context=catalog")
            client.time("/healthz")
        health, practice, catalog = [], [], []
        for round_number in range(args.rounds):
            query = queries[round_number % len(queries)]
            health.append(client.time("/healthz"))
            practice.append(client.time(f"/codes/search?q={query}&context=practice&minutes=45"))
            catalog.append(client.time(f"/codes/search?q={query}&context=catalog"))
    print(summary("GET /healthz", health))
    print(summary("GET /codes/search context=practice", practice))
    print(summary("GET /codes/search context=catalog", catalog))
    base = percentile(health, .5)
    ok = True
    for name, samples in (("practice", practice), ("catalog", catalog)):
        ratio = percentile(samples, .5) / base
        p99 = percentile(samples, .99)
        verdict = "meets" if ratio <= 3 and p99 <= 25 else "MISSES"
        ok &= verdict == "meets"
        print(f"search ({name}): p50 = {ratio:.2f} × healthz p50 (target ≤ 3), p99 = {p99:.2f} ms (target ≤ 25): {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
