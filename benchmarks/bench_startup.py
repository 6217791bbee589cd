"""Start-up of the command line: how long until a command answers, in fresh processes.

    python benchmarks/bench_startup.py [--repeat 5] [--data ../shared/data/dcase2023_valve]

Each command runs as a new process (a cold interpreter each time; the OS file cache is warm after
the first). The references, in the same run: the interpreter alone (``python -c pass``, the
floor) and ``import torch`` (what ``recipes``, ``--help`` and ``evaluate`` would pay if they
imported the networks' library). ``evaluate`` scores a valve score folder, which this script
first writes with the AE at its CPU setting (one fit, not timed). Printed: min and median
seconds, and each command's ratio to the interpreter floor and to ``import torch``.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("SKLEARN_ASD_DATA", HERE.parents[1] / "shared" / "data"))


def timed(argv, repeat):
    """Min and median wall seconds of ``repeat`` fresh runs of ``argv`` (output discarded)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DATA / "dcase2023_valve")
    args = parser.parse_args(argv)
    cli = [sys.executable, "-m", "sklearn_asd.cli"]
    rows = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "import torch (reference)": [sys.executable, "-c", "import torch"],
        "sklearn-asd --help": [*cli, "--help"],
        "sklearn-asd recipes": [*cli, "recipes"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        if args.data.is_dir():
            common = ["--data", str(args.data), "--machine", "valve", "-q"]
            model, scores = Path(tmp) / "valve.asd", Path(tmp) / "scores"
            fit = [*cli, "fit", *common, "--recipe", "dcase_autoencoder", "--fast", "--out", str(model)]
            subprocess.run(fit, check=True, stdout=subprocess.DEVNULL)
            subprocess.run(
                [*cli, "score", str(model), *common, "--out", str(scores)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            rows["sklearn-asd evaluate (valve, 200 clips)"] = [
                *cli,
                "evaluate",
                *common,
                "--scores",
                str(scores),
            ]
        else:
            print(f"(no {args.data}: evaluate not measured)")
        results = {name: timed(command, args.repeat) for name, command in rows.items()}
    floor = results["python -c pass (floor)"][0]
    torch_s = results["import torch (reference)"][0]
    print(
        f"{'command':42s}{'min s':>8s}{'median s':>10s}{'ratio to floor':>16s}{'ratio to import torch':>23s}"
    )
    for name, (low, median) in results.items():
        print(f"{name:42s}{low:8.2f}{median:10.2f}{low / floor:16.1f}{low / torch_s:23.2f}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
