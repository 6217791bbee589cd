"""Loading the DCASE Task 2 (2020-2024) and MIMII directory layouts."""

import csv
import os
import re
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._audio import read_audio

AUDIO_EXTENSIONS = (".wav", ".flac")
SPLITS = ("train", "test", "all")

# One pattern per naming scheme, most specific first. The groups that a pattern
# lacks (domain, label) take the defaults of `_record_from_match`.
_NAME_PATTERNS = (
    # 2021-2024 development and additional training data:
    # section_00_source_train_normal_0000_<attribute key/values>
    re.compile(
        r"^section_(?P<section>\d+)_(?P<domain>source|target)_(?P<split>train|test)_"
        r"(?P<label>normal|anomaly)_(?P<index>\d+)(?:_(?P<attrs>.+))?$"
    ),
    # 2021 evaluation data: section_03_source_test_0000 (domain known, label not)
    re.compile(
        r"^section_(?P<section>\d+)_(?P<domain>source|target)_(?P<split>train|test)_"
        r"(?P<index>\d+)(?:_(?P<attrs>.+))?$"
    ),
    # 2022-2024 evaluation data: section_00_0000 (neither domain nor label)
    re.compile(r"^section_(?P<section>\d+)_(?P<index>\d+)$"),
    # 2020 development data: normal_id_00_00000000 / anomaly_id_00_00000000
    re.compile(r"^(?P<label>normal|anomaly)_id_(?P<id>\d+)_(?P<index>\d+)$"),
    # 2020 evaluation data: id_05_00000000
    re.compile(r"^id_(?P<id>\d+)_(?P<index>\d+)$"),
    # MIMII recordings flattened into one folder: valve_id00_n_00000000 / ..._abn_...
    re.compile(r"^(?P<machine>[A-Za-z]+)_id(?P<id>\d+)_(?P<label>n|abn)_(?P<index>\d+)$"),
)
_LABELS = {"normal": 0, "n": 0, "anomaly": 1, "abn": 1, "abnormal": 1}


def parse_attributes(text):
    """Parse the attribute part of a DCASE file name into a dict.

    Key/value tokens alternate (``car_C2_spd_34V_mic_1`` -> ``{"car": "C2",
    "spd": "34V", "mic": "1"}``); ``noAttribute`` (DCASE 2024) gives ``{}``; an
    odd number of tokens is kept whole under the key ``"attribute"`` rather than
    guessed at.
    """
    if not text or text == "noAttribute":
        return {}
    tokens = text.split("_")
    if len(tokens) % 2:
        return {"attribute": text}
    return dict(zip(tokens[::2], tokens[1::2]))


def parse_filename(name):
    """Metadata of one clip from its official DCASE or MIMII file name.

    Parameters
    ----------
    name : str
        File name or path (only the base name is used).

    Returns
    -------
    record : dict or None
        ``section`` (``"section_00"`` or ``"id_00"``), ``domain`` (``"source"``,
        ``"target"`` or ``"unknown"``), ``anomaly`` (1, 0, or -1 when the name
        does not tell), ``attributes`` (dict), ``split`` (``"train"``,
        ``"test"`` or ``None``); ``None`` when the name follows no known scheme.

    Examples
    --------
    >>> from sklearn_asd.datasets import parse_filename
    >>> r = parse_filename("section_00_target_test_anomaly_0010_pat_02.wav")
    >>> r["section"], r["domain"], r["anomaly"], r["attributes"]
    ('section_00', 'target', 1, {'pat': '02'})
    """
    stem = Path(name).stem
    for pattern in _NAME_PATTERNS:
        match = pattern.match(stem)
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("section") is not None:
            section = f"section_{groups['section']}"
            domain = groups.get("domain") or "unknown"
        else:
            # DCASE 2020 and MIMII have machine IDs and no domain shift: every
            # clip is from the (only) source domain.
            section = f"id_{groups['id']}"
            domain = "source"
        label = groups.get("label")
        return {
            "section": section,
            "domain": domain,
            "anomaly": _LABELS[label] if label is not None else -1,
            "attributes": parse_attributes(groups.get("attrs")),
            "split": groups.get("split"),
        }
    return None


def _list_audio(folder):
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def _parse_or_raise(path):
    record = parse_filename(path.name)
    if record is None:
        raise ValueError(
            f"{path}: the file name follows none of the DCASE 2020-2024 or MIMII "
            "naming schemes, so its section, domain and label are unknown. Move it "
            "out of the data folder or rename it."
        )
    return record


def _mimii_records(machine_dir):
    """Raw MIMII layout: <machine>/id_XX/{normal,abnormal}/00000000.wav."""
    items = []
    for id_dir in sorted(p for p in machine_dir.iterdir() if p.is_dir() and p.name.startswith("id_")):
        for label_dir in sorted(p for p in id_dir.iterdir() if p.is_dir()):
            if label_dir.name not in ("normal", "abnormal"):
                continue
            for path in _list_audio(label_dir):
                items.append(
                    (
                        path,
                        {
                            "section": id_dir.name,
                            "domain": "source",
                            "anomaly": _LABELS[label_dir.name],
                            "attributes": {},
                            "split": None,
                        },
                    )
                )
    return items


def _split_folders(split):
    if split == "train":
        return ("train",)
    if split == "test":
        return ("test", "source_test", "target_test")
    return ("train", "test", "source_test", "target_test")


def _collect(root, machine, split):
    """Return ``(path, record)`` for every clip of ``machine`` and ``split`` below ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data root {root} is not a directory.")
    machine_dir = root / machine
    if not machine_dir.is_dir() and root.name == machine:
        machine_dir = root

    if machine_dir.is_dir():
        split_dirs = [machine_dir / d for d in _split_folders(split) if (machine_dir / d).is_dir()]
        if split_dirs:
            items = [(p, _parse_or_raise(p)) for d in split_dirs for p in _list_audio(d)]
            return items, machine_dir
        mimii = _mimii_records(machine_dir)
        if mimii:
            _check_mimii_split(split, machine_dir)
            return mimii, machine_dir
        raise FileNotFoundError(
            f"{machine_dir} holds no {split!r} data: expected a folder among "
            f"{list(_split_folders(split))} (DCASE) or id_XX/normal|abnormal (MIMII)."
        )

    # MIMII files flattened into one folder: <machine>_idXX_{n,abn}_NNNNNNNN.wav
    flat = [p for p in _list_audio(root) if p.name.startswith(f"{machine}_id")]
    if flat:
        _check_mimii_split(split, root)
        return [(p, _parse_or_raise(p)) for p in flat], root

    available = sorted(p.name for p in root.iterdir() if p.is_dir())
    raise FileNotFoundError(
        f"no data for machine {machine!r} under {root}; machines found there: {available}."
    )


def _check_mimii_split(split, folder):
    if split != "all":
        raise ValueError(
            f"{folder} is a MIMII recording set, which has no train/test split: "
            "load it with split='all' and split it with NormalOnlyKFold."
        )


def _read_attribute_csvs(machine_dir):
    """``attributes_XX.csv`` files (DCASE 2022-2024): basename -> attribute dict."""
    table = {}
    for path in sorted(machine_dir.glob("attributes_*.csv")):
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if not header or header[0] != "file_name":
                raise ValueError(f"{path}: expected a header starting with 'file_name', got {header}.")
            for row in reader:
                if not row:
                    continue
                values = row[1:]
                attrs = {k: v for k, v in zip(values[::2], values[1::2]) if k}
                table[os.path.basename(row[0])] = attrs
    return table


def _read_ground_truth(ground_truth, machine):
    """Labels, domains and original names from the official evaluator's CSV files.

    Returns three dicts keyed by file basename: anomaly label, domain, original
    (informative) file name.
    """
    paths = [ground_truth] if isinstance(ground_truth, (str, os.PathLike)) else list(ground_truth)
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(p.rglob(f"ground_truth_{machine}_*.csv")))
            files.extend(sorted(p.rglob("eval_data_list*.csv")))
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"ground truth {p} does not exist.")
    if not files:
        raise FileNotFoundError(f"no ground-truth CSV for machine {machine!r} in {paths}.")
    labels, domains, originals = {}, {}, {}
    for path in files:
        kind = path.parent.name
        current_machine = None
        with open(path, newline="") as f:
            for row in csv.reader(f):
                row = [c.strip() for c in row if c.strip()]
                if len(row) == 1:
                    # DCASE 2020's eval_data_list.csv: a machine-type header line
                    current_machine = row[0]
                    continue
                if len(row) < 2 or (current_machine not in (None, machine)):
                    continue
                name, value = os.path.basename(row[0]), row[1]
                if kind == "ground_truth_domain":
                    domains[name] = "target" if value == "1" else "source"
                elif kind == "ground_truth_attributes":
                    originals[name] = value
                else:
                    try:
                        labels[name] = int(float(value))
                    except ValueError as exc:
                        raise ValueError(f"{path}: label {value!r} of {name} is not 0 or 1.") from exc
    return labels, domains, originals


def load_dcase(
    root,
    machine,
    split="train",
    *,
    sr=16000,
    duration=None,
    channel=0,
    n_jobs=None,
    on_error="raise",
    ground_truth=None,
    load_audio=True,
    progress=None,
):
    """Load one machine type of a DCASE Task 2 (2020-2024) or MIMII data set.

    Parameters
    ----------
    root : str or path-like
        The folder holding the machine folders (``dev_data/``, ``eval_data/``
        or a DCASE 2023+ download), or the machine folder itself.
    machine : str
        Machine type, as its folder is named (``"valve"``, ``"ToyCar"``...).
    split : {"train", "test", "all"}, default="train"
        Which folder(s) to read: ``train/``; ``test/`` (or 2021's
        ``source_test/`` and ``target_test/``); or all of them. MIMII sets have
        no split and need ``"all"``.
    sr : int, default=16000
        Sampling rate of the returned waveforms (soxr resampling if needed).
    duration : float or None, default=None
        Crop or zero-pad every clip to this many seconds. Without it, clips of
        unequal length raise an error (e.g. the 12 s ToyCar clips next to 10 s
        clips).
    channel : int or "mean", default=0
        Channel of multi-channel files (the raw 8-channel MIMII format), or the
        average of all channels.
    n_jobs : int or None, default=None
        Threads reading files in parallel.
    on_error : {"raise", "skip"}, default="raise"
        What to do with an unreadable or truncated file: raise an error naming
        it, or leave it out with a warning listing every skipped file.
    ground_truth : path-like or list of path-like, default=None
        The official evaluator's ground-truth CSV files (or folders holding
        them) for evaluation data whose names do not carry labels: rows
        ``file,label`` (``ground_truth_data/``), ``file,0|1`` for source|target
        (``ground_truth_domain/``), ``file,original_name``
        (``ground_truth_attributes/``, which also gives the attributes), or
        DCASE 2020's ``eval_data_list.csv``.
    load_audio : bool, default=True
        ``False``: the metadata only (``X`` and ``sr`` are ``None``), e.g. to evaluate score files.
    progress : bool or None, default=None
        Show a tqdm bar while reading the audio; ``None``: only on a terminal.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        X : ndarray of shape (n_clips, n_samples), float32
            The waveforms, one clip per row.
        y : ndarray of shape (n_clips,), object
            The auxiliary class of each clip: its section (``"section_00"``)
            or machine ID (``"id_01"``).
        section : ndarray of shape (n_clips,), object
            Same as ``y``; kept separate so that ``y`` may be refined
            (e.g. section x attribute) without losing the section.
        domain : ndarray of shape (n_clips,), object
            ``"source"``, ``"target"``, or ``"unknown"`` (2022+ evaluation
            data without ground truth).
        anomaly : ndarray of shape (n_clips,), int
            1 anomalous, 0 normal, -1 unknown.
        attributes : ndarray of shape (n_clips,), object
            One dict of attribute values per clip.
        split : ndarray of shape (n_clips,), object
            ``"train"`` or ``"test"``: the folder the clip came from.
        filenames : ndarray of shape (n_clips,), object
            Full paths.
        sr : int
            Sampling rate.

    Examples
    --------
    >>> from sklearn_asd.datasets import load_dcase
    >>> test = load_dcase("../shared/data/dcase2023_valve", "valve", "test")  # doctest: +SKIP
    >>> test.X.shape  # doctest: +SKIP
    (200, 160000)
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    items, machine_dir = _collect(root, machine, split)
    if not items:
        raise FileNotFoundError(f"no audio files for machine {machine!r}, split {split!r} under {root}.")

    attribute_table = _read_attribute_csvs(machine_dir)
    labels, domains, originals = ({}, {}, {})
    if ground_truth is not None:
        labels, domains, originals = _read_ground_truth(ground_truth, machine)

    records = []
    for path, record in items:
        record = dict(record)
        name = path.name
        if name in originals:
            original = parse_filename(originals[name] + ".wav")
            if original is not None:
                record["domain"] = original["domain"]
                record["anomaly"] = original["anomaly"]
                record["attributes"] = {**original["attributes"], **record["attributes"]}
        if name in labels:
            record["anomaly"] = labels[name]
        if name in domains:
            record["domain"] = domains[name]
        if name in attribute_table:
            record["attributes"] = {**record["attributes"], **attribute_table[name]}
        if record["split"] is None:
            record["split"] = "train" if path.parent.name == "train" else "test"
        records.append(record)
    anomalous = [p.name for (p, _), r in zip(items, records) if r["split"] == "train" and r["anomaly"] == 1]
    if anomalous:
        shown = ", ".join(anomalous[:5]) + (f" and {len(anomalous) - 5} more" if len(anomalous) > 5 else "")
        raise ValueError(
            f"{len(anomalous)} clip(s) in the training folder of {machine} are named anomalous ({shown}): "
            "training data are normal clips only; move them to test/."
        )

    paths = [str(p) for p, _ in items]
    if not load_audio:
        X, out_sr, kept = None, None, np.arange(len(paths))
    else:
        X, out_sr, kept = read_audio(
            paths,
            sr=sr,
            duration=duration,
            channel=channel,
            n_jobs=n_jobs,
            on_error=on_error,
            return_kept=True,
            progress=progress,
        )
    records = [records[i] for i in kept]
    section = np.array([r["section"] for r in records], dtype=object)
    return Bunch(
        X=X,
        y=section.copy(),
        section=section,
        domain=np.array([r["domain"] for r in records], dtype=object),
        anomaly=np.array([r["anomaly"] for r in records], dtype=int),
        attributes=np.array([r["attributes"] for r in records], dtype=object),
        split=np.array([r["split"] for r in records], dtype=object),
        filenames=np.array([paths[i] for i in kept], dtype=object),
        sr=out_sr,
    )


def concat_datasets(*datasets):
    """Concatenate data sets (Bunches of :func:`load_dcase` or :func:`make_machine_sounds`).

    Every per-clip field is concatenated; ``sr`` must agree. Handy for putting
    the train and test parts in one data set for :class:`DCASESplit`.

    Examples
    --------
    >>> from sklearn_asd.datasets import concat_datasets, make_machine_sounds
    >>> kw = dict(n_sections=1, duration=0.5, random_state=0)
    >>> both = concat_datasets(make_machine_sounds(n_normal=3, split="train", **kw),
    ...                        make_machine_sounds(n_normal=2, **kw))
    >>> both.X.shape, list(both.split).count("train")
    ((14, 8000), 6)
    """
    if not datasets:
        raise ValueError("concat_datasets needs at least one data set.")
    rates = {d.sr for d in datasets}
    if len(rates) > 1:
        raise ValueError(f"data sets have different sampling rates {sorted(rates)}.")
    fields = [k for k in datasets[0] if k != "sr"]
    for d in datasets[1:]:
        if sorted(k for k in d if k != "sr") != sorted(fields):
            raise ValueError(f"data sets have different fields: {sorted(fields)} and {sorted(d)}.")
    return Bunch(sr=rates.pop(), **{k: np.concatenate([d[k] for d in datasets]) for k in fields})


def with_outliers(data, *others):
    """A training set with clips of other machine types appended as outlier-exposure rows.

    Returns ``data`` followed by every clip of ``others`` (all their fields concatenated, as
    :func:`concat_datasets` does; the other sets' anomalous clips are left out) and a boolean
    field ``outlier`` marking the appended rows, which ``fit`` takes as routed metadata:
    ``model.fit(d.X, d.y, section=d.section, domain=d.domain, outlier=d.outlier)``. Recipes with
    outlier exposure train on those rows; every other estimator leaves them out.

    Examples
    --------
    >>> from sklearn_asd.datasets import make_machine_sounds, with_outliers
    >>> kw = dict(n_sections=1, n_anomalous=0, split="train", duration=0.5)
    >>> d = with_outliers(make_machine_sounds(n_normal=3, **kw, random_state=0),
    ...                   make_machine_sounds(n_normal=2, **kw, random_state=1))
    >>> d.X.shape, int(d.outlier.sum())
    ((10, 8000), 4)
    """
    if not others:
        raise ValueError("with_outliers needs at least one other data set.")
    others = [Bunch(**{k: (v if k == "sr" else v[o.anomaly == 0]) for k, v in o.items()}) for o in others]
    joined = concat_datasets(data, *others)
    n = len(data.X)
    joined.outlier = np.arange(len(joined.X)) >= n
    return joined


def attribute_labels(attributes):
    """The attribute part of each clip's class: ``{"pat": "01"}`` -> ``"pat=01"``.

    Keys are sorted and joined by ``"|"`` (``"car=C2|mic=1|spd=31V"``); a clip without attributes
    gives ``""``. This is what :class:`~sklearn_asd.detectors.SoftmaxScore` takes as the routed
    ``attribute`` metadata, and what :func:`class_labels` appends to the section.
    """
    return np.array(
        ["|".join(f"{k}={v}" for k, v in sorted(dict(a).items())) for a in attributes], dtype=object
    )


def class_labels(data, how="auto"):
    """The auxiliary class of each training clip: its section, or section x attributes.

    ``"auto"`` takes section x attributes when the clips come from one section (DCASE 2023
    and 2024 give one section per machine type, and the classifier systems of those years
    learn the attribute values instead), the section otherwise. Classes are written
    ``"section_00|pat=01"``: :class:`~sklearn_asd.detectors.SoftmaxScore` reads the section
    before the ``"|"`` and, given ``attribute=attribute_labels(data.attributes)`` at test time,
    the clip's own class.
    """
    if how not in ("auto", "section", "attribute"):
        raise ValueError(f"how must be 'auto', 'section' or 'attribute', got {how!r}.")
    if how == "section" or (how == "auto" and len(set(data.section)) > 1):
        return np.asarray(data.y, dtype=object)
    attrs = attribute_labels(data.attributes)
    return np.array([f"{s}|{a}" if a else str(s) for s, a in zip(data.section, attrs)], dtype=object)
