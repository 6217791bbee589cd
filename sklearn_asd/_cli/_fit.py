"""``sklearn-asd fit``: train a recipe on a DCASE machine's training clips and write the model file."""

import time
from pathlib import Path

import numpy as np
import sklearn

from ..datasets import class_labels, load_dcase, with_outliers
from ._model import _recipe, _save_model
from ._output import Timer, verbosity


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


def main(args):
    timer, level = Timer(), verbosity(args)
    if Path(args.out).exists() and not args.overwrite:
        raise FileExistsError(f"--out {args.out} exists: pass --overwrite to replace it.")
    existed = Path(args.out).exists()
    _check_writable(args.out)
    if not existed:
        Path(args.out).unlink()  # the check left an empty file; the fit writes the real one
    load = dict(
        sr=16000,
        duration=args.duration,
        n_jobs=args.n_jobs,
        channel=_channel(args.channel),
        progress=bool(level),
    )
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
    print(
        f"fitting {args.recipe} on {len(train.X)} {args.machine} training clips ({duration:g} s)", flush=True
    )
    t0 = time.perf_counter()
    with sklearn.config_context(enable_metadata_routing=True):
        model = _recipe(args, verbose=level)
        model.fit(train.X, classes, section=train.section, domain=train.domain, outlier=outlier)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _save_model(out, model, pickle=args.pickle, recipe=args.recipe, machine=args.machine, duration=duration)
    timer.done(f"fitted in {time.perf_counter() - t0:.1f} s; model saved to {out}")
    return 0
