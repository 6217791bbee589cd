import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.callbacks import Callback, LRScheduler

from sklearn_asd.augment import Mixup, SpectralWarp
from sklearn_asd.datasets import concat_datasets, make_machine_sounds
from sklearn_asd.detectors import KNNDetector, SoftmaxScore
from sklearn_asd.embedders import OUTLIER_CLASS, ClassifierEmbedder, PatchDataset
from sklearn_asd.features import LogMel
from sklearn_asd.metrics import dcase_scorer
from sklearn_asd.model_selection import NormalOnlyKFold
from sklearn_asd.nn._training import build_net

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
TINY = dict(module__width_mult=0.25, patch_frames=16, patch_hop=8, max_epochs=1, batch_size=16)


def clips(n_per_class=6, n_classes=2, n_freqs=32, n_frames=40, seed=0):
    """Spectrogram clips whose class is a band of energy: an easy task."""
    rng = np.random.default_rng(seed)
    X = rng.normal(-60, 3, size=(n_per_class * n_classes, n_freqs, n_frames)).astype(np.float32)
    y = np.repeat([f"section_{c:02d}" for c in range(n_classes)], n_per_class).astype(object)
    for i, c in enumerate(np.repeat(np.arange(n_classes), n_per_class)):
        X[i, 4 + 8 * c : 8 + 8 * c] += 30.0
    return X, y


@parametrize_with_checks([ClassifierEmbedder(random_state=0, **TINY)])
def test_sklearn_compatible(estimator, check):
    # Spectrogram clips are 3-D, which scikit-learn's checks do not generate: its API checks run.
    check(estimator)


def test_patches_are_views_with_their_clips_target():
    X = torch.arange(2 * 3 * 20, dtype=torch.float32).reshape(2, 3, 20)
    ds = PatchDataset(X, torch.tensor([5, 7]), patch_frames=8, patch_hop=4)
    assert ds.n_patches == 4 and len(ds) == 8
    x, y = ds[6]  # clip 1, patch 2
    torch.testing.assert_close(x, X[1, :, 8:16])
    assert int(y) == 7
    assert x.untyped_storage().data_ptr() == X.untyped_storage().data_ptr()  # no copy of the clips


def test_fit_transform_predict_and_learning():
    X, y = clips()
    # 30 epochs: at 15 the training loss is low but the batch-norm statistics of this tiny
    # network are not settled, and the clips' predictions flip with the CPU's arithmetic
    # (0.5-1.0 across machines); at 30 every clip is predicted with p > 0.85
    params = {**TINY, "max_epochs": 30, "lr": 3e-3, "validation_fraction": None}
    emb = ClassifierEmbedder(**params, random_state=0).fit(X, y)
    assert list(emb.classes_) == ["section_00", "section_01"] and emb.validation_accuracy_ is None
    Z = emb.transform(X)
    assert Z.shape == (12, 1280) and Z.dtype == np.float32
    proba = emb.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    # the band is easy to tell apart; the exact figure depends on the torch thread count
    assert (emb.predict(X) == y).mean() >= 0.9
    assert len(emb.net_.history) == 30
    both = emb.set_params(aggregate="mean+std").transform(X)
    assert both.shape == (12, 2560)
    np.testing.assert_allclose(both[:, :1280], Z, rtol=1e-6)


def test_held_out_clips_measure_the_auxiliary_task():
    X, y = clips(n_per_class=10)
    emb = ClassifierEmbedder(**{**TINY, "max_epochs": 4, "lr": 3e-3}, random_state=2).fit(X, y)
    assert emb.n_validation_clips_ == 2  # 10 % of each class's 10 clips
    accs = [h["valid_acc"] for h in emb.net_.history]
    assert len(accs) == 4 and all(a in (0.0, 0.5, 1.0) for a in accs)  # two held-out clips
    assert emb.validation_accuracy_ == accs[-1]
    # the held-out clips are not trained on (18 clips x 4 patches per epoch, not 20 x 4), and the
    # fitted model does not carry them
    assert sum(b["train_batch_size"] for b in emb.net_.history[-1]["batches"]) == 18 * 4
    callback = dict(emb.net_.callbacks_)["valid_acc"]
    assert callback.X is None
    # a deliberately impossible task (random labels) stays near chance on held-out clips
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(40, 32, 40)).astype(np.float32)
    labels = np.repeat(["a", "b"], 20)
    chance = ClassifierEmbedder(**{**TINY, "max_epochs": 2}, random_state=0).fit(noise, labels)
    assert chance.n_validation_clips_ == 4 and chance.validation_accuracy_ <= 0.75


def test_first_shot_single_class_becomes_power_classes():
    """One section, no attributes, no other machines: Hai et al.'s average-power classes."""
    X, _ = clips(n_per_class=10, n_classes=1)
    X += np.linspace(0, 9, 10, dtype=np.float32)[:, None, None]  # clips of rising level
    emb = ClassifierEmbedder(**TINY, random_state=0).fit(X, ["section_00"] * 10)
    assert list(emb.base_classes_) == [f"section_00|power={q}" for q in range(4)]
    assert list(emb.classes_) == list(emb.base_classes_)
    two = ClassifierEmbedder(**TINY, pseudo_classes=2, random_state=0).fit(X, ["section_00"] * 10)
    np.testing.assert_array_equal(two.predict_proba(X).shape, (10, 2))


def test_seeded_training_is_repeatable_and_pickles(tmp_path):
    X, y = clips()
    a = ClassifierEmbedder(random_state=3, **TINY).fit(X, y)
    b = ClassifierEmbedder(random_state=3, **TINY).fit(X, y)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    joblib.dump(a, tmp_path / "emb.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "emb.joblib").transform(X), a.transform(X))


@pytest.mark.parametrize("head", ["arcface", "adacos", "subcluster_adacos"])
def test_margin_heads(head):
    X, y = clips(n_classes=3)
    params = {"subcluster_adacos": {"n_subclusters": 2}, "arcface": {"s": 10.0, "m": 0.2}}.get(head)
    head_params = {f"head__{k}": v for k, v in (params or {}).items()}
    emb = ClassifierEmbedder(head=head, random_state=0, **head_params, **TINY).fit(X, y)
    if params:  # the head was built with them
        head_module = emb.net_.module_.head
        assert {k: getattr(head_module, k) for k in params} == params
    assert emb.predict_proba(X).shape == (18, 3)


def test_augmentation_outliers_and_soft_labels():
    X, y = clips()
    warped = ClassifierEmbedder(augment=SpectralWarp(scale="linear"), random_state=0, **TINY).fit(X, y)
    assert len(warped.classes_) == 6 and "section_00|warp=0.95" in list(warped.classes_)
    mixed = ClassifierEmbedder(augment=[Mixup(random_state=0)], random_state=0, **TINY).fit(X, y)
    assert mixed.net_.criterion_.kind == "kl" and list(mixed.classes_) == ["section_00", "section_01"]
    one_section = y.copy()
    one_section[:] = "section_00"
    rng = np.random.default_rng(1)
    other_machine = rng.normal(-60, 3, size=(4, 32, 40)).astype(np.float32)
    oe = ClassifierEmbedder(random_state=0, **TINY).fit(
        np.concatenate([X, other_machine]),
        np.r_[one_section, ["fan"] * 4],
        outlier=np.r_[np.zeros(len(X), bool), np.ones(4, bool)],
    )
    assert list(oe.classes_) == ["section_00", OUTLIER_CLASS] and list(oe.base_classes_) == ["section_00"]
    # "auto": several classes learn without the other machine; True adds it
    XO = np.concatenate([X, other_machine])
    yO, maskO = np.r_[y, ["fan"] * 4], np.r_[np.zeros(len(X), bool), np.ones(4, bool)]
    auto = ClassifierEmbedder(random_state=0, **TINY).fit(XO, yO, outlier=maskO)
    assert OUTLIER_CLASS not in list(auto.classes_) and not auto.outlier_exposure_
    always = ClassifierEmbedder(outlier_exposure=True, random_state=0, **TINY).fit(XO, yO, outlier=maskO)
    assert list(always.classes_)[-1] == OUTLIER_CLASS and always.outlier_exposure_


def test_embedder_says_what_each_class_is_as_arrays():
    X, y = clips()
    warped = ClassifierEmbedder(augment=[SpectralWarp(alphas=(0.95,))], random_state=0, **TINY)
    rng = np.random.default_rng(1)
    XO = np.concatenate([X, rng.normal(-60, 3, size=(4, 32, 40)).astype(np.float32)])
    mask = np.r_[np.zeros(len(X), bool), np.ones(4, bool)]
    warped.set_params(outlier_exposure=True).fit(XO, np.r_[y, ["fan"] * 4], outlier=mask)
    kinds = dict(zip(warped.classes_, warped.class_kind_))
    origins = dict(zip(warped.classes_, warped.class_origin_))
    assert kinds == {
        "section_00": "normal",
        "section_00|warp=0.95": "augmented",
        "section_01": "normal",
        "section_01|warp=0.95": "augmented",
        OUTLIER_CLASS: "outlier",
    }
    assert origins["section_01"] == "section_01" and origins["section_00|warp=0.95"] is None
    assert origins[OUTLIER_CLASS] is None
    one = np.full(len(X), "section_00", dtype=object)
    power = ClassifierEmbedder(pseudo_classes=3, random_state=0, **TINY).fit(X, one)
    assert list(power.class_kind_) == ["power"] * 3 and list(power.class_origin_) == ["section_00"] * 3
    machine = ClassifierEmbedder(target="machine", random_state=0, **TINY).fit(
        XO, np.r_[y, ["fan"] * 4], outlier=mask
    )
    # one class standing for clips of two sections: no single origin
    assert list(machine.class_kind_) == ["normal", "outlier"] and machine.class_origin_[0] is None


def test_other_backbones():
    X, y = clips(n_frames=32)
    face = ClassifierEmbedder("mobilefacenet", patch_frames=16, patch_hop=16, max_epochs=1, random_state=0)
    assert face.fit(X, y).transform(X).shape == (12, 128)
    res = ClassifierEmbedder(
        "resnet",
        **{
            **{k: v for k, v in TINY.items() if not k.startswith("module__")},
            "module__depth": 18,
            "module__embedding_dim": 64,
        },
    )
    assert res.fit(X, y).transform(X).shape == (12, 64)
    waves = np.random.default_rng(0).normal(size=(6, 4096)).astype(np.float32)
    stgram = ClassifierEmbedder("stgramnet", module__n_mels=32, max_epochs=1, batch_size=4, random_state=0)
    assert stgram.fit(waves, y[::2]).transform(waves).shape == (6, 512)


def test_mixed_precision_path_runs_on_cpu():
    X, y = clips()
    emb = ClassifierEmbedder(mixed_precision=True, device="cpu", random_state=0, **TINY).fit(X, y)
    assert emb.net_.mixed_precision is True
    Z = emb.transform(X)
    assert Z.dtype == np.float32 and np.all(np.isfinite(Z))
    assert ClassifierEmbedder(device="cpu", **TINY).fit(X, y).net_.mixed_precision is False  # "auto" on CPU


def test_callbacks_pass_through():
    seen = []

    class Record(Callback):
        def on_epoch_end(self, net, **kwargs):
            seen.append(net.history[-1]["train_loss"])

    X, y = clips()
    ClassifierEmbedder(callbacks=[Record()], random_state=0, **{**TINY, "max_epochs": 3}).fit(X, y)
    assert len(seen) == 3 and all(np.isfinite(seen))


def test_each_fit_trains_with_fresh_copies_of_the_callbacks():
    # skorch fills the callbacks it trains with (an LRScheduler keeps a torch scheduler bound to
    # the optimizer): the parameter's own objects must stay as given, so that fit changes no
    # parameter and a second fit schedules from the start again
    X, y = clips()
    schedule = LRScheduler(policy="CosineAnnealingLR", T_max=4)
    emb = ClassifierEmbedder(callbacks=[("lr", schedule)], random_state=0, **{**TINY, "max_epochs": 4})
    before = joblib.hash(emb.get_params())
    for _ in range(2):
        emb.fit(X, y)
        assert emb.net_.history[:, "event_lr"] == pytest.approx([1e-4, 0.854e-4, 0.5e-4, 0.146e-4], abs=1e-7)
    assert joblib.hash(emb.get_params()) == before and not hasattr(schedule, "lr_scheduler_")
    assert dict(emb.net_.callbacks_)["lr"] is not schedule


def test_bad_input_is_caught_before_training():
    X, y = clips()
    with pytest.raises(ValueError, match="every training clip is marked outlier=True"):
        ClassifierEmbedder(**TINY).fit(X, y, outlier=np.ones(len(X), bool))
    with pytest.raises(ValueError, match="takes spectrograms .* put a feature step"):
        ClassifierEmbedder(**TINY).fit(X[:, :, 0], y)
    with pytest.raises(ValueError, match="fewer than patch_frames=64"):
        ClassifierEmbedder(patch_frames=64).fit(X, y)
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ClassifierEmbedder(**TINY).fit(bad, y)
    with pytest.raises(ValueError, match="requires y"):
        ClassifierEmbedder(**TINY).fit(X, None)
    fitted = ClassifierEmbedder(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="fitted on clips of shape"):
        fitted.transform(X[:, :16])


@pytest.mark.slow
def test_grid_search_of_embedder_pipelines_with_dcase_scorer(routing):
    kw = dict(n_sections=2, duration=1.0, random_state=0)
    data = concat_datasets(
        make_machine_sounds(n_normal={"source": 8, "target": 2}, split="train", **kw),
        make_machine_sounds(n_normal=3, n_anomalous=3, **kw),
    )
    embedder = ClassifierEmbedder(random_state=0, **TINY)
    cv = NormalOnlyKFold(2, shuffle=True, random_state=0)
    fit_params = dict(anomaly=data.anomaly, section=data.section, domain=data.domain)
    knn = Pipeline(
        [("logmel", LogMel(n_mels=32)), ("embed", embedder), ("knn", KNNDetector(per_section=True))]
    )
    search = GridSearchCV(
        knn, {"embed__lr": [1e-4, 1e-3]}, scoring=dcase_scorer, cv=cv, refit=False, error_score="raise"
    )
    search.fit(data.X, data.y, **fit_params)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    softmax = Pipeline([("logmel", LogMel(n_mels=32)), ("score", SoftmaxScore(embedder))])
    search = GridSearchCV(
        softmax,
        {"score__kind": ["prob", "log_odds"]},
        scoring=dcase_scorer,
        cv=cv,
        refit=False,
        error_score="raise",
    )
    search.fit(data.X, data.y, **fit_params)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a machine without a GPU")
@pytest.mark.filterwarnings("ignore:Requested to load data to CUDA:UserWarning")  # skorch says it twice
def test_a_cuda_model_file_loads_and_scores_on_a_machine_without_gpu(tmp_path):
    # What a file written on a GPU machine holds: the net's device is "cuda". skorch maps its
    # tensors to the CPU when no GPU is present, and scoring then runs there.
    X, y = clips()
    emb = ClassifierEmbedder(device="cpu", random_state=0, **TINY).fit(X, y)
    expected = emb.transform(X)
    emb.net_.device = "cuda"
    joblib.dump(emb, tmp_path / "emb.joblib")
    with pytest.warns(UserWarning, match=r"requested device \(cuda\) is not available"):
        loaded = joblib.load(tmp_path / "emb.joblib")
    assert str(loaded.net_.device) == "cpu"
    np.testing.assert_allclose(loaded.transform(X), expected, rtol=1e-6)


@cuda
def test_trained_on_cuda_scores_on_cpu(tmp_path):
    X, y = clips()
    emb = ClassifierEmbedder(device="cuda", random_state=0, **TINY).fit(X, y)
    gpu = emb.transform(X)
    joblib.dump(emb, tmp_path / "emb.joblib")
    cpu = joblib.load(tmp_path / "emb.joblib")
    cpu.net_.set_params(device="cpu")
    cpu.net_.module_.to("cpu")
    np.testing.assert_allclose(cpu.transform(X), gpu, atol=1e-4)


def test_a_last_batch_of_one_patch_is_left_out():
    """Batch normalization cannot train on one patch: 17 patches in batches of 16 still fit."""
    X, y = clips(n_per_class=17, n_classes=1, n_frames=16)
    y = np.repeat(["section_00", "section_01"], [9, 8])
    emb = ClassifierEmbedder("mobilefacenet", patch_frames=16, max_epochs=1, batch_size=16)
    emb.set_params(validation_fraction=None, random_state=0).fit(X, y)
    assert emb.net_.get_params()["iterator_train__drop_last"] is True


class TinyBackbone(torch.nn.Module):
    """The backbone contract: patches (batch, n_freqs, frames) -> (batch, embedding_dim)."""

    def __init__(self, embedding_dim=8):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.proj = torch.nn.Linear(32, embedding_dim)

    def forward(self, x):
        return self.proj(x.mean(dim=-1))


def test_a_custom_backbone_class_follows_the_contract():
    X, y = clips()
    emb = ClassifierEmbedder(TinyBackbone, module__embedding_dim=5, patch_frames=16, max_epochs=2)
    emb.set_params(random_state=0, validation_fraction=None).fit(X, y)
    assert emb.embedding_dim_ == 5 and emb.transform(X).shape == (12, 5)


def test_waveform_backbones_train_on_segments():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(8, 4000)).astype(np.float32)
    y = ["id_00"] * 4 + ["id_02"] * 4
    emb = ClassifierEmbedder(
        "stgramnet",
        module__n_mels=16,
        segment_samples=1600,
        segment_hop=800,
        max_epochs=1,
        batch_size=4,
        validation_fraction=None,
        random_state=0,
    ).fit(X, y)
    # the network is built for 1600-sample segments, and a clip's probabilities are the mean of
    # its 4 segments'
    assert emb._net_spec["module_kwargs"]["backbone_params"]["n_samples"] == 1600
    proba = emb.predict_proba(X)
    assert proba.shape == (8, 2)
    module = emb.net_.module_.eval()
    with torch.no_grad():
        segments = [
            torch.softmax(module(torch.as_tensor(X[:, s : s + 1600])), 1).numpy() for s in range(0, 2401, 800)
        ]
    np.testing.assert_allclose(proba, np.mean(segments, axis=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="fewer than segment_samples=1600"):
        ClassifierEmbedder("stgramnet", segment_samples=1600, max_epochs=1).fit(X[:, :1000], y)


def test_multires_with_feature_exchange_trains_both_heads_on_mixed_waveforms(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 4000)).astype(np.float32)
    X[6:] += np.sin(np.arange(4000) * 0.3).astype(np.float32)  # the second class has a tone
    y = ["id_00"] * 6 + ["id_02"] * 6
    kw = dict(
        module__n_ffts=(256,),
        module__branch_dim=8,
        augment=[Mixup(pairs="any", random_state=0)],
        max_epochs=2,
        batch_size=8,
        lr=1e-3,
        validation_fraction=None,
        random_state=0,
    )
    emb = ClassifierEmbedder("multires", head="featex", head__n_subclusters=2, **kw).fit(X, y)
    head = emb.net_.module_.head
    assert head.branch_dims == (8, 8) and emb.transform(X).shape == (12, 16)
    # the exchange head learns (its loss is added to the main one); the main head's centres stay
    start = build_net(emb._net_spec, random_state=0, device="cpu").module.head  # the initial weights
    assert not torch.equal(head.exchange.weight, start.exchange.weight)
    assert torch.equal(head.main.weight, start.main.weight)
    joblib.dump(emb, tmp_path / "e.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "e.joblib").transform(X), emb.transform(X))
    # Mixup's soft targets reach the AdaCos family (an adaptive scale moves with them)
    adacos = ClassifierEmbedder("multires", head="subcluster_adacos", head__n_subclusters=2, **kw).fit(X, y)
    assert float(adacos.net_.module_.head.s) != pytest.approx(np.sqrt(2) * np.log(3))
    with pytest.raises(ValueError, match="has no branches"):
        ClassifierEmbedder("stgramnet", head="featex", module__n_mels=16, max_epochs=1).fit(X, y)


def test_arcface_refuses_mixup_soft_targets_instead_of_dropping_its_margin():
    X, y = clips(n_classes=3)
    emb = ClassifierEmbedder(head="arcface", augment=[Mixup(random_state=0)], random_state=0, **TINY)
    with pytest.raises(
        ValueError, match="need hard class targets; soft labels \\(Mixup\\) train the softmax"
    ):
        emb.fit(X, y)
