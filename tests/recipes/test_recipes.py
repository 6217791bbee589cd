import time

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklearn_asd import io
from sklearn_asd.augment import Mixup, SpectralWarp
from sklearn_asd.augment._spectral import warp_frequency, warp_positions
from sklearn_asd.datasets import make_machine_sounds
from sklearn_asd.metrics import dcase_scorer, roc_auc
from sklearn_asd.model_selection import NormalOnlyKFold
from sklearn_asd.recipes import (
    COMMON_OPTIONS,
    GIRI_MACHINE_TABLE,
    RECIPES,
    USES_OUTLIERS,
    giri2020,
    make_recipe,
    morita2021,
)
from sklearn_asd.utils import anomaly_score


@pytest.fixture(scope="module")
def machine():
    kw = dict(n_sections=2, duration=2.1, random_state=0)
    train = make_machine_sounds(n_normal={"source": 6, "target": 2}, split="train", **kw)
    test = make_machine_sounds(n_normal=2, n_anomalous=2, **kw)
    other = make_machine_sounds(
        n_normal=4, n_anomalous=0, split="train", n_sections=2, duration=2.1, random_state=7
    )
    return train, test, other


def with_outliers(train, other):
    """Training rows followed by another machine's clips, and the fit-time outlier mask."""
    X = np.concatenate([train.X, other.X])
    meta = {
        "section": np.r_[train.section, other.section],
        "domain": np.r_[train.domain, other.domain],
        "outlier": np.r_[np.zeros(len(train.X), bool), np.ones(len(other.X), bool)],
    }
    return X, np.r_[train.y, other.y], meta


def test_the_registry_says_what_each_recipe_is_and_takes():
    import inspect

    from sklearn_asd.recipes import REGISTRY

    assert list(REGISTRY) == list(RECIPES)
    for name, info in REGISTRY.items():
        function = RECIPES[name]
        assert function.__doc__.strip().splitlines()[0] == info.summary, name
        keywords = [p for p in inspect.signature(function).parameters if p not in ("fast", "random_state")]
        assert tuple(keywords) == (*info.options, *COMMON_OPTIONS), name
    assert USES_OUTLIERS == tuple(n for n, i in REGISTRY.items() if i.uses_outliers)
    with pytest.raises(TypeError, match=r"recipe 'dcase_autoencoder' takes no option \['epochs'\]"):
        make_recipe("dcase_autoencoder", epochs=1)


@pytest.mark.parametrize("name", list(RECIPES))
def test_every_recipe_takes_verbose_and_device_and_sets_them_on_its_steps(name):
    from sklearn_asd.recipes._recipes import _steps

    model = RECIPES[name](fast=True, verbose=1, device="cpu")
    steps = list(_steps(model))
    verbose = [s for s in steps if "verbose" in s.get_params(deep=False)]
    devices = [s for s in steps if "device" in s.get_params(deep=False)]
    assert verbose and devices, "every recipe trains or featurizes somewhere"
    assert all(s.get_params(deep=False)["verbose"] == 1 for s in verbose)
    assert all(s.get_params(deep=False)["device"] == "cpu" for s in devices)
    quiet = make_recipe(name, fast=True)
    assert all(s.get_params(deep=False).get("verbose", 0) == 0 for s in _steps(quiet))


def test_every_recipe_builds_instantly_with_one_signature():
    for name in RECIPES:
        t0 = time.perf_counter()
        model = make_recipe(name, fast=True, random_state=3)
        assert time.perf_counter() - t0 < 0.1
        # no data arrays among the parameters of any step
        assert not any(isinstance(v, np.ndarray) for v in model.get_params(deep=True).values())
        clone(model)
    with pytest.raises(ValueError, match="unknown recipe 'nope'"):
        make_recipe("nope")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_fits_and_scores_with_the_contract(name, machine, routing, tmp_path):
    train, test, other = machine
    model = make_recipe(name, fast=True)
    if name in USES_OUTLIERS:
        X, y, meta = with_outliers(train, other)
        model.fit(X, y, **meta)
    else:
        model.fit(train.X, train.y, section=train.section, domain=train.domain)
    scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
    assert scores.shape == (len(test.X),) and np.all(np.isfinite(scores))
    assert model[-1].train_anomaly_scores_.shape == (len(train.X),)  # outlier rows are not scored
    # the safe model file (what the CLI writes) scores exactly as the fitted recipe
    io.dump(model, tmp_path / "m.asd")
    reloaded = io.load(tmp_path / "m.asd")
    np.testing.assert_array_equal(
        anomaly_score(reloaded, test.X, section=test.section, domain=test.domain), scores
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_first_shot_one_section_ten_clips(name, routing):
    """DCASE 2024's setting: one machine, one section, no attributes, a handful of clips."""
    kw = dict(n_sections=1, duration=2.1, random_state=1)
    train = make_machine_sounds(n_normal={"source": 10}, domains=("source",), split="train", **kw)
    test = make_machine_sounds(n_normal=2, n_anomalous=2, domains=("source",), **kw)
    model = make_recipe(name, fast=True)
    model.fit(train.X, train.y, section=train.section, domain=train.domain)
    scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
    assert scores.shape == (4,) and np.all(np.isfinite(scores))


@pytest.mark.slow
def test_grid_search_over_n_mels_featurizes_outliers_with_each_candidate(machine, routing):
    train, _, other = machine
    X, y, meta = with_outliers(train, other)
    seen = []

    model = make_recipe("kazakova2022", fast=True)
    model.set_params(ae__max_epochs=1)
    original = type(model[-1])._fit

    def spy(self, S, y, section, domain, outlier):
        seen.append((S.shape[1], int(outlier.sum())))
        return original(self, S, y, section, domain, outlier)

    type(model[-1])._fit = spy
    try:
        anomaly = np.zeros(len(X), int)
        search = GridSearchCV(
            model,
            {"logmel__n_mels": [32, 64]},
            scoring=dcase_scorer,
            cv=NormalOnlyKFold(n_splits=2, shuffle=True, random_state=0),
            refit=False,
        )
        # the test folds need anomalies: add the test clips
        test = make_machine_sounds(n_normal=2, n_anomalous=2, n_sections=2, duration=2.1, random_state=0)
        XA = np.concatenate([X, test.X])
        search.fit(
            XA,
            np.r_[y, test.y],
            anomaly=np.r_[anomaly, test.anomaly],
            section=np.r_[meta["section"], test.section],
            domain=np.r_[meta["domain"], test.domain],
            outlier=np.r_[meta["outlier"], np.zeros(len(test.X), bool)],
        )
    finally:
        type(model[-1])._fit = original
    assert {bands for bands, _ in seen} == {32, 64}
    # every candidate's every fold trained on all the outlier rows, in its own bands
    assert all(n_out == len(other.X) for _, n_out in seen)


@pytest.mark.slow
def test_giri_scores_a_warped_clip_as_anomalous(routing):
    """Warped copies are classes of their own: a clip that looks warped is not its section's.

    12 clips against their warped copies: one seed's AUC moves with float rounding (0.70-0.97
    over seeds 0-3), so two seeds, each well above chance and their mean above 0.75.
    """
    kw = dict(n_sections=2, duration=1.5, random_state=2)
    train = make_machine_sounds(n_normal={"source": 10}, domains=("source",), split="train", **kw)
    test = make_machine_sounds(n_normal=6, n_anomalous=0, domains=("source",), **kw)
    aucs = []
    for random_state in (0, 1):
        model = giri2020(machine_type="ToyCar", ensemble=False, fast=True, random_state=random_state)
        # small clips: shorter patches, more steps than the CPU setting's 8 epochs of 10-s clips
        model.set_params(
            score__estimator__patch_frames=32,
            score__estimator__patch_hop=8,
            score__estimator__max_epochs=12,
            score__estimator__validation_fraction=None,
        )
        model.fit(train.X, train.y, section=train.section)
        S = model[0].transform(test.X)
        warped = warp_frequency(S, warp_positions(S.shape[1], 0.95))
        detector = model[-1]
        normal = detector.anomaly_score(S, section=test.section)
        odd = detector.anomaly_score(warped, section=test.section)
        aucs.append(roc_auc(np.r_[np.zeros(len(S)), np.ones(len(S))], np.r_[normal, odd]))
    assert min(aucs) > 0.6 and np.mean(aucs) > 0.75, aucs


@pytest.mark.parametrize("machine_type", sorted(GIRI_MACHINE_TABLE))
def test_giri_follows_the_per_machine_table(machine_type):
    space, warp, epochs = GIRI_MACHINE_TABLE[machine_type]
    score = giri2020(machine_type=machine_type, ensemble=False)[-1]
    embedder = score.estimator
    augment = embedder.augment
    assert any(isinstance(a, SpectralWarp) and tuple(a.alphas) == (0.95, 1.05) for a in augment) == warp
    mix = [a for a in augment if isinstance(a, Mixup)][0]
    assert mix.space == space and mix.pairs == "across_classes"
    assert embedder.max_epochs == epochs and embedder.lr == 1e-4
    assert (embedder.module__width_mult, embedder.patch_frames, embedder.patch_hop) == (0.5, 64, 8)
    assert score.kind == "prob"
    members = dict(giri2020(machine_type=machine_type).steps[-1][1].estimators)
    assert members["resnet50"].estimator.get_params()["module__depth"] == 50
    with pytest.raises(ValueError, match="machine_type must be one of"):
        giri2020(machine_type="gearbox")


def test_hai2024_is_models_a_and_b():
    import torch

    from sklearn_asd.augment import SMOTE
    from sklearn_asd.detectors import OEVAE, KMeansCosineDetector, StandardizedEnsemble
    from sklearn_asd.recipes import hai2024

    ensemble = hai2024()[-1]
    assert isinstance(ensemble, StandardizedEnsemble) and ensemble.per_section
    parts = dict(ensemble.estimators)
    assert list(parts) == ["dual_branch", "oevae"]
    embed, detect = (step for _, step in parts["dual_branch"].steps)
    assert (embed.module, embed.head, embed.optimizer, embed.max_epochs) == (
        "dualbranch",
        "subcluster_adacos",
        torch.optim.Adamax,
        20,
    )
    assert [type(a) for a in embed.augment] == [SMOTE]
    assert isinstance(detect, KMeansCosineDetector) and detect.per_section
    logmel, oevae = (step for _, step in parts["oevae"].steps)
    assert isinstance(oevae, OEVAE) and (logmel.n_mels, logmel.fmin, logmel.fmax) == (224, 50.0, 7800.0)
    # the parts are recipes of their own, with the same settings
    assert make_recipe("hai2024_oevae").get_params()["oevae__max_epochs"] == 20
    assert make_recipe("hai2024_dual_branch", fast=True).get_params()["embed__max_epochs"] == 5


def test_asdkit_recipes_settings():
    import torch

    from sklearn_asd.detectors import DomainKNNDetector

    for name, n_ffts, head in (
        ("wilkinghoff2024_featex", (1024,), "featex"),
        ("fujimura2025_multires", (256, 1024, 4096), "subcluster_adacos"),
    ):
        embed, detect = (step for _, step in make_recipe(name).steps)
        p = embed.get_params()
        # ASDKit's training: whole clips, batch 64, 16 epochs, AdamW 1e-3, mixup of any two clips
        assert (p["module"], p["module__n_ffts"], p["module__branch_dim"], p["head"]) == (
            "multires",
            n_ffts,
            128,
            head,
        )
        assert (p["segment_samples"], p["batch_size"], p["max_epochs"], p["lr"]) == (None, 64, 16, 1e-3)
        assert p["optimizer"] is torch.optim.AdamW
        (mixup,) = p["augment"]
        assert isinstance(mixup, Mixup) and (mixup.pairs, mixup.alpha, mixup.n_samples) == ("any", 1.0, None)
        assert p["head__n_subclusters"] == 16
        # its Knn back-end: cosine 1-NN per section, SMOTE on the target references (0.2, 2)
        assert isinstance(detect, DomainKNNDetector)
        assert (detect.n_neighbors, detect.metric, detect.smote_ratio, detect.smote_neighbors) == (
            1,
            "cosine",
            0.2,
            2,
        )
        assert detect.per_section
        fast = make_recipe(name, fast=True)[0].get_params()
        assert (fast["segment_samples"], fast["segment_hop"], fast["batch_size"]) == (32000, 16000, 32)
    featex = make_recipe("wilkinghoff2024_featex")[0].get_params()
    assert featex["head__prob"] == 0.5 and "head__trainable" not in featex  # FeatEx: fixed main centres
    multires = make_recipe("fujimura2025_multires")[0].get_params()
    assert (multires["head__trainable"], multires["head__dynamic"]) == (True, False)
    assert make_recipe("fujimura2025_multires", fast=True)[0].get_params()["module__branch_dim"] == 64


def test_morita_settings():
    model = morita2021()
    stft, embed, detect = (step for _, step in model.steps)
    assert (stft.n_fft, stft.hop_length, stft.kind, stft.log) == (2048, 512, "power", "db")
    assert (embed.module, embed.head, embed.patch_frames, embed.patch_hop) == (
        "mobilefacenet",
        "arcface",
        32,
        16,
    )
    assert (detect.source.n_neighbors, detect.target.n_neighbors) == (4, 1)
    # ArcFace embeddings are compared by angle, by both members
    assert detect.source.metric == detect.target.metric == "cosine"
    assert detect.standardize  # one scale for source and target clips
    fast = morita2021(fast=True)
    assert (fast[0].n_fft, fast[1].patch_hop, fast[1].max_epochs) == (512, 64, 8)


@pytest.mark.parametrize(("backbone", "aggregate"), [("mobilenetv2", "std"), ("mobilefacenet", "std")])
def test_morita_options(backbone, aggregate, routing):
    model = morita2021(backbone=backbone, aggregate=aggregate, fast=True)
    assert model[1].module == backbone and model[1].aggregate == aggregate
    S = np.random.default_rng(0).normal(-40, 5, size=(6, 64, 40)).astype(np.float32)
    emb = model[1].set_params(max_epochs=1, validation_fraction=None, batch_size=4).fit(S, ["a", "b"] * 3)
    assert emb.transform(S).shape == (6, 128)  # MobileNetV2's 1280 channels projected to 128
    with pytest.raises(ValueError, match="backbone must be one of"):
        morita2021(backbone="vgg")


@pytest.mark.slow
def test_grid_search_tunes_a_backbone_parameter_of_a_classifier_recipe(machine, routing):
    # skorch's convention: the backbone's parameters are the embedder's module__<name>
    train, test, _ = machine
    model = make_recipe("hai2024_dual_branch", fast=True)
    model.set_params(embed__max_epochs=1, embed__module__n_mels=16)
    assert model.get_params()["embed__module__n_mels"] == 16
    search = GridSearchCV(
        model,
        {"embed__module__n_mels": [16, 24]},
        scoring=dcase_scorer,
        cv=NormalOnlyKFold(n_splits=2, shuffle=True, random_state=0),
        refit=True,
    )
    X = np.concatenate([train.X, test.X])
    search.fit(
        X,
        np.r_[train.y, test.y],
        anomaly=np.r_[np.zeros(len(train.X), int), test.anomaly],
        section=np.r_[train.section, test.section],
        domain=np.r_[train.domain, test.domain],
    )
    assert {p["embed__module__n_mels"] for p in search.cv_results_["params"]} == {16, 24}
    # the refitted network was built with the chosen value (its mel filterbank has that many bands)
    fitted = search.best_estimator_["embed"]
    bands = fitted.net_.module_.backbone.logmel.mel_basis.shape[0]
    assert bands == search.best_params_["embed__module__n_mels"]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_the_recipes_guide_lists_each_recipes_options_as_the_registry():
    from pathlib import Path

    from sklearn_asd.recipes import REGISTRY

    guide = Path(__file__).resolve().parents[2] / "docs" / "user_guide" / "recipes.md"
    if not guide.is_file():
        pytest.skip("docs/ is not beside the tests")
    rows = {}
    for line in guide.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[2] in ("yes", "no"):
            rows[cells[0].strip("`")] = cells
    assert list(rows) == list(REGISTRY)
    for name, info in REGISTRY.items():
        options = [o.strip("` ") for o in rows[name][1].split(",")] if rows[name][1] != "none" else []
        assert tuple(options) == info.options, name
        assert (rows[name][2] == "yes") == info.uses_outliers, name
