"""Pausing Python's cyclic garbage collector around work that makes hundreds of thousands of objects without
cycles (reading a large X12 file, building the ICD-10-CM reference while the demo is seeded): every burst of
allocations would make the collector walk the whole growing heap again. Reference counting still frees
everything outside a cycle, and the collector is back on when the block ends, error or not."""
import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
