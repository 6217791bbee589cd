"""Accuracy of the detectors on synthetic machine sounds and on real recordings, same run.

Run: python benchmarks/run_accuracy.py [--epochs 100] [--seed 0]
     python benchmarks/run_accuracy.py --compare-real [--compare-seed 17 ...] [--train-seeds 0 ...]
         [--n-jobs 2]
         (the pooled kNN and six recipes on synthetic machines of four IDs, realism="factory",
         and on the real slider, each trained with every training seed: the rankings and their
         Spearman correlation per training seed and on the mean over them)
     python benchmarks/run_accuracy.py --recipes [--full]   (every recipe; fast settings by default)
     python benchmarks/run_accuracy.py --recipes --data slider --train-seeds 0 1 2
         (DCASE 2020 slider, four machine IDs: AUC and pAUC per ID, mean and sd over 3 seeds)

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
machine types of dcase2023_dev_samples), and ../shared/data/dcase2020_slider (four machine IDs,
the auxiliary class is the ID; scored by the DCASE 2020 protocol: AUC and pAUC per ID, all of
the ID's anomalies; outliers: the other machine types of dcase2023_dev_samples). Prints one table:
official score, AUC source/target (the mean AUC over IDs under the 2020 protocol), pAUC, fit
and score seconds, and the per-ID (or per-kind) AUCs. Every AUC below 0.5 of a real set (per ID,
or per section and domain) is printed with its z against chance (``below_chance``): a figure
below 0.5 is a bug until shown otherwise, and z says whether it is below chance at all.
"""

import argparse
import csv
import os
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch

from sklearn_asd.datasets import (
    load_dcase,
    make_machine_sounds,
    parse_filename,
    read_audio,
    with_outliers,
)
from sklearn_asd.detectors import OEVAE, AutoEncoderDetector, GroupMADEDetector, KNNDetector
from sklearn_asd.features import LogMel, Pool
from sklearn_asd.metrics import dcase_protocol, dcase_report, roc_auc
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


def other_machines(root, duration=10.0, exclude="valve"):
    """Clips of the machine types other than ``exclude`` (dcase2023_dev_samples), as outliers."""
    clips = []
    for machine in ("ToyCar", "ToyTrain", "bearing", "fan", "gearbox", "slider", "valve"):
        if machine != exclude:
            clips.append(load_dcase(root, machine, "all", duration=duration).X)
    return np.concatenate(clips)


def load_slider(root):
    """DCASE 2020 slider, four machine IDs: (train, test) Bunches; the auxiliary class is the ID.

    Training: ``train/`` (75 clips of id_00, 50 each of id_02, id_04, id_06); test: ``test/``
    (id_00: 100 normal + 120 anomalous, id_02: 50 + 120). One domain (DCASE 2020 protocol).
    """
    train = load_dcase(root, "slider", "train", n_jobs=2)
    test = load_dcase(root, "slider", "test", n_jobs=2)
    for part in (train, test):
        part.y = part.section.copy()
    train.outlier = np.zeros(len(train.X), bool)
    return train, test


def models(epochs, oevae_epochs, seed):
    logmel = dict(sr=16000, n_fft=1024, hop_length=512, n_mels=128)
    ae = dict(max_epochs=epochs, random_state=seed)
    return {
        "pooled log-mel + kNN": pooled_knn(),
        "AE baseline (MSE)": Pipeline([("logmel", LogMel(**logmel)), ("ae", AutoEncoderDetector(**ae))]),
        "AE, selective Mahalanobis": Pipeline(
            [("logmel", LogMel(**logmel)), ("ae", AutoEncoderDetector(scoring="selective_mahalanobis", **ae))]
        ),
        "AE + outlier exposure": Pipeline(
            [("logmel", LogMel(**logmel)), ("ae", AutoEncoderDetector(outlier_exposure=True, **ae))]
        ),
        "OEVAE (w = 0.5)": Pipeline(
            [("logmel", LogMel(**logmel)), ("oevae", OEVAE(max_epochs=oevae_epochs, random_state=seed))]
        ),
        "Group MADE (5 frames)": Pipeline(
            [
                ("logmel", LogMel(**logmel)),
                ("made", GroupMADEDetector(max_epochs=max(1, epochs // 2), random_state=seed)),
            ]
        ),
    }


def pooled_knn():
    """The reference: mean and std of the log-mel over time, per-section kNN."""
    return Pipeline(
        [
            ("logmel", LogMel(sr=16000, n_fft=1024, hop_length=512, n_mels=128)),
            ("pool", Pool("mean+std")),
            ("knn", KNNDetector(metric="euclidean", per_section=True)),
        ]
    )


def append_outliers(train, X_other):
    """``train`` with the clips ``X_other`` appended as outlier-exposure rows."""
    n = len(X_other)
    return Bunch(
        X=np.concatenate([train.X, X_other]),
        y=np.r_[train.y, np.full(n, "other", dtype=object)],
        section=np.r_[train.section, np.full(n, "other", dtype=object)],
        domain=np.r_[train.domain, np.full(n, "source", dtype=object)],
        outlier=np.r_[np.zeros(len(train.X), bool), np.ones(n, bool)],
    )


def embedder_accuracy(model):
    """Held-out accuracy of the auxiliary classification of every embedder in a fitted model."""
    found = []

    def walk(obj):
        if hasattr(obj, "validation_accuracy_"):
            if obj.validation_accuracy_ is not None:
                found.append(obj.validation_accuracy_)
            return
        for name in ("steps", "estimators_"):
            for item in getattr(obj, name, []) or []:
                walk(item[1] if isinstance(item, tuple) else item)
        for name in ("estimator_", "source_", "target_"):
            if hasattr(obj, name):
                walk(getattr(obj, name))

    walk(model)
    return float(np.mean(found)) if found else float("nan")


def recipe_models(full, seed, machine_type):
    """Every recipe of sklearn_asd.recipes at its CPU setting (``fast``) unless ``full``."""
    from sklearn_asd.recipes import RECIPES, make_recipe

    out = {}
    for name in RECIPES:
        options = {"machine_type": machine_type} if name == "giri2020" else {}
        out[name] = make_recipe(name, fast=not full, random_state=seed, **options)
    return out


def evaluate(name, model, train, test):
    """Fit (outlier rows marked by ``train.outlier``) and score; the row of the table."""
    t0 = time.perf_counter()
    model.fit(train.X, train.y, section=train.section, domain=train.domain, outlier=train.outlier)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
    score_s = time.perf_counter() - t0
    protocol = dcase_protocol(test.section, test.domain)
    rep = dcase_report(
        test.anomaly, scores, section=test.section, domain=test.domain, protocol=protocol, output_dict=True
    )
    mean = rep["arithmetic mean"]
    # DCASE 2020 (one domain): the AUC and pAUC of each machine ID
    per_section = {s: v["AUC"] for s, v in rep["sections"].items()} if protocol == "2020" else {}
    kinds = member_aucs(model, test, protocol)
    if "anomaly_kind" in test:
        for kind in np.unique(test.anomaly_kind[test.anomaly == 1]):
            rows = (test.anomaly == 0) | (test.anomaly_kind == kind)
            kinds[kind] = roc_auc(test.anomaly[rows], scores[rows])
    return {
        "model": name,
        "official": rep["official score"],
        "AUC src": mean["AUC (source)"] if protocol == "2021" else mean["AUC"],
        "AUC tgt": mean["AUC (target)"] if protocol == "2021" else float("nan"),
        "per section": per_section,
        "pAUC": mean["pAUC"],
        "sec acc": embedder_accuracy(model),
        "fit s": fit_s,
        "score s": score_s,
        "kinds": kinds,
        "below chance": below_chance(test, scores, protocol) if "anomaly_kind" not in test else [],
        "scores": np.asarray(scores, dtype=float),  # per test clip: for ``resolved_pairs``
    }


def below_chance(test, scores, protocol):
    """``["<where> AUC <a> (z <z>)", ...]`` for every per-section (and per-domain) AUC below 0.5.

    z is the AUC's distance from 0.5 in standard errors of the null hypothesis (scores unrelated
    to the labels: the Mann-Whitney statistic's exact variance, ``(n1 + n2 + 1) / (12 n1 n2)``,
    Hanley & McNeil 1982): |z| < 2 is what chance alone gives on that many clips; z < -3 is a
    ranking that prefers the normal clips, a bug or a measured property of the method.
    """
    out = []
    anomaly = np.asarray(test.anomaly)
    for sec in np.unique(test.section):
        rows = np.asarray(test.section) == sec
        parts = (
            {"": rows}
            if protocol == "2020"
            else {
                f" {d}": rows & ((np.asarray(test.domain) == d) | (anomaly == 1))
                for d in ("source", "target")
            }
        )
        for label, keep in parts.items():
            a, s = anomaly[keep], np.asarray(scores)[keep]
            n1, n0 = int(a.sum()), int((a == 0).sum())
            if not n1 or not n0:
                continue
            auc = roc_auc(a, s)
            if auc < 0.5:
                z = (auc - 0.5) / np.sqrt((n1 + n0 + 1) / (12.0 * n1 * n0))
                out.append(f"{sec}{label} AUC {auc:.3f} (z {z:.1f}, {n0} normal / {n1} anomalous)")
    return out


def member_aucs(model, test, protocol):
    """``{"<member> AUC": mean AUC over sections}`` of each member of a StandardizedEnsemble that ends
    ``model``: what each member contributes (source AUC under the 2021 protocol)."""
    from sklearn_asd.detectors import StandardizedEnsemble

    final = model[-1] if isinstance(model, Pipeline) else model
    if not isinstance(final, StandardizedEnsemble):
        return {}
    Xt = model[:-1].transform(test.X) if isinstance(model, Pipeline) and len(model) > 1 else test.X
    scores = final.member_anomaly_scores(Xt, section=test.section, domain=test.domain)
    out = {}
    for name, member in scores.items():
        rep = dcase_report(
            test.anomaly,
            member,
            section=test.section,
            domain=test.domain,
            protocol=protocol,
            output_dict=True,
        )
        out[f"{name} AUC"] = rep["arithmetic mean"]["AUC" if protocol == "2020" else "AUC (source)"]
    return out


def synthetic(seed, n_train, n_target, duration, n_test):
    """A DCASE-shaped synthetic machine and another machine for outlier exposure."""
    kw = dict(n_sections=3, duration=duration, random_state=seed)
    train = make_machine_sounds(n_normal={"source": n_train, "target": n_target}, split="train", **kw)
    test = make_machine_sounds(n_normal=n_test, n_anomalous=n_test, split="test", **kw)
    other = make_machine_sounds(
        n_normal={"source": n_train // 3 + 1, "target": 1},
        split="train",
        n_sections=3,
        duration=duration,
        random_state=seed + 100,
    )
    return with_outliers(train, other), test


COMPARE_RECIPES = (
    "dcase_autoencoder",
    "dcase_mobilenetv2",
    "giri2020",
    "morita2021",
    "team42_sepstgram",
    "hai2024_dual_branch",
)
"""The recipes of ``--compare-real``, each at its CPU setting, beside the pooled kNN."""


SLIDER_FAULTS = ("clicks", "modulation", "friction")
"""The generator's kinds of the real slider's three faults (MIMII: a damaged rail, a loose belt,
no grease): the carriage knocking on the damage, the belt's uneven drive, a dry rail rubbing."""


SLIDER_SNR_DB = 0.0
"""The mixing level of ``factory_machine``: of MIMII's three (-6, 0, 6 dB), the one at which the
design seeds' machines come nearest the real slider in ``realism.py --screen``'s model-free and
linear figures (ID accuracy, anomaly effect, loudness, test NN shift; benchmarks/README, fifth
look). Drawn per seed, the design seeds were all at -6 dB and two validation seeds at 6 dB."""


def factory_machine(
    seed,
    n_train=60,
    n_test=25,
    duration=10.0,
    n_sections=4,
    anomaly_kinds=SLIDER_FAULTS,
    snr_db=SLIDER_SNR_DB,
):
    """A DCASE 2020-shaped synthetic machine of ``make_machine_sounds(realism="factory")``: four IDs,
    one domain, ``n_train`` training clips per ID, ``n_test`` normal + ``n_test`` anomalous per ID,
    the anomalies of the slider's kinds of fault (``SLIDER_FAULTS``) by default, at ``snr_db``
    (``None``: the level drawn with the machine)."""
    kw = dict(
        n_sections=n_sections,
        domains=("source",),
        duration=duration,
        realism="factory",
        snr_db=snr_db,
        random_state=seed,
    )
    train = make_machine_sounds(n_normal=n_train, split="train", **kw)
    test = make_machine_sounds(
        n_normal=n_test, n_anomalous=n_test, split="test", anomaly_kinds=anomaly_kinds, **kw
    )
    for part in (train, test):  # machine IDs, as DCASE 2020 names them: its protocol (one domain)
        part.section = np.array([s.replace("section_", "id_") for s in part.section], dtype=object)
        part.y = part.section.copy()
    train.outlier = np.zeros(len(train.X), bool)
    return train, test


FIT_SECONDS = {
    "giri2020": 395,
    "morita2021": 281,
    "team42_sepstgram": 212,
    "dcase_mobilenetv2": 156,
    "hai2024_dual_branch": 129,
    "dcase_autoencoder": 59,
}
"""Fit seconds of ``--compare-real``'s recipes on the real slider at training seed 0 (benchmarks/
README, the final code of 2026-12-01): the order, longest first, in which ``--n-jobs`` hands them
out."""


REAL_SLIDER = "DCASE 2020 slider (4 IDs)"
"""The real set of ``--compare-real``."""


def compare_real(seeds=(17,), train_seeds=(0,), n_jobs=1, threads=1, data=None, only=None):
    """The same models on factory machines (one per seed of ``seeds``) and on the real slider, each
    trained with every seed of ``train_seeds``: every row, both rankings by mean AUC over IDs and
    their Spearman correlation (``compare_summary``, printed after each set from the second on).
    ``n_jobs`` fits run side by side (one process each, ``threads`` torch threads); a row does not
    depend on ``n_jobs``. ``data``: only the sets
    whose name contains one of these words; ``only``: only these models (``--models``, ``selects``).
    Returns the rows: {set: {training seed: {model: row}}}.
    """
    from sklearn.utils.parallel import Parallel, delayed  # passes the run's sklearn config on

    from sklearn_asd.recipes import make_recipe

    # the real set first: the one every synthetic seed is compared with
    loaders = {REAL_SLIDER: (load_slider, DATA / "dcase2020_slider")}
    loaders.update({f"synthetic factory seed {seed}": (factory_machine, seed) for seed in seeds})
    if data:
        loaders = {k: v for k, v in loaders.items() if any(w.lower() in k.lower() for w in data)}
    names = ["pooled log-mel + kNN", *COMPARE_RECIPES]
    if only:
        names = [n for n in names if any(selects(word, n, names) for word in only)]

    def model(name, train_seed):
        if name == "pooled log-mel + kNN":
            return pooled_knn()
        options = {"machine_type": "slider"} if name == "giri2020" else {}
        return make_recipe(name, fast=True, random_state=train_seed, **options)

    results, labels = {}, {}
    for data_name, (load, arg) in loaders.items():
        train, test = load(arg)
        labels[data_name] = (test.anomaly, test.section)
        # the longest fits first, so that side by side the workers finish together
        tasks = [
            (t, name) for name in sorted(names, key=lambda n: -FIT_SECONDS.get(n, 0)) for t in train_seeds
        ]
        rows = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_fit_row)(name, model(name, t), train, test, threads) for t, name in tasks
        )
        for (t, name), row in zip(tasks, rows):
            results.setdefault(data_name, {}).setdefault(t, {})[name] = row
            print_row(f"{data_name} s{t}", name, row)
        if len(results) > 1 or len(loaders) == 1:  # the summary so far: a long run can be cut short
            print("\n".join(compare_summary(results, labels=labels)) + "\n", flush=True)
    return results


def _fit_row(name, model, train, test, threads):
    """``evaluate`` in a worker, with ``threads`` torch threads (as the run's own process)."""
    torch.set_num_threads(threads)
    return evaluate(name, model, train, test)


def compare_summary(results, real=REAL_SLIDER, labels=None):
    """The lines that ``--compare-real`` prints after its rows: for each training seed, each set's
    ranking by mean AUC over IDs and each synthetic set's Spearman correlation with the real set;
    with several training seeds, the same on each model's mean over them and each set's agreement
    with itself between training seeds (the mean Spearman over pairs of seeds: how far one training
    seed's ranking can be trusted); and how many ID-classifier recipes beat the pooled kNN. With
    ``labels``, the pairs of models each set tells apart (``resolved_pairs``) and how each
    synthetic set orders the pairs the real set tells apart.

    ``results``: {set: {training seed: {model: row}}}, as ``compare_real`` returns; ``labels``:
    {set: (anomaly, section) of its test clips}, the order of each row's ``"scores"``.
    """
    from itertools import combinations

    from scipy.stats import spearmanr

    def auc(rows):
        return {name: row["AUC src"] for name, row in rows.items()}

    def ranking(aucs):
        return " > ".join(f"{n} ({a:.3f})" for n, a in sorted(aucs.items(), key=lambda item: -item[1]))

    def rho(a, b):
        names = [n for n in a if n in b]
        return spearmanr([a[n] for n in names], [b[n] for n in names]).statistic

    seeds = sorted({t for by_seed in results.values() for t in by_seed})
    views = {f"training seed {t}": {k: auc(v[t]) for k, v in results.items() if t in v} for t in seeds}
    if len(seeds) > 1:
        views[f"mean over training seeds {seeds}"] = {k: _mean_auc(v) for k, v in results.items()}
    lines = []
    for view, sets in views.items():
        lines.append(f"\n{view}: ranking by mean AUC over IDs (1 = best)")
        for data_name, aucs in sets.items():
            lines.append(f"  {data_name}: {ranking(aucs)}")
        for data_name, aucs in sets.items():
            if data_name != real and real in sets:
                r = rho(aucs, sets[real])
                lines.append(f"  Spearman correlation, {data_name} vs real: {r:.3f} ({len(aucs)} models)")
        for data_name, aucs in sets.items():
            if data_name != real and "pooled log-mel + kNN" in aucs:
                knn = aucs["pooled log-mel + kNN"]
                beaten = [n for n in COMPARE_RECIPES if n != "dcase_autoencoder" and aucs.get(n, 0) > knn]
                lines.append(
                    f"  ID-classifier recipes above the pooled kNN, {data_name}: {len(beaten)} of 5 {beaten}"
                )
    if len(seeds) > 1:
        lines.append("\neach set's agreement with itself between training seeds (mean Spearman over pairs)")
        for data_name, by_seed in results.items():
            pairs = [rho(auc(by_seed[a]), auc(by_seed[b])) for a, b in combinations(sorted(by_seed), 2)]
            if pairs:
                lines.append(
                    f"  {data_name}: {np.mean(pairs):.3f} (" + ", ".join(f"{r:.3f}" for r in pairs) + ")"
                )
    if labels:
        lines += pair_summary(results, labels, real)
    return lines


def _mean_auc(by_seed):
    """Each model's mean AUC over IDs, averaged over the training seeds it has rows for."""
    names = [n for n in by_seed[min(by_seed)] if all(n in rows for rows in by_seed.values())]
    return {n: float(np.mean([rows[n]["AUC src"] for rows in by_seed.values()])) for n in names}


def _aucs(scores, anomaly):
    """AUC of every row of ``scores`` (..., n_clips) against ``anomaly`` (ties count one half):
    the Mann-Whitney statistic from the ranks along the last axis."""
    from scipy.stats import rankdata

    pos = np.asarray(anomaly) == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    ranks = rankdata(scores, axis=-1)
    return (ranks[..., pos].sum(axis=-1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def resolved_pairs(by_seed, anomaly, section, n_boot=1000, level=0.95, random_state=0):
    """The pairs of models that one set's rows tell apart, beyond the noise of its test clips and
    of the training seeds: ``{(better, worse): (difference, low, high)}`` for each pair whose
    ``level`` percentile interval of the difference in mean AUC over IDs excludes 0.

    Each of ``n_boot`` draws resamples the test clips with replacement within each ID and label
    (the same clips for every model and seed: a paired comparison) and each model's training
    seeds with replacement (independent fits), and takes each model's mean over its drawn seeds of
    the mean AUC over IDs, as ``--compare-real`` ranks them. ``by_seed``: {training seed: {model:
    row with "scores" per test clip}}; models without scores on every seed are left out. With
    three seeds the seeds' resampling underestimates their spread (by a factor of 2/3 in
    variance), so a pair near the edge is resolved too readily, not too rarely.
    """
    anomaly, section = np.asarray(anomaly), np.asarray(section)
    seeds = sorted(by_seed)
    names = [n for n in by_seed[seeds[0]] if all("scores" in by_seed[t].get(n, {}) for t in seeds)]
    if len(names) < 2:
        return {}
    # scores: (model, seed, clip)
    S = np.array([[by_seed[t][n]["scores"] for t in seeds] for n in names], dtype=float)
    rng = np.random.default_rng(random_state)
    auc = np.zeros((len(names), len(seeds), n_boot))
    ids = np.unique(section)
    for sec in ids:
        normal = np.flatnonzero((section == sec) & (anomaly == 0))
        abnormal = np.flatnonzero((section == sec) & (anomaly == 1))
        draw = np.concatenate(
            [rng.choice(normal, (n_boot, normal.size)), rng.choice(abnormal, (n_boot, abnormal.size))], axis=1
        )
        labels = np.r_[np.zeros(normal.size), np.ones(abnormal.size)]
        auc += _aucs(S[:, :, draw], labels) / len(ids)  # (model, seed, draw)
    picks = rng.integers(0, len(seeds), (len(names), n_boot, len(seeds)))
    means = np.take_along_axis(auc, picks.transpose(0, 2, 1), axis=1).mean(axis=1)  # (model, draw)
    point = _mean_auc({t: {n: by_seed[t][n] for n in names} for t in seeds})
    out = {}
    q = 100 * (1 - level) / 2
    for i, a in enumerate(names):
        for j, b in enumerate(names[i + 1 :], i + 1):
            low, high = np.percentile(means[i] - means[j], [q, 100 - q])
            if low > 0 or high < 0:
                better, worse = (a, b) if point[a] > point[b] else (b, a)
                d = point[better] - point[worse]
                sign = 1 if better == a else -1
                lo, hi = sorted((sign * low, sign * high))
                out[(better, worse)] = (d, lo, hi)
    return out


def pair_summary(results, labels, real=REAL_SLIDER, **kwargs):
    """Lines: each set's resolved pairs (``resolved_pairs``), and for each synthetic set, of the
    real set's resolved pairs how many it orders the same way on the means, resolves the same way
    and resolves the other way."""
    resolved = {k: resolved_pairs(v, *labels[k], **kwargs) for k, v in results.items() if k in labels}
    lines = [
        "\npairs of models each set tells apart: the 95 % interval of the difference in mean AUC "
        "(bootstrap over its test clips and training seeds) excludes 0"
    ]
    for data_name, pairs in resolved.items():
        n = len(_mean_auc(results[data_name]))
        lines.append(f"  {data_name}: {len(pairs)} of {n * (n - 1) // 2} pairs")
        for (a, b), (d, lo, hi) in sorted(pairs.items(), key=lambda item: -item[1][0]):
            lines.append(f"    {a} > {b}: {d:+.3f} [{lo:+.3f}, {hi:+.3f}]")
    if real in resolved:
        for data_name, pairs in resolved.items():
            if data_name == real:
                continue
            means = _mean_auc(results[data_name])
            shared = [(a, b) for a, b in resolved[real] if a in means and b in means]
            same = [(a, b) for a, b in shared if means[a] > means[b]]
            other = [(a, b) for a, b in shared if (b, a) in pairs]
            lines.append(
                f"  {data_name} vs real: of the real set's {len(shared)} resolved pairs, "
                f"{len(same)} in the same order on the means, "
                f"{sum((a, b) in pairs for a, b in shared)} resolved the same way, "
                f"{len(other)} resolved the other way"
                + (": " + ", ".join(f"{b} > {a}" for a, b in other) if other else "")
            )
    return lines


COLUMNS = ("official", "AUC src", "AUC tgt", "pAUC", "sec acc")
"""The figures of every printed row (and of the seed summaries), in order."""


def print_row(data_name, name, row):
    kinds = " ".join(
        f"{k if k.endswith(' AUC') else k[:6]}={v:.2f}"
        for k, v in {**row["per section"], **row["kinds"]}.items()
    )
    print(
        f"{data_name:32s}{name:24s}"
        + "".join(f"{row[c]:9.3f}" for c in COLUMNS)
        + f"{row['fit s']:8.1f}{row['score s']:8.1f}  {kinds}",
        flush=True,
    )
    for line in row["below chance"]:
        print(f"{'':32s}  below chance: {line}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="autoencoder epochs (the baseline's 100)")
    parser.add_argument("--oevae-epochs", type=int, default=5, help="OEVAE epochs (ResNet-18: slow on CPU)")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="synthetic machines")
    parser.add_argument(
        "--models",
        nargs="*",
        help="run only these models: an exact name, or a word that names contain",
    )
    parser.add_argument(
        "--train-seeds",
        type=int,
        nargs="*",
        default=[0],
        help="seeds of the networks' training on the real data sets (mean and sd when several); "
        "--compare-real: on every set",
    )
    parser.add_argument("--recipes", action="store_true", help="every recipe, beside the pooled kNN")
    parser.add_argument(
        "--data", nargs="*", help="run only the data sets whose name contains one of these words"
    )
    parser.add_argument("--full", action="store_true", help="with --recipes: the papers' settings (GPU)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: no collapse under load)")
    parser.add_argument(
        "--compare-real",
        action="store_true",
        help="the pooled kNN and six recipes (CPU settings) on a factory-realism synthetic machine "
        "with four IDs and on the real slider: both rankings and their Spearman correlation",
    )
    parser.add_argument(
        "--compare-seed",
        type=int,
        nargs="+",
        default=[17],
        help="--compare-real: the synthetic machines' seeds (one machine each)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        help="--compare-real: fits side by side, one process each (the rows do not depend on it)",
    )
    parser.add_argument(
        "--size",
        nargs=4,
        type=float,
        default=[100, 10, 10.0, 30],
        metavar=("SOURCE", "TARGET", "SECONDS", "TEST"),
        help="synthetic set: training clips per section (source, target), clip length, test clips "
        "per section, domain and label (default: DCASE-shaped, 100 + 10 ten-second clips)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    sklearn.set_config(enable_metadata_routing=True)
    n_src, n_tgt, seconds, n_test = int(args.size[0]), int(args.size[1]), args.size[2], int(args.size[3])
    if args.compare_real:
        compare_real(args.compare_seed, args.train_seeds, args.n_jobs, args.threads, args.data, args.models)
        return

    def datasets():
        for seed in args.seeds:
            yield f"synthetic seed {seed}", (lambda seed=seed: synthetic(seed, n_src, n_tgt, seconds, n_test))
        if DATA.is_dir():
            split = lambda: load_valve_split(DATA / "dcase2023_valve")  # noqa: E731
            others = lambda: other_machines(DATA / "dcase2023_dev_samples")  # noqa: E731

            def valve():
                train, test = split()
                return append_outliers(train, others()), test

            def first_shot():  # one section, attributes ignored, nothing else
                train, test = split()
                train.y = train.section.copy()
                train.outlier = np.zeros(len(train.X), bool)
                return train, test

            def slider():  # four machine IDs; other machine types of DCASE 2023 as outliers
                train, test = load_slider(DATA / "dcase2020_slider")
                return append_outliers(
                    train, other_machines(DATA / "dcase2023_dev_samples", exclude="slider")
                ), test

            yield "DCASE 2023 valve split", valve
            yield "first-shot valve (1 class)", first_shot
            yield "DCASE 2020 slider (4 IDs)", slider

    header = (
        f"{'data':32s}{'model':24s}"
        + "".join(f"{c:>9s}" for c in COLUMNS)
        + f"{'fit s':>8s}{'score s':>8s}  per-kind AUC"
    )
    print(header)
    print("-" * len(header), flush=True)
    synthetic_rows, real_rows = [], {}
    for data_name, load in datasets():
        if args.data and not any(word.lower() in data_name.lower() for word in args.data):
            continue
        train, test = load()
        real = not data_name.startswith("synthetic")
        machine_type = "slider" if "slider" in data_name else "valve"
        # a synthetic machine is one seed of data and of training; a real set is trained with each seed
        for seed in args.train_seeds if real else [0]:
            if args.recipes:
                candidates = {
                    "pooled log-mel + kNN": pooled_knn(),
                    **recipe_models(args.full, seed, machine_type),
                }
            else:
                candidates = models(args.epochs, args.oevae_epochs, seed)
            for name, model in candidates.items():
                if args.models and not any(selects(word, name, candidates) for word in args.models):
                    continue
                row = evaluate(name, model, train, test)
                if real:
                    real_rows.setdefault(data_name, []).append(row)
                else:
                    synthetic_rows.append(row)
                label = f"{data_name} s{seed}" if real and len(args.train_seeds) > 1 else data_name
                print_row(label, name, row)
    if len(args.seeds) > 1 and synthetic_rows:
        print(f"\nsynthetic machines, mean (sd) over {len(args.seeds)} seeds")
        for name, stats in seed_summary(synthetic_rows, COLUMNS).items():
            print(f"{name:24s}" + "".join(f"{m:9.3f} ({sd:.3f})" for m, sd in stats))
    if len(args.train_seeds) > 1:
        for data_name, rows in real_rows.items():
            print(f"\n{data_name}, mean (sd) over training seeds {args.train_seeds}")
            sections = sorted({s for row in rows for s in row["per section"]})
            for row in rows:  # per-ID AUCs become columns of the summary
                row.update({s: row["per section"].get(s, float("nan")) for s in sections})
            summary = seed_summary(rows, (*COLUMNS, "fit s", "score s", *sections))
            print(f"{'model':24s}" + "".join(f"{c:>17s}" for c in (*COLUMNS, "fit s", "score s", *sections)))
            for name, stats in summary.items():
                print(f"{name:24s}" + "".join(f"{m:9.3f} ({sd:.3f})" for m, sd in stats))


def selects(word, name, names):
    """Whether ``--models`` word selects model ``name``: the exact name when ``word`` is one of
    ``names`` (``hai2024`` alone, not its parts), else any name that contains it."""
    if any(word.lower() == n.lower() for n in names):
        return word.lower() == name.lower()
    return word.lower() in name.lower()


def seed_summary(rows, columns):
    """Mean and standard deviation over seeds of each model's numbers: {model: [(mean, sd)]}."""
    by_model = {}
    for row in rows:
        by_model.setdefault(row["model"], []).append([row[c] for c in columns])
    return {
        name: [(float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0) for v in zip(*values)]
        for name, values in by_model.items()
    }


if __name__ == "__main__":
    main()
