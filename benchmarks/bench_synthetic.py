"""Speed of the synthetic machine sounds: the Horner harmonic sum against direct sines.

Run: python benchmarks/bench_synthetic.py [--seconds 10] [--harmonics 24] [--repeat 5]
Prints the time of both ways of summing the harmonics of one clip, their ratio and largest
difference, then the throughput of make_machine_sounds in clips per second.
"""

import argparse
import time

import numpy as np

from sklearn_asd.datasets import make_machine_sounds
from sklearn_asd.datasets._synthetic import _harmonic_sum


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--harmonics", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    n = int(args.seconds * 16000)
    phase = 2 * np.pi * np.cumsum(np.full(n, 80.0) * (1 + 0.002 * rng.standard_normal(n))) / 16000
    coefs = rng.lognormal(size=args.harmonics) * np.exp(1j * rng.uniform(0, 2 * np.pi, args.harmonics))
    k = np.arange(1, args.harmonics + 1)[:, None]

    def direct():
        return (np.abs(coefs)[:, None] * np.sin(k * phase + np.angle(coefs)[:, None])).sum(axis=0)

    t_direct, ref = best_of(direct, args.repeat)
    t_horner, out = best_of(lambda: _harmonic_sum(coefs, phase), args.repeat)
    print(f"harmonic sum, {args.harmonics} harmonics x {n} samples (best of {args.repeat}):")
    print(f"  direct sines   {1e3 * t_direct:8.2f} ms")
    print(f"  Horner phasor  {1e3 * t_horner:8.2f} ms   ratio {t_direct / t_horner:.1f}x")
    print(f"  max |diff|     {np.abs(out - ref).max():.2e}")

    t0 = time.perf_counter()
    data = make_machine_sounds(n_sections=3, n_normal=10, duration=args.seconds, random_state=0)
    elapsed = time.perf_counter() - t0
    print(
        f"make_machine_sounds: {len(data.X)} clips of {args.seconds:g} s in {elapsed:.2f} s "
        f"({len(data.X) / elapsed:.0f} clips/s, {len(data.X) * args.seconds / elapsed:.0f}x real time)"
    )


if __name__ == "__main__":
    main()
