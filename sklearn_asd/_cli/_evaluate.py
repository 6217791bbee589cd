"""``sklearn-asd evaluate``: the DCASE report of score files (and the plots) against the ground truth."""

import sys
from pathlib import Path

import numpy as np
import sklearn

from ..datasets import load_dcase
from ..metrics import dcase_protocol, dcase_report, read_submission
from ._model import _load_model
from ._output import Timer, explain_protocol


def main(args):
    timer = Timer()
    if args.model and not args.plots:
        raise ValueError("--model is for the plots: pass --plots DIR with it.")
    if args.plots:
        _require_matplotlib()  # before the report, not after it
    data = load_dcase(args.data, args.machine, args.split, load_audio=False)
    by_name = {Path(f).name: i for i, f in enumerate(data.filenames)}
    scores = np.full(len(by_name), np.nan)
    files = sorted(Path(args.scores).glob(f"anomaly_score_{args.machine}_*_{args.split}.csv"))
    if not files:
        raise FileNotFoundError(f"no anomaly_score_{args.machine}_*_{args.split}.csv files in {args.scores}.")
    for name, value in read_submission(files).items():
        if name not in by_name:
            raise ValueError(f"{args.scores}: {name} is not a {args.split} clip of {args.machine}.")
        scores[by_name[name]] = value
    missing = np.flatnonzero(np.isnan(scores))
    if missing.size:
        raise ValueError(
            f"{missing.size} clip(s) have no score, e.g. {Path(data.filenames[missing[0]]).name}."
        )
    protocol = dcase_protocol(data.section, data.domain)
    decision = _decisions(args, by_name, data.filenames)
    print(
        dcase_report(
            data.anomaly,
            scores,
            section=data.section,
            domain=data.domain,
            decision=decision,
            protocol=protocol,
        )
    )
    print("\n" + explain_protocol(protocol))
    written = []
    if args.plots:
        threshold = _threshold_from_decisions(args, by_name, scores)
        payload = (
            _load_model(args.model, args.allow_pickle, args.trust, device="auto") if args.model else None
        )
        written = _write_plots(Path(args.plots), args, data, scores, threshold, payload, protocol)
    where = f"; plots {', '.join(written)} in {args.plots}" if written else ""
    timer.done(f"evaluated {len(scores)} clips of {args.machine} ({args.split}){where}")
    return 0


def _decisions(args, by_name, filenames):
    """The 0/1 decisions of the decision_result files, one per clip; None without such files."""
    files = sorted(Path(args.scores).glob(f"decision_result_{args.machine}_*_{args.split}.csv"))
    if not files:
        return None
    decided = read_submission(files, "decision")
    missing = [Path(f).name for f in filenames if Path(f).name not in decided]
    if missing:
        raise ValueError(f"{len(missing)} clip(s) have no decision in {args.scores}, e.g. {missing[0]}.")
    return np.array([decided[Path(f).name] for f in filenames])


def _threshold_from_decisions(args, by_name, scores):
    """The decision threshold the decision_result files imply, or None without them.

    The files hold 1 (anomalous) for clips whose score is above the model's threshold;
    the line is drawn halfway between the highest score decided normal and the lowest
    decided anomalous.
    """
    files = sorted(Path(args.scores).glob(f"decision_result_{args.machine}_*_{args.split}.csv"))
    decided = {by_name[n]: v for n, v in read_submission(files, "decision").items() if n in by_name}
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


def _require_matplotlib():
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError('--plots needs matplotlib: pip install "sklearn-asd[plot]"') from exc
    return matplotlib


def _write_plots(out, args, data, scores, threshold, payload, protocol):
    """ROC curves, score histograms and, with the model, an embedding map and training curves."""
    matplotlib = _require_matplotlib()
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot import (
        model_embeddings,
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
                    emb = model_embeddings(model, audio.X)
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
