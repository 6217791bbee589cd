import pickle
import warnings

import librosa
import numpy as np
import pytest
from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_asd.augment import (
    SMOTE,
    Mixup,
    PitchShift,
    SamplerPipeline,
    SpecMask,
    SpectralWarp,
    TimeStretch,
    as_sampler,
    warp_positions,
)
from sklearn_asd.datasets import concat_datasets, make_machine_sounds
from sklearn_asd.detectors import KNNDetector
from sklearn_asd.features import LogMel, Pool
from sklearn_asd.metrics import auc_scorer
from sklearn_asd.model_selection import NormalOnlyKFold


def spectrograms(n=6, n_bins=32, n_frames=10, seed=0):
    return np.random.default_rng(seed).normal(-40.0, 6.0, size=(n, n_bins, n_frames))


LABELS = np.array(["id_00", "id_00", "id_02", "id_02", "id_04", "id_04"], dtype=object)


# ------------------------------------------------------------------ SpectralWarp


@pytest.mark.parametrize("alpha", [0.95, 1.05, 0.8, 1.25])
@pytest.mark.parametrize("scale", ["linear", "mel"])
@pytest.mark.parametrize("tone_bin", [20, 45, 90])
def test_warp_moves_a_tone_to_the_predicted_bin(alpha, scale, tone_bin):
    n_bins, sr = 128, 16000
    S = np.full((1, n_bins, 3), -80.0)
    S[0, tone_bin] = 0.0
    warped, _ = SpectralWarp(alphas=(alpha,), scale=scale, keep_original=False).fit_resample(S, ["s"])
    if scale == "linear":
        centres, f_max = np.arange(n_bins, dtype=float), n_bins - 1.0
    else:
        centres, f_max = librosa.mel_frequencies(n_mels=n_bins + 2, fmax=sr / 2)[1:-1], sr / 2
    moved_to = f_max * (centres[tone_bin] / f_max) ** alpha  # the formula, in frequency
    predicted_bin = np.interp(moved_to, centres, np.arange(n_bins))
    assert abs(int(warped[0, :, 0].argmax()) - predicted_bin) <= 1.0


def test_warp_of_a_real_tone_in_logmel():
    sr, f0 = 16000, 1000.0
    x = np.sin(2 * np.pi * f0 * np.arange(sr) / sr)[None].astype(np.float32)
    S = LogMel(n_mels=128).fit_transform(x)
    centres = librosa.mel_frequencies(n_mels=130, fmax=sr / 2)[1:-1]
    for alpha in (0.95, 1.05):
        warped, _ = SpectralWarp(alphas=(alpha,), keep_original=False).fit_resample(S, ["s"])
        peak_hz = centres[warped[0].mean(axis=1).argmax()]
        expected = sr / 2 * (f0 / (sr / 2)) ** alpha  # 1,000 Hz -> 1,109 Hz (0.95) / 902 Hz (1.05)
        assert abs(peak_hz - expected) < 0.05 * expected


@pytest.mark.parametrize("scale", ["linear", "mel"])
def test_alpha_one_is_the_identity(scale):
    S = spectrograms()
    X, _ = SpectralWarp(alphas=(1.0,), scale=scale, keep_original=False).fit_resample(S, LABELS)
    np.testing.assert_allclose(X, S, atol=1e-9)
    np.testing.assert_allclose(warp_positions(40, 1.0, scale=scale), np.arange(40), atol=1e-9)


def test_warp_labels_masks_and_errors():
    S = spectrograms()
    warp = SpectralWarp()
    X, y = warp.fit_resample(S, LABELS)
    assert X.shape == (18, 32, 10)
    assert list(y[6:8]) == ["id_00|warp=0.95", "id_00|warp=0.95"] and y[12] == "id_00|warp=1.05"
    assert list(warp.synthetic_mask_) == [False] * 6 + [True] * 12
    np.testing.assert_array_equal(warp.sample_indices_, np.r_[np.arange(6), np.arange(6), np.arange(6)])
    assert len(warp.classes_) == 9
    same, y_same = SpectralWarp(new_classes=False).fit_resample(S, LABELS)
    assert set(y_same) == set(LABELS)
    with pytest.raises(ValueError, match="spectrograms of shape .*put it after a feature step"):
        SpectralWarp().fit_resample(np.zeros((2, 16000)), ["a", "b"])
    with pytest.raises(ValueError, match="put SpectralWarp first"):
        SpectralWarp().fit_resample(S, np.full((6, 2), 0.5))


# ------------------------------------------------------------------ Mixup


def test_mixup_soft_labels_reproduce_the_proportions():
    S = spectrograms()
    mix = Mixup(n_samples=50, random_state=0)
    X, y = mix.fit_resample(S, LABELS)
    assert X.shape == (56, 32, 10) and y.shape == (56, 3)
    np.testing.assert_allclose(y.sum(axis=1), 1.0)
    np.testing.assert_array_equal(y[:6], np.eye(3)[np.searchsorted(mix.classes_, LABELS)])
    for k, ((i, j), lam) in enumerate(zip(mix.mix_pairs_, mix.mix_weights_)):
        assert LABELS[i] != LABELS[j]  # across classes
        np.testing.assert_allclose(X[6 + k], lam * S[i] + (1 - lam) * S[j])
        expected = np.zeros(3)
        expected[np.searchsorted(mix.classes_, LABELS[i])] += lam
        expected[np.searchsorted(mix.classes_, LABELS[j])] += 1 - lam
        np.testing.assert_allclose(y[6 + k], expected)


def test_pre_log_mixing_equals_mixing_power():
    S = spectrograms()
    mix = Mixup(n_samples=20, space="pre_log", random_state=1)
    X, _ = mix.fit_resample(S, LABELS)
    power = 10.0 ** (S / 10.0)
    for k, ((i, j), lam) in enumerate(zip(mix.mix_pairs_, mix.mix_weights_)):
        mixed_power = lam * power[i] + (1 - lam) * power[j]
        np.testing.assert_allclose(10.0 ** (X[6 + k] / 10.0), mixed_power, rtol=1e-9)


def test_mixup_pair_modes_hard_labels_and_errors():
    S = spectrograms()
    within = Mixup(n_samples=30, pairs="within_class", random_state=0).fit(S, LABELS)
    assert all(LABELS[i] == LABELS[j] and i != j for i, j in within.mix_pairs_)
    X, y = Mixup(n_samples=10, soft_labels=False, random_state=0).fit_resample(S, LABELS)
    assert y.ndim == 1 and set(y) <= set(LABELS)
    # soft labels in (from an earlier Mixup), soft labels out
    _, soft = Mixup(n_samples=4, random_state=0).fit_resample(S, LABELS)
    X2, soft2 = Mixup(n_samples=4, random_state=0).fit_resample(np.concatenate([S, S[:4]]), soft)
    np.testing.assert_allclose(soft2.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="needs clips of two different classes"):
        Mixup().fit_resample(S, ["id_00"] * 6)
    # waveforms mix sample by sample (the sum of two sounds); their dB powers do not exist
    W = np.random.default_rng(0).normal(size=(6, 100))
    mix = Mixup(n_samples=5, pairs="any", random_state=0)
    Xw, yw = mix.fit_resample(W, LABELS)
    (i, j), lam = mix.mix_pairs_[0], mix.mix_weights_[0]
    assert Xw.shape == (11, 100) and yw.shape == (11, len(set(LABELS)))
    np.testing.assert_allclose(Xw[6], lam * W[i] + (1 - lam) * W[j])
    with pytest.raises(ValueError, match="space='pre_log'.*waveforms mix with space='post_log'"):
        Mixup(space="pre_log").fit_resample(W, LABELS)
    a = Mixup(n_samples=8, random_state=3).fit_resample(S, LABELS)
    b = Mixup(n_samples=8, random_state=3).fit_resample(S, LABELS)
    np.testing.assert_array_equal(a[0], b[0])


# ------------------------------------------------------------------ SMOTE


def test_smote_balances_spectrograms_and_lowers_k():
    S = spectrograms(n=13)
    y = np.array(["s|source"] * 10 + ["s|target"] * 3, dtype=object)
    smote = SMOTE(random_state=0)
    with pytest.warns(UserWarning, match="k_neighbors is lowered from 5 to 2"):
        X, y_res = smote.fit_resample(S, y)
    assert X.shape == (20, 32, 10) and smote.k_neighbors_ == 2
    assert (y_res == "s|target").sum() == 10
    np.testing.assert_array_equal(X[:13], S)
    # every synthetic clip lies between two target clips: inside their bounding box
    targets = S[10:]
    for clip in X[13:]:
        assert np.all(clip >= targets.min(axis=0) - 1e-9) and np.all(clip <= targets.max(axis=0) + 1e-9)
    assert list(smote.sample_indices_[13:]) == [-1] * 7


def test_smote_single_class_and_errors():
    S = spectrograms(n=4)
    X, y = SMOTE().fit_resample(S, ["s"] * 4)
    assert X.shape == S.shape and not SMOTE().fit(S, ["s"] * 4).synthetic_mask_.any()
    with pytest.raises(ValueError, match="class 'b' has 1"):
        SMOTE().fit_resample(S, ["a", "a", "a", "b"])
    with pytest.raises(ValueError, match="needs hard labels"):
        SMOTE().fit_resample(S, np.full((4, 2), 0.5))
    emb = np.random.default_rng(0).normal(size=(12, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, _ = SMOTE(k_neighbors=2).fit_resample(emb, ["a"] * 8 + ["b"] * 4)
    assert X.shape == (16, 8)


# ------------------------------------------------------------------ waveforms and masks


def test_time_stretch_and_pitch_shift():
    sr = 16000
    x = np.sin(2 * np.pi * 500 * np.arange(sr) / sr)[None]
    X, y = TimeStretch(rates=(0.5, 2.0), new_classes=True).fit_resample(x, ["id_00"])
    assert X.shape == (3, sr) and list(y) == ["id_00", "id_00|stretch=0.5", "id_00|stretch=2"]
    assert np.all(X[2, sr // 2 + 100 :] == 0)  # twice as fast: the second half is padding
    np.testing.assert_allclose(X[1], librosa.effects.time_stretch(x[0], rate=0.5)[:sr])
    P, _ = PitchShift(n_steps=(-12, 12), sr=sr).fit_resample(x, ["id_00"])
    freqs = [np.abs(np.fft.rfft(p)).argmax() for p in P]
    assert freqs == [500, 250, 1000]
    with pytest.raises(ValueError, match="waveforms of shape .*before the feature step"):
        TimeStretch().fit_resample(spectrograms(), LABELS)


def test_spec_mask_sets_bands_to_the_mean():
    S = spectrograms(n=2)
    mask = SpecMask(n_copies=3, max_freq_width=5, max_time_width=3, random_state=0)
    X, y = mask.fit_resample(S, LABELS[:2])
    assert X.shape == (8, 32, 10) and list(y) == list(LABELS[:2]) * 4
    for k, clip in enumerate(X[2:]):
        source = S[mask.sample_indices_[2 + k]]
        changed = clip != source
        assert np.all(clip[changed] == source.mean())
        rows, cols = np.nonzero(changed)
        if rows.size:
            full_rows = [r for r in set(rows) if changed[r].all()]
            full_cols = [c for c in set(cols) if changed[:, c].all()]
            assert len(full_rows) <= 5 and len(full_cols) <= 3


# ------------------------------------------------------------------ composition and pipelines


def test_sampler_pipeline_tracks_synthetic_clips():
    S = spectrograms()
    pipe = as_sampler([SpectralWarp(scale="linear"), Mixup(n_samples=5, random_state=0)])
    assert isinstance(pipe, SamplerPipeline)
    X, y = pipe.fit_resample(S, LABELS)
    assert X.shape == (23, 32, 10) and y.shape == (23, 9)
    assert pipe.synthetic_mask_.sum() == 17 and not pipe.synthetic_mask_[:6].any()
    np.testing.assert_array_equal(pipe.sample_indices_[:18], np.tile(np.arange(6), 3))
    assert pipe.get_params()["spectralwarp0__alphas"] == (0.95, 1.05)
    smote_pipe = SamplerPipeline([("warp", SpectralWarp(new_classes=False)), ("smote", SMOTE(k_neighbors=2))])
    _, y_s = smote_pipe.fit_resample(S[:5], LABELS[:5])
    assert np.all(smote_pipe.sample_indices_[smote_pipe.synthetic_mask_][-1:] == -1)
    assert as_sampler(None) is None
    with pytest.raises(TypeError, match="augment must be"):
        as_sampler("warp")


def test_keep_original_false_and_pickle():
    S = spectrograms()
    warp = SpectralWarp(keep_original=False)
    X, y = warp.fit_resample(S, LABELS)
    assert X.shape == (12, 32, 10) and warp.synthetic_mask_.all()
    again = pickle.loads(pickle.dumps(warp))
    np.testing.assert_array_equal(again.fit_resample(S, LABELS)[0], X)


def test_in_imblearn_pipeline_with_grid_search_and_skipped_at_predict(routing):
    kw = dict(n_sections=2, duration=1.0, random_state=0)
    data = concat_datasets(
        make_machine_sounds(n_normal={"source": 12, "target": 2}, split="train", **kw),
        make_machine_sounds(n_normal=4, n_anomalous=4, **kw),
    )
    features = LogMel(n_mels=32).fit(data.X).transform(data.X)
    # the detector takes its (unused) classes from y: metadata cannot follow the resampling
    detector = KNNDetector(metric="euclidean").set_fit_request(section=False, domain=False)
    pipe = ImbPipeline(
        [
            ("warp", SpectralWarp(sr=16000)),
            ("mix", Mixup(random_state=0)),
            ("pool", Pool("mean+std")),
            ("knn", detector),
        ]
    )
    search = GridSearchCV(
        pipe,
        {"warp__alphas": [(0.95, 1.05), (0.9,)], "mix__alpha": [0.2, 1.0]},
        scoring=auc_scorer,
        cv=NormalOnlyKFold(2, shuffle=True, random_state=0),
        refit=False,
        error_score="raise",
    )
    search.fit(features, data.y, anomaly=data.anomaly, section=data.section, domain=data.domain)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    normal = data.anomaly == 0
    fitted = pipe.fit(features[normal], data.y[normal])
    n_train = normal.sum()
    assert len(fitted[-1].train_anomaly_scores_) == n_train * 3 * 2  # warped twice, then mixed
    # at predict time the samplers are skipped: one score per clip
    assert fitted.decision_function(features, section=data.section, domain=data.domain).shape == (
        len(features),
    )


# The checks feed clips of a few samples: librosa warns that its effects' FFT exceeds them.
@pytest.mark.filterwarnings("ignore:n_fft=.*is too large:UserWarning")
@parametrize_with_checks(
    [
        SMOTE(k_neighbors=2),
        TimeStretch(),
        PitchShift(),
        SpectralWarp(),
        Mixup(random_state=0),
        SpecMask(random_state=0),
        SamplerPipeline([("warp", SpectralWarp())]),
    ]
)
def test_sklearn_compatible(estimator, check):
    # Spectrogram samplers take 3-D input, which scikit-learn's checks do not generate: they
    # run its API checks only; the tests above cover their behaviour.
    check(estimator)


def test_routed_fit_metadata_after_a_sampler_says_what_to_do(routing):
    S = spectrograms()
    pipe = ImbPipeline([("warp", SpectralWarp()), ("pool", Pool()), ("knn", KNNDetector(per_section=True))])
    with pytest.raises(
        ValueError, match=r"sampler earlier in the pipeline .* set_fit_request\(section=False\)"
    ):
        pipe.fit(S, LABELS, section=LABELS)
