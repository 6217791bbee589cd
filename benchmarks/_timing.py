"""Timing shared by the benchmark scripts."""

import time

import numpy as np


def min_median(fn, repeat):
    """Min and median wall time (s) of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))
