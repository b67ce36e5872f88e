"""ICD-10-CM diagnosis search: load time of the reference and latency of autocomplete keystrokes.

Run from the repository root: `.venv/bin/python bench/bench_diagnoses.py`. Every query of the mix is
typed one character at a time, as the autocomplete sends it, and each prefix is one timed search.
"""
from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

ROUNDS = 20  # passes over the whole mix, so the 99th percentile rests on thousands of searches

#: What clinicians type: code prefixes with and without the dot, partial words, abbreviations.
QUERY_MIX = {
    "code, dotted": ["F41.1", "f43.10", "F32.A", "Z63.0", "F90.2", "S72.001A", "T74.11XA"],
    "code, no dot": ["F411", "f4310", "F32A", "Z630", "F431"],
    "one word": ["depr", "depression", "anxiety", "adjust", "insomnia", "suicidal", "panic", "bipolar",
                 "grief", "schizo", "bereavement", "autism"],
    "several words": ["gener anx", "generalized anxiety disorder", "post trauma", "post traumatic stress",
                      "adjustment disorder with anx", "major dep recurrent mod", "alcohol use mild",
                      "problems rel spouse", "opioid dependence in remission"],
    "abbreviation": ["ptsd", "adhd", "ocd", "mdd", "gad"],
    "no match": ["xyzzy", "qqq anx"],
}


def keystrokes(query: str) -> list[str]:
    return [query[:length] for length in range(1, len(query) + 1)]


def percentile(samples_ms: list[float], fraction: float) -> float:
    ordered = sorted(samples_ms)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    started = time.perf_counter()
    from app.billing import diagnoses  # noqa: PLC0415 - the import is part of what is measured
    imported = time.perf_counter()
    import simple_icd_10_cm  # noqa: F401, PLC0415 - parses the package's XML
    package_loaded = time.perf_counter()
    diagnoses.preload()
    index_built = time.perf_counter()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    for queries in QUERY_MIX.values():  # warm-up pass, not timed
        for query in queries:
            for typed in keystrokes(query):
                diagnoses.search(typed)

    timings_ms: dict[str, list[float]] = {group: [] for group in QUERY_MIX}
    clock = time.perf_counter_ns
    for _ in range(ROUNDS):
        for group, queries in QUERY_MIX.items():
            for query in queries:
                for typed in keystrokes(query):
                    before = clock()
                    diagnoses.search(typed)
                    timings_ms[group].append((clock() - before) / 1e6)

    print("ICD-10-CM reference load (fresh process)")
    print(f"  import app.billing.diagnoses   {imported - started:8.3f} s")
    print(f"  import simple_icd_10_cm        {package_loaded - imported:8.3f} s  (the package parses its XML)")
    print(f"  build codes and word index     {index_built - package_loaded:8.3f} s")
    print(f"  total until the first search   {index_built - started:8.3f} s   peak RSS {peak_rss_mb:.0f} MB")
    print()
    print(f"search(q, limit=20), every keystroke of each query, {ROUNDS} rounds")
    print(f"  {'query mix':<16}{'searches':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    every_sample: list[float] = []
    for group, samples in timings_ms.items():
        every_sample.extend(samples)
        print(f"  {group:<16}{len(samples):>9}{statistics.median(samples):>9.3f}"
              f"{percentile(samples, 0.99):>9.3f}{max(samples):>9.3f}")
    print(f"  {'all':<16}{len(every_sample):>9}{statistics.median(every_sample):>9.3f}"
          f"{percentile(every_sample, 0.99):>9.3f}{max(every_sample):>9.3f}")


if __name__ == "__main__":
    main()
