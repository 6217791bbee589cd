"""Peak memory of scoring a data set against its size, by the command line and in Python.

    python benchmarks/bench_memory.py [--sizes 250 1000 4000]

A DCASE 2020-layout folder of N test clips (the real slider recordings of ../shared/data,
linked under new names and cycled to reach N) is scored, each size in a fresh process, by:

- ``sklearn-asd score`` (ours): reads and scores 256 files at a time;
- the reference, what ``score`` did before: ``load_dcase`` of every clip into one array, then
  the model's ``anomaly_score`` on it;
- in Python, a lazy ``AudioReader`` (files read chunk by chunk) into the pooled log-mel kNN,
  ``LogMel -> Pool("mean+std") -> KNNDetector`` (every spectrogram held until ``Pool``) against
  ``LogMel(pool="mean+std") -> KNNDetector`` (pooled as it is computed).

The model is the DCASE autoencoder baseline at one epoch (its memory does not depend on the
training). Peak resident memory is the child's maximum RSS (GNU ``time -f %M``; a fresh
interpreter, so nothing is inherited). Printed: MiB per size for each, and each one's growth
from the smallest size to the largest.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("SKLEARN_ASD_DATA", HERE.parents[1] / "shared" / "data"))

REFERENCE = """
import sys, sklearn
from sklearn_asd import io
from sklearn_asd.datasets import load_dcase
from sklearn_asd.utils import anomaly_score
root, model = sys.argv[1], sys.argv[2]
fitted, meta = io.load(model, with_metadata=True)
data = load_dcase(root, "slider", "test", duration=meta["duration"], progress=False)
with sklearn.config_context(enable_metadata_routing=True):
    anomaly_score(fitted, data.X, section=data.section, domain=data.domain)
"""


PYTHON = """
import sys, glob
from sklearn.pipeline import make_pipeline
from sklearn_asd.datasets import AudioReader
from sklearn_asd.detectors import KNNDetector
from sklearn_asd.features import LogMel, Pool
root, fused = sys.argv[1], sys.argv[2] == "fused"
paths = sorted(glob.glob(root + "/slider/test/*.wav"))
steps = [LogMel(pool="mean+std")] if fused else [LogMel(), Pool("mean+std")]
model = make_pipeline(AudioReader(lazy=True, duration=10.0), *steps, KNNDetector(metric="euclidean"))
model.fit(paths[:50])
model.score_samples(paths)
"""


def peak_mib(command):
    """Maximum RSS (MiB) of ``command`` run in a fresh process, by GNU time."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True, check=True)
    return int(out.stderr.strip().splitlines()[-1]) / 1024


def write_model(path):
    import sklearn

    from sklearn_asd import io
    from sklearn_asd.datasets import load_dcase
    from sklearn_asd.recipes import make_recipe

    train = load_dcase(DATA / "dcase2020_slider", "slider", "train", progress=False)
    model = make_recipe("dcase_autoencoder", fast=True).set_params(ae__max_epochs=1)
    with sklearn.config_context(enable_metadata_routing=True):
        model.fit(train.X, train.y, section=train.section, domain=train.domain)
    io.dump(model, path, metadata={"format": "sklearn-asd model", "version": _version(), "duration": 10.0})


def _version():
    import sklearn_asd

    return sklearn_asd.__version__


def write_folder(root, n):
    """``root/slider/test`` with ``n`` clips: the real test clips linked under fresh names."""
    sources = sorted((DATA / "dcase2020_slider" / "slider" / "test").glob("*.wav"))
    folder = Path(root) / "slider" / "test"
    folder.mkdir(parents=True)
    for i in range(n):
        source = sources[i % len(sources)]
        label = "anomaly" if source.name.startswith("anomaly") else "normal"
        (folder / f"{label}_id_00_{i:08d}.wav").symlink_to(source)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 1000, 4000])
    args = parser.parse_args(argv)
    if not (DATA / "dcase2020_slider").is_dir():
        print(f"no {DATA / 'dcase2020_slider'}: skipped")
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "ae.asd"
        write_model(model)
        for n in args.sizes:
            root = Path(tmp) / f"data_{n}"
            write_folder(root, n)
            cli = [sys.executable, "-m", "sklearn_asd.cli", "score", str(model), "--data", str(root)]
            ours = peak_mib([*cli, "--machine", "slider", "--out", str(Path(tmp) / f"scores_{n}"), "-q"])
            reference = peak_mib([sys.executable, "-c", REFERENCE, str(root), str(model)])
            held = peak_mib([sys.executable, "-c", PYTHON, str(root), "held"])
            fused = peak_mib([sys.executable, "-c", PYTHON, str(root), "fused"])
            rows.append((n, ours, reference, held, fused))
            print(
                f"{n:6d} clips: sklearn-asd score {ours:6.0f} MiB, one array {reference:6.0f} MiB; "
                f"lazy reader + LogMel -> Pool {held:6.0f} MiB, LogMel(pool=...) {fused:6.0f} MiB",
                flush=True,
            )
    first, last = rows[0], rows[-1]
    names = ("sklearn-asd score", "one array", "LogMel -> Pool", "LogMel(pool=...)")
    growth = ", ".join(f"{name} {100 * (b / a - 1):+.0f} %" for name, a, b in zip(names, first[1:], last[1:]))
    print(f"growth from {first[0]} to {last[0]} clips: {growth}")


if __name__ == "__main__":
    main()
