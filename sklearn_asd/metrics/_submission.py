"""The official DCASE submission files: one anomaly-score and one decision file per section."""

import math
from pathlib import Path

import numpy as np


def write_submission(folder, machine, split, filenames, section, scores, decisions=None):
    """Write ``anomaly_score_<machine>_<section>_<split>.csv`` (and ``decision_result_...``).

    One line ``<file name>,<score>`` per clip (``<file name>,<0 or 1>`` in the decision files, 1 =
    anomalous), one file per section, as the DCASE Task 2 evaluator reads them. Scores are
    written at full precision (Python's shortest round-trip form): rounding would turn scores
    that differ by less than the last decimal (softmax probabilities near 1) into ties and
    change the AUC.

    Parameters
    ----------
    folder : path
        Created if missing.
    machine, split : str
    filenames, section : array-like of shape (n_clips,)
    scores : array-like of shape (n_clips,)
        Anomaly scores, higher = more anomalous; must be finite.
    decisions : array-like of bool of shape (n_clips,) or None
        True = anomalous; ``None`` writes no decision files.

    Returns
    -------
    paths : list of Path
    """
    scores = np.asarray(scores, dtype=float)
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{int((~np.isfinite(scores)).sum())} anomaly score(s) are NaN or infinite.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    section = np.asarray(section, dtype=object)
    names = [Path(f).name for f in filenames]
    written = []
    for sec in np.unique(section):
        rows = np.flatnonzero(section == sec)
        stem = f"{machine}_{sec}_{split}"
        path = folder / f"anomaly_score_{stem}.csv"
        path.write_text("".join(f"{names[i]},{float(scores[i])!r}\n" for i in rows))
        written.append(path)
        if decisions is not None:
            path = folder / f"decision_result_{stem}.csv"
            path.write_text("".join(f"{names[i]},{int(bool(decisions[i]))}\n" for i in rows))
            written.append(path)
    return written


def read_submission(paths, kind="score"):
    """Read submission files into ``{file name: value}``; every fault names the file and line.

    ``kind="score"``: anomaly scores (finite numbers); ``"decision"``: 0 or 1. Blank lines are
    errors, as are a clip listed twice (in one file or two), a missing comma and a value that is
    not a finite number (``nan`` too): the official score would change silently otherwise. A line
    has exactly two fields (a third column is an error, not ignored); a UTF-8 byte-order mark
    at the start of a file (spreadsheet exports) is skipped.
    """
    if kind not in ("score", "decision"):
        raise ValueError(f"kind must be 'score' or 'decision', got {kind!r}.")
    values, where = {}, {}
    for path in paths:
        with open(path, encoding="utf-8-sig") as f:
            for number, line in enumerate(f, 1):
                at = f"{path}, line {number}"
                text = line.strip()
                if not text:
                    raise ValueError(f"{at}: blank line (each line is '<file name>,<value>').")
                fields = text.split(",")
                if len(fields) != 2:
                    raise ValueError(
                        f"{at}: expected '<file name>,<value>' (two fields), got {len(fields)}: {text!r}."
                    )
                name, raw = fields[0], fields[1]
                if name in values:
                    raise ValueError(f"{at}: {name} is listed twice (first at {where[name]}).")
                try:
                    value = float(raw)
                except ValueError:
                    raise ValueError(f"{at}: {raw!r} is not a number.") from None
                if not math.isfinite(value):
                    raise ValueError(f"{at}: the value of {name} is {raw!r}, not a finite number.")
                if kind == "decision":
                    if value not in (0.0, 1.0):
                        raise ValueError(f"{at}: a decision is 0 or 1, got {raw!r}.")
                    value = int(value)
                values[name], where[name] = value, at
    return values
