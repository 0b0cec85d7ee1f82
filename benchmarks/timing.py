"""The one timing helper the benchmark scripts share (they run as scripts, so this directory is on sys.path)."""

import os
import statistics
import time


def blas_line():
    """One line on NumPy's BLAS kernels, for a benchmark's header: OpenBLAS picks them from the CPU when NumPy
    loads it, unless ``OPENBLAS_CORETYPE`` forces them (some machines set it for older OpenBLAS builds; on an
    AVX-512 CPU ``Haswell`` there halves the speed of single-precision products)."""
    from neurona.backend import blas

    core = blas.core_name()
    if core is None:
        return "NumPy's BLAS: not a controllable OpenBLAS (its kernels unknown)"
    line = f"NumPy's BLAS: OpenBLAS, {core} kernels"
    try:
        with open("/proc/cpuinfo") as info:
            avx512 = " avx512f " in f" {info.read()} ".replace("\n", " ")
    except OSError:
        avx512 = False
    forced = os.environ.get("OPENBLAS_CORETYPE")
    if forced:
        line += f" (forced by OPENBLAS_CORETYPE={forced} in the environment"
        line += "; this CPU has AVX-512: unset it, and OPENBLAS_L2_SIZE, to measure OpenBLAS's own choice)" \
            if avx512 and core in ("Haswell", "Zen", "Sandybridge") else ")"
    return line


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


# Longer than the idle threads of the libraries compared keep spinning after their last parallel work (OpenBLAS's
# default thread timeout is 2^28 cycles, about 0.1 s; libgomp's spin is shorter): without it, whichever run
# follows NumPy's multi-threaded loop in a round was measured 5-10% slower on the MNIST MLP.
SETTLE_SECONDS = 0.3


def interleaved(runs, rounds, on_round=None):
    """Seconds of each call of ``runs`` (a dict name -> function), ``rounds`` times each: every round calls all of
    them, in an order rotated by one each round (so each run follows each other), with ``SETTLE_SECONDS`` of
    pause before every call. ``on_round(round_index, times)`` is called after each round; returns
    ``{name: [seconds, ...]}``."""
    names = list(runs)
    times = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
        if on_round is not None:
            on_round(r, times)
    return times
