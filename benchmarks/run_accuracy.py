"""Accuracy of the detectors on synthetic machine sounds and on the real valve split, same run.

Run: python benchmarks/run_accuracy.py [--epochs 100] [--seed 0]
     python benchmarks/run_accuracy.py --recipes [--full]   (every recipe; fast settings by default)

Models (all on 128-band log-mel spectrograms, 64 ms frames, 32 ms hop):
- pooled log-mel + kNN: mean and std over time, per-section kNN (the reference baseline);
- the DCASE autoencoder baseline (5 stacked frames, 640-128x4-8 network), MSE score;
- the same with the 2023 baseline's selective Mahalanobis score;
- the autoencoder with outlier exposure (clips of other machine types as outliers);
- Group MADE on 5 stacked frames (half the autoencoder's epochs: each is several times costlier);
- OEVAE (ResNet-18 with outlier exposure and the split-latent VAE, 2-s segments), --oevae-epochs.

Data: make_machine_sounds (3 sections, 4 s clips, default severity; outliers: another machine,
random_state + 100) and ../shared/data/dcase2023_valve with its split.csv (37 training clips,
165 test clips, one section: the training classes are section x attribute; outliers: the other
machine types of dcase2023_dev_samples). Prints one table:
official score, AUC source/target, pAUC, fit and score seconds.
"""

import argparse
import csv
import os
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch

from sklearn_asd.datasets import load_dcase, make_machine_sounds, parse_filename, read_audio
from sklearn_asd.detectors import OEVAE, AutoEncoderDetector, GroupMADEDetector, KNNDetector
from sklearn_asd.features import LogMel, Pool
from sklearn_asd.metrics import dcase_report
from sklearn_asd.utils import anomaly_score

DATA = Path(os.environ.get("SKLEARN_ASD_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def load_valve_split(root):
    """The fixed benchmark split of dcase2023_valve: (train, test) Bunches."""
    rows = list(csv.DictReader(open(root / "split.csv")))
    parts = {}
    for use in ("train", "test"):
        files = [str(root / r["file"]) for r in rows if r["use"] == use]
        X, sr = read_audio(files, sr=16000, progress=False)
        meta = [parse_filename(f) for f in files]
        section = np.array([m["section"] for m in meta], dtype=object)
        # one section only: the auxiliary classes are section x attribute (DCASE 2023 practice)
        classes = np.array([f"{m['section']}|pat_{m['attributes']['pat']}" for m in meta], dtype=object)
        parts[use] = Bunch(
            X=X,
            y=classes,
            section=section,
            domain=np.array([m["domain"] for m in meta], dtype=object),
            anomaly=np.array([m["anomaly"] for m in meta]),
        )
    return parts["train"], parts["test"]


def other_machines(root, duration=10.0):
    """Clips of the machine types other than valve (dcase2023_dev_samples), as outliers."""
    clips = []
    for machine in ("ToyCar", "ToyTrain", "bearing", "fan", "gearbox", "slider"):
        clips.append(load_dcase(root, machine, "all", duration=duration).X)
    return np.concatenate(clips)


def models(epochs, oevae_epochs, seed, outliers):
    logmel = dict(sr=16000, n_fft=1024, hop_length=512, n_mels=128)
    ae = dict(max_epochs=epochs, random_state=seed)
    return {
        "pooled log-mel + kNN": Pipeline(
            [
                ("logmel", LogMel(**logmel)),
                ("pool", Pool("mean+std")),
                ("knn", KNNDetector(metric="euclidean", per_section=True)),
            ]
        ),
        "AE baseline (MSE)": Pipeline([("logmel", LogMel(**logmel)), ("ae", AutoEncoderDetector(**ae))]),
        "AE, selective Mahalanobis": Pipeline(
            [("logmel", LogMel(**logmel)), ("ae", AutoEncoderDetector(scoring="selective_mahalanobis", **ae))]
        ),
        "AE + outlier exposure": Pipeline(
            [("logmel", LogMel(**logmel)), ("ae", AutoEncoderDetector(outliers=outliers, **ae))]
        ),
        "OEVAE (w = 0.5)": Pipeline(
            [
                ("logmel", LogMel(**logmel)),
                ("oevae", OEVAE(outliers=outliers, max_epochs=oevae_epochs, random_state=seed)),
            ]
        ),
        "Group MADE (5 frames)": Pipeline(
            [
                ("logmel", LogMel(**logmel)),
                ("made", GroupMADEDetector(max_epochs=max(1, epochs // 2), random_state=seed)),
            ]
        ),
    }


def recipe_models(full, seed, outliers_waveforms, machine_type):
    """Every recipe of sklearn_asd.recipes, fast settings unless ``full``."""
    from sklearn_asd.recipes import NEEDS_OUTLIERS, RECIPES, giri2020

    out = {}
    for name, recipe in RECIPES.items():
        if name == "giri2020":
            out[name] = giri2020(machine_type, fast=not full, random_state=seed)
        elif name in NEEDS_OUTLIERS:
            out[name] = recipe(outliers_waveforms, fast=not full, random_state=seed)
        else:
            out[name] = recipe(fast=not full, random_state=seed)
    return out


def evaluate(name, model, train, test):
    t0 = time.perf_counter()
    model.fit(train.X, train.y, section=train.section, domain=train.domain)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
    score_s = time.perf_counter() - t0
    rep = dcase_report(test.anomaly, scores, section=test.section, domain=test.domain, output_dict=True)
    mean = rep["arithmetic mean"]
    return (
        name,
        rep["official score"],
        mean["AUC (source)"],
        mean["AUC (target)"],
        mean["pAUC"],
        fit_s,
        score_s,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="autoencoder epochs (the baseline's 100)")
    parser.add_argument("--oevae-epochs", type=int, default=5, help="OEVAE epochs (ResNet-18: slow on CPU)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--models", nargs="*", help="run only the models whose name contains one of these words"
    )
    parser.add_argument("--recipes", action="store_true", help="run every recipe instead of the detectors")
    parser.add_argument(
        "--data", nargs="*", help="run only the data sets whose name contains one of these words"
    )
    parser.add_argument(
        "--full", action="store_true", help="with --recipes: the papers' settings, not fast ones"
    )
    args = parser.parse_args(argv)
    sklearn.set_config(enable_metadata_routing=True)

    datasets = {}
    kw = dict(n_sections=3, duration=4.0, random_state=args.seed)
    train = make_machine_sounds(n_normal={"source": 40, "target": 4}, split="train", **kw)
    test = make_machine_sounds(n_normal=15, n_anomalous=15, split="test", **kw)
    other = make_machine_sounds(
        n_normal=20, n_anomalous=0, split="train", n_sections=3, duration=4.0, random_state=args.seed + 100
    )
    waveforms = {"synthetic (3 sections, 4 s)": other.X}
    datasets["synthetic (3 sections, 4 s)"] = (train, test, LogMel().fit(other.X).transform(other.X))
    if DATA.is_dir():
        vtrain, vtest = load_valve_split(DATA / "dcase2023_valve")
        others = other_machines(DATA / "dcase2023_dev_samples")
        waveforms["DCASE 2023 valve split"] = others
        datasets["DCASE 2023 valve split"] = (vtrain, vtest, LogMel().fit(others).transform(others))

    columns = ("official", "AUC src", "AUC tgt", "pAUC")
    header = (
        f"{'data':30s}{'model':28s}" + "".join(f"{c:>9s}" for c in columns) + f"{'fit s':>8s}{'score s':>9s}"
    )
    print(header)
    print("-" * len(header))
    for data_name, (train, test, outliers) in datasets.items():
        if args.data and not any(word.lower() in data_name.lower() for word in args.data):
            continue
        if args.recipes:
            candidates = recipe_models(args.full, args.seed, waveforms[data_name], "valve")
        else:
            candidates = models(args.epochs, args.oevae_epochs, args.seed, outliers)
        for name, model in candidates.items():
            if args.models and not any(word.lower() in name.lower() for word in args.models):
                continue
            row = evaluate(name, model, train, test)
            print(
                f"{data_name:30s}{row[0]:28s}"
                + "".join(f"{v:9.3f}" for v in row[1:5])
                + f"{row[5]:8.1f}{row[6]:9.1f}"
            )


if __name__ == "__main__":
    main()
