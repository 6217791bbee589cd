"""LogMel against librosa: speed, exactness, and peak memory from files.

Run: python benchmarks/bench_features.py [--n-clips 256] [--repeat 3] [--memory-clips 3000]

Same machine, same run, same 10-second 16 kHz clips (the real recordings of ../shared/data, topped
up with synthetic machine sounds): clips/s of sklearn_asd.features.LogMel against a loop over
librosa.feature.melspectrogram + power_to_db and against librosa on the batched array, the ratio to
librosa's best, and the largest deviation in dB where librosa's value is within 80 dB of the
clip's maximum. Then the peak resident memory of featurizing --memory-clips files, each way in a
fresh process: AudioReader(lazy=True) + LogMel (streamed) against AudioReader + LogMel (every
waveform loaded first). On a CUDA machine it also reports LogMel(device="cuda").
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import librosa
import numpy as np
from _timing import min_median
from threadpoolctl import threadpool_limits

from sklearn_asd.datasets import AudioReader, load_dcase, make_machine_sounds
from sklearn_asd.features import LogMel
from sklearn_asd.features._spectral import map_clips

DATA = Path(os.environ.get("SKLEARN_ASD_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SR, SECONDS = 16000, 10.0
PARAMS = dict(sr=SR, n_fft=1024, hop_length=512, n_mels=128)


def real_files():
    """Paths of the real 16 kHz recordings (all at least 10 s long)."""
    if not DATA.is_dir():
        return []
    return sorted(str(p) for p in DATA.rglob("*.wav"))


def benchmark_clips(n_clips):
    """n_clips ten-second clips: the real recordings first, then synthetic ones."""
    parts, names = [], []
    if DATA.is_dir():
        parts.append(load_dcase(DATA / "dcase2023_valve", "valve", "all").X)
        for machine in ("ToyCar", "ToyTrain", "bearing", "fan", "gearbox", "slider", "valve"):
            parts.append(load_dcase(DATA / "dcase2023_dev_samples", machine, "all", duration=SECONDS).X)
        parts.append(load_dcase(DATA / "mimii_8ch_samples", "valve", "all", channel=0).X)
        names.append(f"{sum(len(p) for p in parts)} real")
    n_real = sum(len(p) for p in parts)
    if n_real < n_clips:
        missing = n_clips - n_real
        per_section = -(-missing // 6)
        synth = make_machine_sounds(n_normal=per_section, n_anomalous=0, duration=SECONDS, random_state=0).X
        parts.append(synth[:missing])
        names.append(f"{missing} synthetic")
    return np.concatenate(parts)[:n_clips], " + ".join(names)


def best_time(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def fft_floor(X, batch_size=8, workers=None):
    """The FFT alone: scipy's rfft of the framed, Hann-windowed clips (what any STFT must do),
    chunk by chunk, on all cores; the floor LogMel is measured against."""
    import scipy.fft

    n_fft, hop = PARAMS["n_fft"], PARAMS["hop_length"]
    window = librosa.filters.get_window("hann", n_fft, fftbins=True).astype(np.float32)
    workers = workers or os.cpu_count()
    for start in range(0, len(X), batch_size):
        x = np.pad(X[start : start + batch_size], ((0, 0), (n_fft // 2, n_fft // 2)))
        count = 1 + (x.shape[1] - n_fft) // hop
        frames = np.lib.stride_tricks.as_strided(
            x, (x.shape[0], count, n_fft), (x.strides[0], x.strides[1] * hop, x.strides[1])
        )
        scipy.fft.rfft(frames * window, axis=-1, workers=workers)


def librosa_db(y):
    mel = librosa.feature.melspectrogram(y=y, pad_mode="constant", **PARAMS)
    return librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)


def peak_rss_mib():
    """This process's peak resident memory since it started (MiB).

    Linux's ``/proc/self/status`` ``VmHWM``: the high-water mark of the process's own memory
    map, which ``execve`` starts afresh. Not ``ru_maxrss``: Linux carries it across ``execve``
    from the parent that forked the child (a child of a 1.2 GB benchmark process that does
    nothing reported 1,226 MiB), so it measured the parent, not the work.
    """
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # elsewhere: the best there is


def memory_child(mode, n_files):
    """Featurize n_files paths in this (fresh) process and print the peak RSS in MiB."""
    files = real_files()
    if not files:
        print("nan nan nan nan")
        return
    paths = [files[i % len(files)] for i in range(n_files)]
    reader = AudioReader(SR, duration=SECONDS, lazy=(mode == "lazy"))
    LogMel(**PARAMS).fit_transform(reader.fit_transform(paths[:2]))  # imports, thread pools
    baseline_mib = peak_rss_mib()
    t0 = time.perf_counter()
    out = LogMel(**PARAMS).fit_transform(reader.fit_transform(paths))
    elapsed = time.perf_counter() - t0
    peak_mib = peak_rss_mib()
    print(f"{peak_mib:.0f} {baseline_mib:.0f} {out.nbytes / 2**20:.0f} {elapsed:.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-clips", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-clips", type=int, default=3000)
    parser.add_argument("--memory-child", choices=["lazy", "eager"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args.memory_clips)
        return

    X, origin = benchmark_clips(args.n_clips)
    print(f"{len(X)} clips of {SECONDS:g} s at {SR} Hz ({origin}); {os.cpu_count()} CPU cores")
    print(f"log-mel: n_fft={PARAMS['n_fft']}, hop={PARAMS['hop_length']}, n_mels={PARAMS['n_mels']}, dB\n")

    # warm up (librosa's numba functions, FFT plans, thread pools)
    librosa_db(X[:2])
    model = LogMel(**PARAMS).fit(X)
    model.transform(X[:16])

    t_loop, ref = best_time(lambda: np.stack([librosa_db(x) for x in X]), args.repeat)
    # librosa's mel product is a BLAS call: with OpenBLAS's threads on a busy machine the loop
    # collapses (2 threads spinning for one small product per clip), so the reference also runs
    # with BLAS held to one thread, and the better of the two counts as librosa's
    with threadpool_limits(limits=1, user_api="blas"):
        t_loop1, _ = best_time(lambda: np.stack([librosa_db(x) for x in X]), args.repeat)
    t_batch, ref_batch = best_time(lambda: librosa_db(X), args.repeat)
    t_ours, ours = best_time(lambda: model.transform(X), args.repeat)
    cpu_torch = LogMel(**PARAMS, device="cpu").fit(X)
    out = np.empty_like(ours)
    t_torch, _ = best_time(
        lambda: map_clips(
            lambda x: cpu_torch._compute_torch(x, "cpu"), X, out, batch_size=8, n_jobs=1, device="torch"
        ),
        args.repeat,
    )
    best_librosa = min(t_loop, t_loop1, t_batch)
    rows = [
        ("librosa, loop over clips", t_loop),
        ("librosa, loop, BLAS on 1 thread", t_loop1),
        ("librosa, batched array", t_batch),
        ("LogMel (CPU engine, default settings)", t_ours),
        ("LogMel torch path on CPU (the CUDA code)", t_torch),
    ]
    print(f"{'':44s}{'clips/s':>10s}{'vs librosa best':>18s}")
    for name, t in rows:
        print(f"{name:44s}{len(X) / t:10.0f}{best_librosa / t:17.2f}x")

    # LogMel against the FFT alone (its floor), min and median of --repeat, same clips
    fft_floor(X[:16])
    t_fft = min_median(lambda: fft_floor(X), args.repeat)
    t_lm = min_median(lambda: model.transform(X), args.repeat)
    print(
        f"\nFFT only (scipy rfft of the framed, windowed clips, {os.cpu_count()} workers): "
        f"{len(X) / t_fft[0]:.0f} clips/s; LogMel / FFT only: {t_lm[0] / t_fft[0]:.2f}x (min), "
        f"{t_lm[1] / t_fft[1]:.2f}x (median) of {args.repeat}"
    )

    top = ref.max(axis=(1, 2), keepdims=True)
    near_top = ref >= top - 80.0
    diff = np.abs(ours - ref)
    print(
        "\nmax |LogMel - librosa| where librosa is within 80 dB of the clip max: "
        f"{diff[near_top].max():.2e} dB"
        f" ({100 * near_top.mean():.1f} % of values); everywhere: {diff.max():.2e} dB"
    )
    print(f"librosa loop vs batched, max |diff|: {np.abs(ref - ref_batch).max():.2e} dB")

    try:
        import torch

        if torch.cuda.is_available():
            gpu = LogMel(**PARAMS, device="cuda", batch_size=64).fit(X)
            gpu.transform(X[:64])
            torch.cuda.synchronize()
            t_gpu, out_gpu = best_time(lambda: gpu.transform(X), args.repeat)
            print(
                f"\nLogMel on {torch.cuda.get_device_name()}: {len(X) / t_gpu:.0f} clips/s "
                f"({best_librosa / t_gpu:.1f}x librosa's best on this machine's CPU); "
                f"max |diff| near top {np.abs(out_gpu - ref)[near_top].max():.2e} dB"
            )
    except ImportError:
        pass

    if not real_files():
        print("\n(no real files: skipping the memory measurement)")
        return
    print(f"\npeak memory, {args.memory_clips} ten-second clips read from files (fresh process each):")
    for mode, label in (("lazy", "AudioReader(lazy=True) + LogMel"), ("eager", "AudioReader + LogMel")):
        result = subprocess.run(
            [sys.executable, __file__, "--memory-child", mode, "--memory-clips", str(args.memory_clips)],
            capture_output=True,
            text=True,
            check=True,
        )
        peak, baseline, output, elapsed = result.stdout.split()
        added = float(peak) - float(baseline)
        print(
            f"  {label:34s} peak RSS {peak:>6s} MiB = {baseline} MiB after imports + {added:.0f} MiB "
            f"(output {output} MiB), {elapsed} s"
        )


if __name__ == "__main__":
    main()
