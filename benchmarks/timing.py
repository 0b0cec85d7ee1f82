"""The one timing helper the benchmark scripts share (they run as scripts, so this directory is on sys.path)."""

import statistics
import time


def median_ms(fn, repeats, warmup=0):
    """Median wall-clock milliseconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3
