"""Run every speed benchmark of sklearn-asd, one after another, from one command.

Each benchmark measures sklearn-asd against its reference (librosa, scikit-learn, plain PyTorch,
direct sines) in the same run and prints its table and ratios; this script runs them in turn as
separate processes (so that one's memory and threads do not disturb the next) and prints the
machine they ran on first. The accuracy benchmark is separate: ``run_accuracy.py``.

    python benchmarks/run_all.py                 # the settings of benchmarks/README.md
    python benchmarks/run_all.py --quick         # smaller sizes, a couple of minutes
    python benchmarks/run_all.py --only features detectors
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# benchmark name -> (script, extra arguments for --quick)
BENCHMARKS = {
    "features": ("bench_features.py", ["--n-clips", "64", "--repeat", "1", "--memory-clips", "300"]),
    "detectors": ("bench_detectors.py", ["--sizes", "1000", "10000", "--lof-max", "10000"]),
    "training": ("bench_training.py", ["--clips", "4", "--epochs", "2", "--rounds", "1"]),
    "synthetic": ("bench_synthetic.py", ["--repeat", "2"]),
    "startup": ("bench_startup.py", ["--repeat", "2"]),
    "memory": ("bench_memory.py", ["--sizes", "50", "300"]),
    "gpu": ("bench_gpu.py", ["--quick"]),  # skips without a CUDA device
    "scoring": (
        "bench_scoring.py",
        ["--clips", "8", "--repeat", "1", "--load", "0", "--recipes", "dcase_autoencoder", "kazakova2022"],
    ),
}


def machine():
    """One line on the hardware and the library versions."""
    import numpy
    import sklearn
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu}, {os.cpu_count()} cores, {gpu}; Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, scikit-learn {sklearn.__version__}, torch {torch.__version__}"
    )


def commands(names, quick):
    """The command line of each chosen benchmark."""
    out = {}
    for name in names:
        script, quick_args = BENCHMARKS[name]
        out[name] = [sys.executable, str(HERE / script), *(quick_args if quick else [])]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a couple of minutes)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run these benchmarks only")
    parser.add_argument("--dry-run", action="store_true", help="print the commands without running them")
    args = parser.parse_args(argv)

    todo = commands(args.only or list(BENCHMARKS), args.quick)
    print(f"machine: {machine()}")
    failed = []
    for name, cmd in todo.items():
        print(
            f"\n=== {name}: {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}", flush=True
        )
        if args.dry_run:
            continue
        t0 = time.perf_counter()
        if subprocess.run(cmd, check=False).returncode != 0:
            failed.append(name)
        print(f"=== {name}: {time.perf_counter() - t0:.0f} s", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
