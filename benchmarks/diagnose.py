"""Diagnostics behind benchmarks/README's "causes found": each one a measurement, not a tuning.

    python benchmarks/diagnose.py ae-curve        # AE and kNN AUC per ID against that ID's clip count
    python benchmarks/diagnose.py oe-terms        # kazakova2022: the outlier term on and off
    python benchmarks/diagnose.py oevae-terms     # hai2024_oevae: alpha and beta apart, and the level
    python benchmarks/diagnose.py valve-domains   # morita2021 on the valve split, domain by domain
    python benchmarks/diagnose.py ensembles       # cross-recipe ensembles (standardized per ID)
    python benchmarks/diagnose.py rescale         # valve split: kNN with and without rescaling
    python benchmarks/diagnose.py backends        # valve split: the same embeddings, every kNN back-end

Every model at its CPU setting (``fast=True``), one torch thread, on the data of
``run_accuracy.py`` (DCASE 2020 slider, four machine IDs; the DCASE 2023 valve split), seeds
0, 1, 2 unless ``--seeds`` says otherwise. One line per measurement.
"""

import argparse
import itertools
import time

import numpy as np
import run_accuracy as ra
import sklearn
import torch
from scipy.stats import spearmanr
from sklearn.utils import Bunch

from sklearn_asd.detectors._base import training_scores
from sklearn_asd.metrics import roc_auc
from sklearn_asd.recipes import make_recipe
from sklearn_asd.utils import anomaly_score

IDS = ("id_00", "id_02")


def slider(outliers=False):
    train, test = ra.load_slider(ra.DATA / "dcase2020_slider")
    if outliers:
        train = ra.append_outliers(
            train, ra.other_machines(ra.DATA / "dcase2023_dev_samples", exclude="slider")
        )
    return train, test


def fit(model, train):
    model.fit(train.X, train.y, section=train.section, domain=train.domain, outlier=train.get("outlier"))
    return model


def id_aucs(test, scores):
    return {i: roc_auc(test.anomaly[test.section == i], scores[test.section == i]) for i in IDS}


def fmt(aucs):
    return " ".join(f"{k} {v:.3f}" for k, v in aucs.items())


def ae_curve(seeds):
    """AUC of one ID against the number of its training clips (subsets; the other IDs kept)."""
    train, test = slider()
    for sid, sizes in (("id_00", (9, 18, 37, 75)), ("id_02", (6, 12, 25, 50))):
        t = test.section == sid
        own, others = np.flatnonzero(train.section == sid), np.flatnonzero(train.section != sid)
        for seed in seeds:
            perm = np.random.RandomState(seed).permutation(own)
            for n in sizes:
                keep = np.r_[perm[:n], others]
                part = Bunch(
                    X=train.X[keep], y=train.y[keep], section=train.section[keep], domain=train.domain[keep]
                )
                for name, model in (
                    ("kNN", ra.pooled_knn()),
                    ("AE", make_recipe("dcase_autoencoder", fast=True, random_state=seed)),
                ):
                    s = anomaly_score(
                        fit(model, part), test.X[t], section=test.section[t], domain=test.domain[t]
                    )
                    auc = roc_auc(test.anomaly[t], s)
                    print(f"{sid} clips {n:3d} subset/seed {seed} {name}: AUC {auc:.3f}", flush=True)


def oe_terms(seeds):
    """kazakova2022 with its outlier term, without it (weight 0: the outlier vectors stay in the
    batches), with a smaller margin, and the plain AE; median clip errors beside the AUCs."""
    train, test = slider(outliers=True)
    variants = {
        "plain AE": {"outlier_exposure": False},
        "OE (kazakova2022)": {},
        "OE, weight 0": {"oe_weight": 0.0},
        "OE, margin 0.1": {"oe_margin": 0.1},
    }
    for seed in seeds:
        for label, params in variants.items():
            model = make_recipe("kazakova2022", fast=True, random_state=seed)
            model.set_params(**{f"ae__{k}": v for k, v in params.items()})
            s = anomaly_score(fit(model, train), test.X, section=test.section, domain=test.domain)
            ae = model[-1]
            out = ae._clip_scores(ae._errors(model[0].transform(train.X[train.outlier])))
            medians = " ".join(
                f"{i} normal {np.median(s[(test.section == i) & (test.anomaly == 0)]):.1f} "
                f"anomalous {np.median(s[(test.section == i) & (test.anomaly == 1)]):.1f}"
                for i in IDS
            )
            print(
                f"seed {seed} {label:18s} {fmt(id_aucs(test, s))} | median error: training clips "
                f"{np.median(ae.train_anomaly_scores_):.1f}, outlier clips {np.median(out):.1f}, {medians}",
                flush=True,
            )


def oevae_terms(seeds):
    """hai2024_oevae's two terms apart (alpha: latent NLL; beta: kNN of the features) and how
    alpha follows the clip level."""
    train, test = slider(outliers=True)
    for seed in seeds:
        model = fit(make_recipe("hai2024_oevae", fast=True, random_state=seed), train)
        S = model[0].transform(test.X)
        alpha, beta = model[-1]._raw_scores(S)
        level = 10 * np.log10(np.mean(10 ** (S / 10), axis=(1, 2)))
        s = anomaly_score(model, test.X, section=test.section, domain=test.domain)
        terms = f"alpha {fmt(id_aucs(test, alpha))} | beta {fmt(id_aucs(test, beta))}"
        print(f"seed {seed} OEVAE {fmt(id_aucs(test, s))} | {terms}")
        for i in IDS:
            t = test.section == i
            print(
                f"seed {seed} {i}: level AUC {roc_auc(test.anomaly[t], level[t]):.3f}, "
                f"Spearman(alpha, level) {spearmanr(alpha[t], level[t])[0]:.2f}",
                flush=True,
            )


def valve_domains(seeds):
    """morita2021 on the valve split: each domain's normals against each domain's anomalies."""
    train, test = ra.load_valve_split(ra.DATA / "dcase2023_valve")
    train = ra.append_outliers(train, ra.other_machines(ra.DATA / "dcase2023_dev_samples"))
    a, d = test.anomaly, test.domain
    for seed in seeds:
        s = anomaly_score(
            fit(make_recipe("morita2021", fast=True, random_state=seed), train),
            test.X,
            section=test.section,
            domain=test.domain,
        )
        parts = []
        for nd in ("source", "target"):
            for ad in ("source", "target"):
                keep = ((a == 0) & (d == nd)) | ((a == 1) & (d == ad))
                parts.append(f"{nd} normals vs {ad} anomalies {roc_auc(a[keep], s[keep]):.3f}")
        medians = ", ".join(f"{dom} {np.median(s[d == dom]):.2f}" for dom in ("source", "target"))
        print(f"seed {seed}: " + "; ".join(parts) + f" | median score by domain: {medians}", flush=True)


def ensembles(seeds):
    """The three best ID classifiers and their per-ID standardized mean and max (Giri et al.'s
    ensemble, across recipes): each score standardized by its training clips of the same ID."""
    train, test = slider()
    names = ("giri2020", "team42_sepstgram", "morita2021")
    for seed in seeds:
        z = {}
        for name in names:
            options = {"machine_type": "slider"} if name == "giri2020" else {}
            t0 = time.perf_counter()
            model = fit(make_recipe(name, fast=True, random_state=seed, **options), train)
            tr = training_scores(model, train.X, section=train.section, domain=train.domain)
            te = anomaly_score(model, test.X, section=test.section, domain=test.domain)
            z[name] = np.empty_like(te)
            for i in np.unique(test.section):
                ref = tr[train.section == i]
                z[name][test.section == i] = (te[test.section == i] - ref.mean()) / (ref.std() or 1.0)
            print(
                f"seed {seed} {name}: {fmt(id_aucs(test, te))} ({time.perf_counter() - t0:.0f} s)", flush=True
            )
        for k in (2, 3):
            for combo in itertools.combinations(names, k):
                for how, f in (("mean", np.mean), ("max", np.max)):
                    aucs = id_aucs(test, f([z[c] for c in combo], axis=0))
                    mean = np.mean(list(aucs.values()))
                    print(f"seed {seed} {' + '.join(combo)} ({how}): mean {mean:.3f} {fmt(aucs)}", flush=True)


def backends(seeds, recipes=("hai2024_dual_branch", "wilkinghoff2024_featex", "fujimura2025_multires")):
    """The valve split's target domain: each recipe's embeddings of the same fit scored by its own
    back-end, a cosine 1-NN, the 1-NN per domain (the minimum over source and target references)
    without and with SMOTE on the target references (ASDKit's ``Knn``, ratio 0.2, 2 neighbours),
    and the 1-NN rescaled by each training clip's neighbourhood (ASDKit's ``KnnRescale``)."""
    from sklearn_asd.detectors import DomainKNNDetector, KNNDetector, RescaledKNNDetector
    from sklearn_asd.metrics import dcase_report

    train, test = ra.load_valve_split(ra.DATA / "dcase2023_valve")
    for recipe, seed in itertools.product(recipes, seeds):
        model = fit(make_recipe(recipe, fast=True, random_state=seed), train)
        Z_train, Z_test = model[:-1].transform(train.X), model[:-1].transform(test.X)
        d = train.domain
        detectors = {
            "its back-end (the recipe)": model[-1],
            "cosine 1-NN": KNNDetector(metric="cosine").fit(Z_train),
            "1-NN per domain, min": DomainKNNDetector().fit(Z_train, domain=d),
            "1-NN per domain, SMOTE 0.2": DomainKNNDetector(smote_ratio=0.2, random_state=seed).fit(
                Z_train, domain=d
            ),
            # the split has 32 source / 5 target clips: 0.2 asks for 6 target references (one
            # synthetic), 1.0 for 32 (27 synthetic, 5 per target clip); DCASE's 990 / 10 clips
            # at 0.2 get 188 synthetic ones, 19 per target clip
            "1-NN per domain, SMOTE 1.0": DomainKNNDetector(smote_ratio=1.0, random_state=seed).fit(
                Z_train, domain=d
            ),
            "cosine 1-NN, rescaled (k_ref 16)": RescaledKNNDetector(k_ref=16).fit(Z_train),
            "cosine 1-NN, rescaled (k_ref 4)": RescaledKNNDetector(k_ref=4).fit(Z_train),
        }
        for name, det in detectors.items():
            s = anomaly_score(det, Z_test, section=test.section, domain=test.domain)
            rep = dcase_report(test.anomaly, s, section=test.section, domain=test.domain, output_dict=True)
            mean = rep["arithmetic mean"]
            aucs = f"AUC source {mean['AUC (source)']:.3f} target {mean['AUC (target)']:.3f}"
            rest = f"pAUC {mean['pAUC']:.3f} official {rep['official score']:.3f}"
            print(f"{recipe} seed {seed} {name:34s} {aucs} {rest}", flush=True)


def rescale(seeds):
    """``backends`` on model A of Hai et al. alone (the rows of benchmarks/README's rescaling table)."""
    backends(seeds, recipes=("hai2024_dual_branch",))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what",
        choices=["ae-curve", "oe-terms", "oevae-terms", "valve-domains", "ensembles", "rescale", "backends"],
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    sklearn.set_config(enable_metadata_routing=True)
    {
        "ae-curve": ae_curve,
        "oe-terms": oe_terms,
        "oevae-terms": oevae_terms,
        "valve-domains": valve_domains,
        "ensembles": ensembles,
        "rescale": rescale,
        "backends": backends,
    }[args.what](args.seeds)


if __name__ == "__main__":
    main()
