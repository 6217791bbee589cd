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
from .datasets import make_machine_sounds
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
    return parser


def main(argv=None):
    """Entry point of the ``sklearn-asd`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"sklearn-asd {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
