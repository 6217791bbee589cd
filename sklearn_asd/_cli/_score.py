"""``sklearn-asd score``: a model file's anomaly scores and decisions, as DCASE submission files."""

import sys
from pathlib import Path

import numpy as np
import sklearn
from tqdm.auto import tqdm

from ..datasets import load_dcase, read_audio
from ..detectors import BaseDetector
from ..metrics import write_submission
from ..utils._anomaly import routed_anomaly_score
from ._fit import _channel, _say_channel
from ._model import _load_model, _set_everywhere
from ._output import Timer, explain_threshold, verbosity


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


def main(args):
    timer = Timer()
    _check_out_folder(args.out, args.machine, args.split, args.overwrite)
    payload = _load_model(args.model, args.allow_pickle, args.trust, device=args.device)
    fitted_on = payload.get("machine")
    if fitted_on is not None and fitted_on != args.machine and not args.force:
        raise ValueError(
            f"{args.model} was fitted on {fitted_on} clips, not {args.machine}: its scores of "
            f"{args.machine} mean nothing. Pass --force to score them anyway."
        )
    channel = _channel(args.channel)
    data = load_dcase(args.data, args.machine, args.split, load_audio=False)  # the clips' metadata
    _say_channel(data, channel)
    duration = payload["duration"] or _length(data.filenames[0])
    _say_length_changes(data.filenames, duration)
    with sklearn.config_context(enable_metadata_routing=True):
        model = payload["model"]
        _set_everywhere(model, "verbose", verbosity(args))  # featurizing and network bars
        scores, decisions = _score_in_chunks(model, data, duration, channel, args.n_jobs, verbosity(args))
    out = Path(args.out)
    write_submission(out, args.machine, args.split, data.filenames, data.section, scores, decisions)
    print(explain_threshold(model))
    timer.done(f"scored {len(scores)} clips of {args.machine} ({args.split}); files in {out}")
    return 0


CHUNK = 256
"""Clips read and scored at a time: memory stays that of 256 clips, however many are scored."""


def _length(path):
    """Seconds of an audio file (for model files that predate the stored clip length)."""
    import soundfile

    info = soundfile.info(str(path))
    return info.frames / info.samplerate


def _score_in_chunks(model, data, duration, channel, n_jobs, verbose):
    """Anomaly scores and decisions of every clip of ``data``, :data:`CHUNK` files at a time.

    Each chunk is read, scored and let go, so ``score`` streams a data set of any size; every
    detector scores a clip on its own, so the scores are those of the whole set at once.
    """
    n = len(data.filenames)
    scores, decisions = np.empty(n), np.empty(n, dtype=bool)
    bar = tqdm(total=n, desc="scoring", unit="clip", disable=not verbose)
    for start in range(0, n, CHUNK):
        rows = slice(start, min(start + CHUNK, n))
        X, _ = read_audio(
            [str(f) for f in data.filenames[rows]],
            sr=16000,
            duration=duration,
            channel=channel,
            n_jobs=n_jobs,
            progress=False,
        )
        metadata = {"section": data.section[rows], "domain": data.domain[rows]}
        scores[rows] = routed_anomaly_score(model, X, **metadata)
        decisions[rows] = _decisions(model, X, metadata, scores[rows])
        bar.update(rows.stop - rows.start)
    bar.close()
    return scores, decisions


def _decisions(model, X, metadata, scores):
    """Anomalous or not, per clip: from the scores already computed when the model ends in one of
    our detectors (its threshold is ``-offset_`` on the anomaly score), else by ``predict``."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if isinstance(final, BaseDetector):
        # predict is -1 where decision_function = -anomaly_score - offset_ < 0
        return -np.asarray(scores) - final.offset_ < 0
    return model.predict(X, **metadata) == -1
