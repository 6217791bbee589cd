"""What the ``sklearn-asd`` commands do; ``cli`` parses the arguments and imports this module only
then, so that ``--help`` does not wait for torch."""

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
from .metrics import dcase_protocol, dcase_report, read_submission, write_submission
from .utils._anomaly import routed_anomaly_score


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
        scores = routed_anomaly_score(model, test.X, section=test.section, domain=test.domain)
        score_s = time.perf_counter() - t0
    print(f"fit {fit_s:.1f} s, scoring {score_s:.1f} s\n")
    print(dcase_report(test.anomaly, scores, section=test.section, domain=test.domain))

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _save_model(out, model)
    reloaded = _load_model(out)["model"]
    again = routed_anomaly_score(reloaded, test.X, section=test.section, domain=test.domain)
    if not np.array_equal(scores, again):
        print("error: the reloaded model scores differently", file=sys.stderr)
        return 1
    print(f"\nmodel saved to {out} (reloaded: identical scores)")
    return 0


MODEL_FORMAT = "sklearn-asd model"


def _save_model(out, model, pickle=False, **metadata):
    """Write ``model`` with its metadata: the safe format (:mod:`sklearn_asd.io`), or joblib."""
    metadata = {"format": MODEL_FORMAT, "version": __version__, **metadata}
    if pickle:
        joblib.dump({**metadata, "model": model}, out)
    else:
        from . import io

        io.dump(model, out, metadata=metadata)


def _is_safe_file(path):
    import zipfile

    return zipfile.is_zipfile(path)


def _load_model(path, allow_pickle=False, trusted=None, device=None):
    """The payload written by ``fit`` (``model`` and its metadata); refuses files of another format
    or version, pickles unless ``allow_pickle``, and types outside ``trusted`` in safe files.

    ``device``: where the model runs (``"auto"``: CUDA when present, else the CPU), whatever
    device it was trained on; ``None`` keeps the stored one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist.")
    if _is_safe_file(path):
        from . import io

        model, payload = io.load(path, trusted=trusted, with_metadata=True, device=device or "auto")
        payload = {**payload, "model": model}
    elif not allow_pickle:
        raise ValueError(
            f"{path} is not a safe model file; if it is a joblib file, loading it runs code stored in it: "
            "pass --allow-pickle only for a file you wrote yourself or fully trust."
        )
    else:
        try:
            payload = joblib.load(path)
        except Exception as exc:  # truncated, empty or foreign files fail in many ways inside pickle
            raise ValueError(
                f"{path} is not a readable model file ({type(exc).__name__}: {exc}); was it written by "
                "'sklearn-asd fit' and copied whole?"
            ) from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path} is not a model written by 'sklearn-asd fit'.")
    if payload.get("version") != __version__:
        raise ValueError(
            f"{path} was written by sklearn-asd {payload.get('version')}; this is {__version__}: refit it "
            "with this version (fitted estimators are not portable across versions)."
        )
    payload.setdefault("duration", None)  # files written before the clip length was kept
    if device is not None:
        from .utils import resolve_device

        _set_device(payload["model"], resolve_device(device))
    return payload


def _recipe(args):
    from .recipes import GIRI_MACHINE_TABLE, REGISTRY, make_recipe

    options = {}
    if "machine_type" in REGISTRY[args.recipe].options:
        settings = args.giri_machine or args.machine
        if settings not in GIRI_MACHINE_TABLE:
            raise ValueError(
                f"{args.recipe} has the paper's settings for {sorted(GIRI_MACHINE_TABLE)}; {settings!r} is "
                "not among them: pass --giri-machine with the one whose settings to use."
            )
        options["machine_type"] = settings
    return make_recipe(args.recipe, fast=args.fast, random_state=args.random_state, **options)


def _set_device(model, device):
    """Every ``device`` parameter of the model (features, embedders, neural detectors) to ``device``."""
    if device is None:
        return
    from .io._safe import _reachable
    from .utils import resolve_device

    try:
        resolve_device(device)
    except ValueError as exc:
        raise ValueError(f"--device {device}: {exc}") from None
    # the parameters and the fitted members alike (a SoftmaxScore's fitted embedder is no parameter)
    for obj in _reachable(model):
        if hasattr(obj, "get_params") and "device" in obj.get_params(deep=False):
            obj.set_params(device=device)


def _channel(text):
    """``--channel``: an index, or "mean"."""
    if text == "mean":
        return "mean"
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--channel must be a channel index or 'mean', got {text!r}.") from None


def _say_channel(data, channel):
    """Tell which channel is read when the files have several."""
    import soundfile

    if len(data.filenames) and soundfile.info(str(data.filenames[0])).channels > 1:
        n = soundfile.info(str(data.filenames[0])).channels
        which = "the mean of the channels" if channel == "mean" else f"channel {channel}"
        print(f"the files have {n} channels: reading {which} (--channel)")


def _check_writable(out):
    """Fail before a long fit when the model file cannot be written."""
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "ab"):
            pass
    except OSError as exc:
        raise ValueError(f"--out {out} cannot be written: {exc.strerror or exc}.") from None


def _fit(args):
    if Path(args.out).exists() and not args.overwrite:
        raise FileExistsError(f"--out {args.out} exists: pass --overwrite to replace it.")
    existed = Path(args.out).exists()
    _check_writable(args.out)
    if not existed:
        Path(args.out).unlink()  # the check left an empty file; the fit writes the real one
    load = dict(sr=16000, duration=args.duration, n_jobs=args.n_jobs, channel=_channel(args.channel))
    train = load_dcase(args.data, args.machine, "train", **load)
    _say_channel(train, load["channel"])
    classes = class_labels(train, args.classes)
    outlier = np.zeros(len(train.X), dtype=bool)
    if args.outliers:
        others = [load_dcase(args.data, m, "train", **load) for m in args.outliers]
        train = with_outliers(train, *others)
        classes, outlier = np.r_[classes, train.y[len(classes) :]], train.outlier
        print(f"outlier exposure: {int(outlier.sum())} clips of {', '.join(args.outliers)}")
    n_normal = int((~outlier).sum())
    if n_normal < 20:
        print(
            f"note: {n_normal} training clips of {args.machine}: too few to learn a machine's normal "
            "sound; expect scores near chance (DCASE development sets have about 1,000)."
        )
    duration = args.duration or train.X.shape[1] / train.sr
    print(f"fitting {args.recipe} on {len(train.X)} {args.machine} training clips ({duration:g} s)")
    t0 = time.perf_counter()
    with sklearn.config_context(enable_metadata_routing=True):
        model = _recipe(args)
        _set_device(model, args.device)
        model.fit(train.X, classes, section=train.section, domain=train.domain, outlier=outlier)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _save_model(out, model, pickle=args.pickle, recipe=args.recipe, machine=args.machine, duration=duration)
    print(f"fitted in {time.perf_counter() - t0:.1f} s; model saved to {out}")
    return 0


def _check_out_folder(out, machine, split, overwrite):
    """--out of ``score``: a folder (made if missing) holding no score files of ours unless ``overwrite``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file: it must be a folder (the score files go in it).")
    earlier = sorted(
        p.name
        for pattern in (f"anomaly_score_{machine}_*_{split}.csv", f"decision_result_{machine}_*_{split}.csv")
        for p in out.glob(pattern)
    )
    if earlier and not overwrite:
        raise FileExistsError(
            f"--out {out} holds {len(earlier)} earlier score file(s) of {machine} ({split}), e.g. "
            f"{earlier[0]}: pass --overwrite to replace them."
        )


def _say_length_changes(filenames, duration):
    """Clips that ``load_dcase(duration=...)`` pads or crops to the model's clip length, counted."""
    import soundfile

    if duration is None:
        return
    shorter = longer = 0
    for f in filenames:
        info = soundfile.info(str(f))
        frames = round(duration * info.samplerate)
        shorter += info.frames < frames
        longer += info.frames > frames
    if shorter or longer:
        print(
            f"warning: the model was fitted on {duration:g} s clips; {shorter} of {len(filenames)} clips "
            f"are shorter (zero-padded) and {longer} longer (cropped). Padding changes a clip's score "
            "(silence is not the machine's sound): score clips of the training length.",
            file=sys.stderr,
        )


def _score(args):
    _check_out_folder(args.out, args.machine, args.split, args.overwrite)
    payload = _load_model(args.model, args.allow_pickle, args.trust, device=args.device)
    fitted_on = payload.get("machine")
    if fitted_on is not None and fitted_on != args.machine and not args.force:
        raise ValueError(
            f"{args.model} was fitted on {fitted_on} clips, not {args.machine}: its scores of "
            f"{args.machine} mean nothing. Pass --force to score them anyway."
        )
    channel = _channel(args.channel)
    data = load_dcase(
        args.data, args.machine, args.split, duration=payload["duration"], n_jobs=args.n_jobs, channel=channel
    )
    _say_channel(data, channel)
    _say_length_changes(data.filenames, payload["duration"])
    with sklearn.config_context(enable_metadata_routing=True):
        model = payload["model"]
        scores = routed_anomaly_score(model, data.X, section=data.section, domain=data.domain)
        decisions = model.predict(data.X, section=data.section, domain=data.domain) == -1
    out = Path(args.out)
    write_submission(out, args.machine, args.split, data.filenames, data.section, scores, decisions)
    print(f"scored {len(data.X)} clips of {args.machine} ({args.split}); files in {out}")
    return 0


def _evaluate(args):
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
    if args.plots:
        threshold = _threshold_from_decisions(args, by_name, scores)
        payload = (
            _load_model(args.model, args.allow_pickle, args.trust, device="auto") if args.model else None
        )
        written = _write_plots(Path(args.plots), args, data, scores, threshold, payload, protocol)
        print(f"\nplots: {', '.join(written)} in {args.plots}")
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
