import joblib
import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_asd.detectors import (
    AutoEncoderDetector,
    GroupMADEDetector,
    MahalanobisDetector,
    OutlierExposureLoss,
)
from sklearn_asd.detectors._autoencoder import dense_autoencoder
from sklearn_asd.features import FrameStack
from sklearn_asd.features._framing import stack_frames
from sklearn_asd.metrics import roc_auc

FAST = dict(max_epochs=30, batch_size=128, lr=3e-3, random_state=0)


@parametrize_with_checks([AutoEncoderDetector(max_epochs=1, random_state=0)])
def test_sklearn_compatible(estimator, check):
    # It takes 3-D log-mel clips, which scikit-learn's checks do not generate: its API checks run.
    check(estimator)


def normal_clips(n=24, n_mels=16, n_frames=20, seed=0):
    rng = np.random.default_rng(seed)
    profile = 2.0 - 0.25 * np.arange(n_mels)[:, None]  # a smooth spectral slope (standardized dB)
    return (profile + rng.normal(0, 0.3, size=(n, n_mels, n_frames))).astype(np.float32)


def test_network_is_the_baseline():
    net = dense_autoencoder(640)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == (
        [(640, 128)] + [(128, 128)] * 3 + [(128, 8), (8, 128)] + [(128, 128)] * 3 + [(128, 640)]
    )
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in net) == 9
    assert sum(isinstance(m, torch.nn.ReLU) for m in net) == 9


def test_vectors_are_the_baselines_stacked_frames():
    S = normal_clips(n=2)
    V = stack_frames(S, 5)
    assert V.shape == (2, 16, 80)
    np.testing.assert_array_equal(V, FrameStack(5).fit_transform(S).transpose(0, 2, 1))


def test_score_is_the_mean_reconstruction_error_and_detects_anomalies():
    S = normal_clips()
    det = AutoEncoderDetector(n_frames=5, **FAST).fit(S)
    test = normal_clips(n=10, seed=1)
    anomalous = test.copy()
    anomalous[5:, 6:9, :] += 3.0  # a new resonance
    scores = det.anomaly_score(anomalous)
    V = stack_frames(anomalous, 5)
    recon = det.net_.predict(V.reshape(-1, 80)).reshape(V.shape)
    np.testing.assert_allclose(scores, np.square(recon - V).mean(axis=(1, 2)), rtol=1e-5)
    assert roc_auc(np.r_[np.zeros(5), np.ones(5)], scores) == 1.0
    assert det.threshold == "gamma" and np.isfinite(det.offset_)


def test_selective_mahalanobis_scoring():
    S = normal_clips(n=30)
    domain = np.array(["source"] * 24 + ["target"] * 6)
    det = AutoEncoderDetector(scoring="selective_mahalanobis", **FAST).fit(S, domain=domain)
    test = normal_clips(n=4, seed=2)
    V = stack_frames(test, 5)
    errors = det.net_.predict(V.reshape(-1, 80)) - V.reshape(-1, 80)
    train_V = stack_frames(S, 5).reshape(-1, 80)
    train_errors = det.net_.predict(train_V) - train_V
    reference = MahalanobisDetector(per_domain=True, assume_centered=True).fit(
        train_errors, domain=np.repeat(domain, 16)
    )
    expected = reference.anomaly_score(errors).reshape(4, 16).mean(axis=1)
    np.testing.assert_allclose(det.anomaly_score(test), expected, rtol=1e-5)


def test_outlier_exposure_loss_formula():
    recon = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 2.0], [3.0, 3.0]])
    target = torch.zeros(4, 2)
    is_outlier = torch.tensor([False, False, True, True])
    errors = torch.tensor([0.0, 1.0, 2.0, 9.0])  # mean squared error per row
    loss = OutlierExposureLoss(weight=0.5, margin=2.0)(recon, target, is_outlier)
    normal = errors[:2].mean()
    expected = normal + 0.5 * torch.relu(2.0 + normal - errors[2:]).mean()
    assert torch.isclose(loss, expected)
    no_outliers = OutlierExposureLoss()(recon[:2], target[:2], is_outlier[:2])
    assert torch.isclose(no_outliers, errors[:2].mean())


def test_outlier_exposure_pushes_other_machines_away():
    S = normal_clips()
    rng = np.random.default_rng(5)
    other = (-2.0 + 0.25 * np.arange(16)[:, None] + rng.normal(0, 0.3, size=(24, 16, 20))).astype(np.float32)
    plain = AutoEncoderDetector(**FAST).fit(S)
    mask = np.r_[np.zeros(len(S), bool), np.ones(len(other), bool)]
    exposed = AutoEncoderDetector(outlier_exposure=True, oe_margin=5.0, **FAST)
    exposed.fit(np.concatenate([S, other]), outlier=mask)
    # the baseline (outlier_exposure=False) leaves the outlier rows out: the plain model exactly
    baseline = AutoEncoderDetector(**FAST).fit(np.concatenate([S, other]), outlier=mask)
    np.testing.assert_array_equal(baseline.anomaly_score(S), plain.anomaly_score(S))
    assert exposed.train_anomaly_scores_.shape == (len(S),)  # the normal rows' scores
    held_out = (-2.0 + 0.25 * np.arange(16)[:, None] + rng.normal(0, 0.3, size=(6, 16, 20))).astype(
        np.float32
    )

    def gap(det):  # how much worse other machines are reconstructed than normal clips
        return det.anomaly_score(held_out).mean() - det.anomaly_score(normal_clips(n=6, seed=9)).mean()

    assert gap(exposed) > gap(plain)


def test_errors_pickle_and_repeatability(tmp_path):
    S = normal_clips()
    with pytest.raises(ValueError, match="takes spectrograms .*put LogMel before it"):
        AutoEncoderDetector().fit(S[:, :, 0])
    with pytest.raises(ValueError, match="fewer than n_frames=5"):
        AutoEncoderDetector().fit(S[:, :, :3])
    det = AutoEncoderDetector(max_epochs=3, random_state=1).fit(S)
    again = AutoEncoderDetector(max_epochs=3, random_state=1).fit(S)
    np.testing.assert_array_equal(det.anomaly_score(S), again.anomaly_score(S))
    joblib.dump(det, tmp_path / "ae.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "ae.joblib").anomaly_score(S), det.anomaly_score(S))


@pytest.mark.parametrize(
    "detector",
    [
        AutoEncoderDetector(max_epochs=1, batch_size=64, random_state=0),
        GroupMADEDetector(n_frames=3, hidden=(16,), max_epochs=1, random_state=0),
    ],
    ids=["autoencoder", "group_made"],
)
def test_frame_detectors_take_the_shared_training_settings(detector):
    # the optimizer and the precision are parameters, as the embedders' (no hard-coded Adam)
    S = normal_clips()
    fitted = detector.set_params(optimizer=torch.optim.SGD, mixed_precision=False).fit(S)
    assert isinstance(fitted.net_.optimizer_, torch.optim.SGD)
    assert fitted.net_.mixed_precision is False and fitted._net_spec["mixed_precision"] is False
    with pytest.raises(ValueError, match="mixed_precision"):
        detector.set_params(mixed_precision="sometimes").fit(S)
