"""The ``sklearn-asd`` command line."""

import argparse
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import sklearn
from sklearn.pipeline import Pipeline

from . import __version__
from .datasets import class_labels, load_dcase, make_machine_sounds, with_outliers
from .detectors import KNNDetector
from .features import LogMel, Pool
from .metrics import dcase_report
from .utils import anomaly_score


def demo_pipeline(n_neighbors=1):
    """The demo's model: pooled log-mel statistics scored by per-section kNN."""
    return Pipeline(
        [
            ("logmel", LogMel(sr=16000, n_fft=1024, hop_length=512, n_mels=128)),
            ("pool", Pool("mean+std")),
            ("knn", KNNDetector(n_neighbors=n_neighbors, metric="euclidean", per_section=True)),
        ]
    )


def _demo(args):
    print(f"sklearn-asd {__version__} demo: synthetic machine sounds, log-mel + per-section kNN")
    t0 = time.perf_counter()
    common = dict(
        n_sections=args.sections,
        duration=args.duration,
        severity=args.severity,
        random_state=args.random_state,
    )
    train = make_machine_sounds(
        n_normal={"source": args.n_train, "target": max(1, args.n_train // 10)}, split="train", **common
    )
    test = make_machine_sounds(n_normal=args.n_test, n_anomalous=args.n_test, split="test", **common)
    print(
        f"data: {len(train.X)} normal training clips, {len(test.X)} test clips "
        f"({int(test.anomaly.sum())} anomalous), {args.sections} sections, {args.duration:g} s each "
        f"[{time.perf_counter() - t0:.1f} s]"
    )

    with sklearn.config_context(enable_metadata_routing=True):
        model = demo_pipeline(args.neighbors)
        t0 = time.perf_counter()
        model.fit(train.X, train.y, section=train.section, domain=train.domain)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
        score_s = time.perf_counter() - t0
    print(f"fit {fit_s:.1f} s, scoring {score_s:.1f} s\n")
    print(dcase_report(test.anomaly, scores, section=test.section, domain=test.domain))

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out)
    reloaded = joblib.load(out)
    again = anomaly_score(reloaded, test.X, section=test.section, domain=test.domain)
    if not np.array_equal(scores, again):
        print("error: the reloaded model scores differently", file=sys.stderr)
        return 1
    print(f"\nmodel saved to {out} (reloaded: identical scores)")
    return 0


MODEL_FORMAT = "sklearn-asd model"


def _load_model(path):
    """The payload written by ``fit``; refuses files of another format or version."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist.")
    payload = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path} is not a model written by 'sklearn-asd fit'.")
    if payload["version"] != __version__:
        raise ValueError(
            f"{path} was written by sklearn-asd {payload['version']}; this is {__version__}: refit it "
            "with this version (pickled estimators are not portable across versions)."
        )
    return payload


def _recipe(args):
    from .recipes import GIRI_MACHINE_TABLE, make_recipe

    options = {}
    if args.recipe == "giri2020":
        settings = args.giri_machine or args.machine
        if settings not in GIRI_MACHINE_TABLE:
            raise ValueError(
                f"giri2020 has the paper's settings for {sorted(GIRI_MACHINE_TABLE)}; {settings!r} is not "
                "among them: pass --giri-machine with the one whose settings to use."
            )
        options["machine_type"] = settings
    return make_recipe(args.recipe, fast=args.fast, random_state=args.random_state, **options)


training_classes = class_labels  # the CLI's name for it, kept for callers of earlier versions


def _set_device(model, device):
    """Every ``device`` parameter of the model (features, embedders, neural detectors) to ``device``."""
    if device is None:
        return
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: this torch build sees no CUDA GPU; use --device cpu or auto.")
    model.set_params(**{k: device for k in model.get_params(deep=True) if k.rsplit("__", 1)[-1] == "device"})


def _fit(args):
    load = dict(sr=16000, duration=args.duration, n_jobs=args.n_jobs)
    train = load_dcase(args.data, args.machine, "train", **load)
    classes = class_labels(train, args.classes)
    outlier = np.zeros(len(train.X), dtype=bool)
    if args.outliers:
        others = [load_dcase(args.data, m, "train", **load) for m in args.outliers]
        train = with_outliers(train, *others)
        classes, outlier = np.r_[classes, train.y[len(classes) :]], train.outlier
        print(f"outlier exposure: {int(outlier.sum())} clips of {', '.join(args.outliers)}")
    duration = args.duration or train.X.shape[1] / train.sr
    print(f"fitting {args.recipe} on {len(train.X)} {args.machine} training clips ({duration:g} s)")
    t0 = time.perf_counter()
    with sklearn.config_context(enable_metadata_routing=True):
        model = _recipe(args)
        _set_device(model, args.device)
        model.fit(train.X, classes, section=train.section, domain=train.domain, outlier=outlier)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(
        {
            "format": MODEL_FORMAT,
            "version": __version__,
            "recipe": args.recipe,
            "machine": args.machine,
            "duration": duration,
            "model": model,
        },
        out,
    )
    print(f"fitted in {time.perf_counter() - t0:.1f} s; model saved to {out}")
    return 0


def _score(args):
    payload = _load_model(args.model)
    data = load_dcase(args.data, args.machine, args.split, duration=payload["duration"], n_jobs=args.n_jobs)
    with sklearn.config_context(enable_metadata_routing=True):
        model = payload["model"]
        scores = anomaly_score(model, data.X, section=data.section, domain=data.domain)
        decisions = model.predict(data.X, section=data.section, domain=data.domain) == -1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for section in np.unique(data.section):
        rows = np.flatnonzero(data.section == section)
        names = [Path(f).name for f in data.filenames[rows]]
        stem = f"{args.machine}_{section}_{args.split}"
        with open(out / f"anomaly_score_{stem}.csv", "w") as f:
            f.writelines(f"{n},{s:.6f}\n" for n, s in zip(names, scores[rows]))
        with open(out / f"decision_result_{stem}.csv", "w") as f:
            f.writelines(f"{n},{int(d)}\n" for n, d in zip(names, decisions[rows]))
    print(f"scored {len(data.X)} clips of {args.machine} ({args.split}); files in {out}")
    return 0


def _evaluate(args):
    if args.model and not args.plots:
        raise ValueError("--model is for the plots: pass --plots DIR with it.")
    data = load_dcase(args.data, args.machine, args.split, load_audio=False)
    by_name = {Path(f).name: i for i, f in enumerate(data.filenames)}
    scores = np.full(len(by_name), np.nan)
    files = sorted(Path(args.scores).glob(f"anomaly_score_{args.machine}_*_{args.split}.csv"))
    if not files:
        raise FileNotFoundError(f"no anomaly_score_{args.machine}_*_{args.split}.csv files in {args.scores}.")
    for path in files:
        for line in open(path):
            name, value = line.strip().split(",")[:2]
            if name not in by_name:
                raise ValueError(f"{path}: {name} is not a {args.split} clip of {args.machine}.")
            scores[by_name[name]] = float(value)
    missing = np.flatnonzero(np.isnan(scores))
    if missing.size:
        raise ValueError(
            f"{missing.size} clip(s) have no score, e.g. {Path(data.filenames[missing[0]]).name}."
        )
    protocol = "2021" if set(data.domain) <= {"source", "target"} and "section" in data.section[0] else "2020"
    print(dcase_report(data.anomaly, scores, section=data.section, domain=data.domain, protocol=protocol))
    if args.plots:
        threshold = _threshold_from_decisions(args, by_name, scores)
        payload = _load_model(args.model) if args.model else None
        written = _write_plots(Path(args.plots), args, data, scores, threshold, payload, protocol)
        print(f"\nplots: {', '.join(written)} in {args.plots}")
    return 0


def _threshold_from_decisions(args, by_name, scores):
    """The decision threshold the decision_result files imply, or None without them.

    The files hold 1 (anomalous) for clips whose score is above the model's threshold;
    the line is drawn halfway between the highest score decided normal and the lowest
    decided anomalous.
    """
    files = sorted(Path(args.scores).glob(f"decision_result_{args.machine}_*_{args.split}.csv"))
    decided = {}
    for path in files:
        for line in open(path):
            name, value = line.strip().split(",")[:2]
            if name in by_name:
                decided[by_name[name]] = int(value)
    if not decided:
        return None
    idx = np.fromiter(decided, int)
    flags = np.fromiter(decided.values(), int)
    normal, anomalous = scores[idx[flags == 0]], scores[idx[flags == 1]]
    if not normal.size or not anomalous.size:
        return float(anomalous.min() if anomalous.size else normal.max())
    if normal.max() > anomalous.min():
        print(
            "note: the decision files are not one threshold on the scores; no threshold drawn",
            file=sys.stderr,
        )
        return None
    return float((normal.max() + anomalous.min()) / 2)


def embeddings(pipeline, X):
    """What the pipeline's final detector sees of each clip, as one vector per clip.

    The output of the steps before the detector; when the detector scores with a classifier
    of its own (:class:`~sklearn_asd.detectors.SoftmaxScore` around an embedder), that
    classifier's embeddings. A sequence per clip (a spectrogram) is averaged over time.
    """
    Xt = pipeline[:-1].transform(X) if len(pipeline.steps) > 1 else X
    inner = getattr(pipeline[-1], "estimator_", None)
    if inner is not None and hasattr(inner, "transform"):
        Xt = inner.transform(Xt)
    Xt = np.asarray(Xt, dtype=float)
    if Xt.ndim > 2:
        Xt = Xt.mean(axis=-1).reshape(len(Xt), -1)
    return Xt


def _write_plots(out, args, data, scores, threshold, payload, protocol):
    """ROC curves, score histograms and, with the model, an embedding map and training curves."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError('--plots needs matplotlib: pip install "sklearn-asd[plot]"') from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plot import (
        plot_embeddings,
        plot_roc,
        plot_score_histogram,
        plot_training_curves,
        training_histories,
    )

    out.mkdir(parents=True, exist_ok=True)
    domain = data.domain if protocol == "2021" else None
    figures = {
        "roc": lambda: plot_roc(data.anomaly, scores, section=data.section, domain=domain),
        "score_histogram": lambda: plot_score_histogram(
            data.anomaly, scores, section=data.section, threshold=threshold
        ),
    }
    if payload is not None:
        model = payload["model"]
        if hasattr(model, "steps"):

            def embedding_map():
                audio = load_dcase(args.data, args.machine, args.split, duration=payload["duration"])
                with sklearn.config_context(enable_metadata_routing=True):
                    emb = embeddings(model, audio.X)
                return plot_embeddings(
                    emb, section=audio.section, anomaly=audio.anomaly, domain=domain, random_state=0
                )

            figures["embeddings"] = embedding_map
        if training_histories(model):
            figures["training_curves"] = lambda: plot_training_curves(model)
    written = []
    for name, make in figures.items():
        fig = make()
        fig.savefig(out / f"{args.machine}_{name}.png", dpi=110)
        plt.close(fig)
        written.append(f"{args.machine}_{name}.png")
    return written


def _recipes(args):
    from .recipes import RECIPES

    for name, recipe in RECIPES.items():
        print(f"{name:20s} {recipe.__doc__.strip().splitlines()[0]}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-asd", description="Anomalous sound detection for machine condition monitoring."
    )
    parser.add_argument("--version", action="version", version=f"sklearn-asd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="fit and evaluate a model on the built-in synthetic data")
    demo.add_argument("--sections", type=int, default=3, help="sections of the machine (default 3)")
    demo.add_argument(
        "--n-train", type=int, default=40, help="normal source-domain training clips per section (default 40)"
    )
    demo.add_argument(
        "--n-test", type=int, default=15, help="normal and anomalous test clips per section and domain"
    )
    demo.add_argument("--duration", type=float, default=4.0, help="clip length in seconds (default 4)")
    demo.add_argument("--severity", type=float, default=0.3, help="anomaly strength in (0, 1] (default 0.3)")
    demo.add_argument("--neighbors", type=int, default=1, help="k of the kNN detector (default 1)")
    demo.add_argument("--random-state", type=int, default=0, help="seed of the data (default 0)")
    demo.add_argument("--out", default="sklearn_asd_demo.joblib", help="where to save the fitted model")
    demo.set_defaults(func=_demo)

    from .recipes import RECIPES

    fit = sub.add_parser("fit", help="fit a recipe on the training clips of one machine type")
    fit.add_argument("--data", required=True, help="data root (the folder of the machine folders)")
    fit.add_argument("--machine", required=True, help="machine type, e.g. valve")
    fit.add_argument("--recipe", required=True, choices=sorted(RECIPES))
    fit.add_argument("--out", required=True, help="model file to write (.joblib)")
    fit.add_argument(
        "--outliers",
        nargs="*",
        help="other machine types of the same data root, trained as outlier exposure by the recipes "
        "that use it (kazakova2022, hai2024; the others leave them out)",
    )
    fit.add_argument("--duration", type=float, help="crop or pad clips to this many seconds")
    fit.add_argument("--fast", action="store_true", help="the recipe's fast settings (few epochs)")
    fit.add_argument("--giri-machine", help="giri2020: the machine type of the paper whose settings to use")
    fit.add_argument("--random-state", type=int, default=0)
    fit.add_argument("--n-jobs", type=int, default=None, help="threads reading audio")
    fit.add_argument(
        "--classes",
        default="auto",
        choices=["auto", "section", "attribute"],
        help="training classes: section, or section x attributes ('auto': attributes for one section)",
    )
    fit.add_argument(
        "--device",
        help="torch device of every network and feature step: auto (CUDA when present), cpu, cuda, cuda:1",
    )
    fit.set_defaults(func=_fit)

    score = sub.add_parser("score", help="write the official anomaly score and decision files")
    score.add_argument("model", help="model file written by 'fit'")
    score.add_argument("--data", required=True)
    score.add_argument("--machine", required=True)
    score.add_argument("--split", default="test", choices=["train", "test"])
    score.add_argument(
        "--out", required=True, help="folder for anomaly_score_*.csv and decision_result_*.csv"
    )
    score.add_argument("--n-jobs", type=int, default=None)
    score.set_defaults(func=_score)

    evaluate = sub.add_parser("evaluate", help="the official report of score files against the ground truth")
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--machine", required=True)
    evaluate.add_argument("--scores", required=True, help="folder of anomaly_score_*.csv files")
    evaluate.add_argument("--split", default="test", choices=["train", "test"])
    evaluate.add_argument(
        "--plots", metavar="DIR", help="write ROC curves and score histograms as PNG files (needs matplotlib)"
    )
    evaluate.add_argument(
        "--model", help="with --plots: the model file, for a t-SNE map of its embeddings and training curves"
    )
    evaluate.set_defaults(func=_evaluate)

    recipes = sub.add_parser("recipes", help="list the recipes")
    recipes.set_defaults(func=_recipes)
    return parser


def main(argv=None):
    """Entry point of the ``sklearn-asd`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"sklearn-asd {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
