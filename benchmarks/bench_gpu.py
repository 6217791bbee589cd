"""The GPU check, prepared to run as one short script the day a CUDA device is lent.

    python benchmarks/bench_gpu.py                 # on a CUDA machine: about 5-8 minutes
    python benchmarks/bench_gpu.py --device cpu --quick   # the same code paths on a CPU (smoke run)

Without a CUDA device (and without ``--device cpu``) it says so and exits 0. In order, each
step printing its lines as it ends (so a run cut short still says what it measured):

1. the CUDA-only tests (``pytest -k "cuda or gpu"`` over the files that hold them);
2. one epoch of every recipe's networks at the paper's setting (``fast=False``: the papers'
   batch sizes) on a DCASE-shaped synthetic machine (3 sections x ``--clips`` ten-second
   clips): fit seconds and peak GPU memory;
3. ``LogMel`` on the device against the CPU (clips/s, their ratio, the largest deviation in dB);
4. bfloat16 autocast against float32 for one epoch of ``ClassifierEmbedder`` (MobileNetV2):
   seconds, their ratio, and how far the class probabilities move.
"""

# isort: off
import sklearn_asd  # noqa: F401  (before torch: passive OpenMP waiting, see bench_training.py)

# isort: on
import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402

from sklearn_asd.datasets import make_machine_sounds  # noqa: E402
from sklearn_asd.embedders import ClassifierEmbedder  # noqa: E402
from sklearn_asd.features import LogMel  # noqa: E402
from sklearn_asd.recipes import RECIPE_NAMES, make_recipe  # noqa: E402
from sklearn_asd.recipes._recipes import _steps  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CUDA_TEST_FILES = [
    "tests/embedders/test_classifier.py",
    "tests/features/test_stft.py",
    "tests/io/test_safe.py",
]


def cuda_tests():
    """The CUDA-only tests; their summary line."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        "cuda or gpu",
        *CUDA_TEST_FILES,
    ]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    print(
        f"CUDA tests: {lines[-1] if lines else out.stderr.strip()[-200:]} (exit {out.returncode})", flush=True
    )


def one_epoch_of_every_recipe(device, n_clips, duration):
    data = make_machine_sounds(
        n_sections=3, n_normal=n_clips, duration=duration, split="train", random_state=0
    )
    print(f"one epoch of every recipe (paper setting) on {len(data.X)} clips of {duration:g} s, {device}:")
    for name in RECIPE_NAMES:
        model = make_recipe(name, fast=False, device=device, random_state=0)
        for step in _steps(model):
            if "max_epochs" in step.get_params(deep=False):
                step.set_params(max_epochs=1)
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        try:
            with sklearn.config_context(enable_metadata_routing=True):
                model.fit(data.X, data.y, section=data.section, domain=data.domain)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else float("nan")
            print(
                f"  {name:26s}{time.perf_counter() - t0:8.1f} s   peak GPU memory {peak:8.0f} MiB", flush=True
            )
        except Exception as exc:  # report and go on: one failing recipe must not hide the others
            print(f"  {name:26s} FAILED: {type(exc).__name__}: {exc}", flush=True)


def logmel_device_vs_cpu(device, n_clips):
    X = make_machine_sounds(n_sections=1, n_normal=n_clips, duration=10.0, split="train", random_state=1).X
    results = {}
    for where in ("cpu", device):
        logmel = LogMel(sr=16000, n_fft=1024, hop_length=512, n_mels=128, device=where, batch_size=32)
        logmel.fit_transform(X[:4])  # warm-up (kernels, plans)
        t0 = time.perf_counter()
        S = logmel.transform(X)
        results[where] = (time.perf_counter() - t0, S)
    (t_cpu, S_cpu), (t_dev, S_dev) = results["cpu"], results[device]
    print(
        f"LogMel, {n_clips} clips of 10 s: cpu {n_clips / t_cpu:.1f} clips/s, {device} {n_clips / t_dev:.1f} "
        f"clips/s, ratio {t_cpu / t_dev:.2f}; largest deviation {np.abs(S_cpu - S_dev).max():.2e} dB",
        flush=True,
    )


def bf16_vs_fp32(device, n_clips):
    data = make_machine_sounds(n_sections=3, n_normal=n_clips, duration=10.0, split="train", random_state=2)
    S = LogMel(sr=16000, n_fft=1024, hop_length=512, n_mels=128, device=device).fit_transform(data.X)
    runs = {}
    for precision in (False, True):
        embedder = ClassifierEmbedder(
            module__width_mult=0.5,
            patch_hop=8,
            max_epochs=1,
            batch_size=64,
            validation_fraction=None,
            device=device,
            mixed_precision=precision,
            random_state=0,
        )
        t0 = time.perf_counter()
        embedder.fit(S, data.y)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        runs[precision] = (time.perf_counter() - t0, embedder.predict_proba(S))
    (t32, p32), (t16, p16) = runs[False], runs[True]
    print(
        f"ClassifierEmbedder one epoch, {len(S)} clips: fp32 {t32:.1f} s, bf16 {t16:.1f} s, ratio "
        f"{t32 / t16:.2f}; class probabilities differ by up to {np.abs(p32 - p16).max():.3f}",
        flush=True,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of the code paths")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: bench_gpu.py skipped (run it on a machine with a GPU)")
        return 0
    name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "CPU"
    print(f"device: {args.device} ({name}); torch {torch.__version__}", flush=True)
    clips, duration = (6, 3.0) if args.quick else (100, 10.0)
    if args.device.startswith("cuda"):
        cuda_tests()
    one_epoch_of_every_recipe(args.device, clips, duration)
    logmel_device_vs_cpu(args.device, 8 if args.quick else 500)
    if args.device.startswith("cuda") or args.quick:
        bf16_vs_fp32(args.device, 4 if args.quick else 100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
