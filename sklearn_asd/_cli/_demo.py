"""``sklearn-asd demo``: synthetic machine sounds, log-mel + per-section kNN, end to end."""

import sys
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.pipeline import Pipeline

from .. import __version__
from ..datasets import make_machine_sounds
from ..detectors import KNNDetector
from ..features import LogMel, Pool
from ..metrics import dcase_protocol, dcase_report
from ..utils._anomaly import routed_anomaly_score
from ._model import _load_model, _save_model
from ._output import Timer, explain_protocol


def demo_pipeline(n_neighbors=1):
    """The demo's model: pooled log-mel statistics scored by per-section kNN."""
    return Pipeline(
        [
            ("logmel", LogMel(sr=16000, n_fft=1024, hop_length=512, n_mels=128)),
            ("pool", Pool("mean+std")),
            ("knn", KNNDetector(n_neighbors=n_neighbors, metric="euclidean", per_section=True)),
        ]
    )


def main(args):
    timer = Timer()
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
        scores = routed_anomaly_score(model, test.X, section=test.section, domain=test.domain)
        score_s = time.perf_counter() - t0
    print(f"fit {fit_s:.1f} s, scoring {score_s:.1f} s\n")
    print(dcase_report(test.anomaly, scores, section=test.section, domain=test.domain))
    print("\n" + explain_protocol(dcase_protocol(test.section, test.domain)))

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _save_model(out, model)
    reloaded = _load_model(out)["model"]
    again = routed_anomaly_score(reloaded, test.X, section=test.section, domain=test.domain)
    if not np.array_equal(scores, again):
        print("error: the reloaded model scores differently", file=sys.stderr)
        return 1
    timer.done(f"\nmodel saved to {out} (reloaded: identical scores)")
    return 0
