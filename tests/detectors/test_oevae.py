import math

import joblib
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_asd.detectors import OEVAE
from sklearn_asd.detectors._oevae import OEVAELoss, shifted_prior_kl


def clips(n, shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(shift, 1.0, size=(n, 16, 24))).astype(np.float32)


OTHER = clips(10, shift=3.0, seed=1)


def with_other(X, other=OTHER):
    """Normal clips followed by the other machine's, and the fit-time outlier mask."""
    return np.concatenate([X, other]), np.r_[np.zeros(len(X), bool), np.ones(len(other), bool)]


TINY = dict(segment_frames=12, latent_dim=8, n_domain=2, max_epochs=2, batch_size=32, random_state=0)


@parametrize_with_checks([OEVAE(per_section=False, **TINY)])
def test_sklearn_compatible(estimator, check):
    # It takes 3-D log-mel clips, which scikit-learn's checks do not generate: its API checks run.
    check(estimator)


def test_kl_to_a_shifted_prior_is_the_closed_form():
    mu = torch.tensor([[0.5, -1.0]])
    logvar = torch.tensor([[math.log(0.25), 0.0]])
    prior = torch.tensor([[2.0, 0.0]])
    # KL(N(m, s^2) || N(p, 1)) = (s^2 + (m - p)^2 - 1 - log s^2) / 2 per dimension
    expected = 0.5 * (0.25 + 1.5**2 - 1 - math.log(0.25)) + 0.5 * (1 + 1 - 1 - 0)
    assert float(shifted_prior_kl(mu, logvar, prior)) == pytest.approx(expected)


def test_loss_is_machine_bce_plus_lambda_vae_terms():
    torch.manual_seed(0)
    logit = torch.randn(4)
    f, f_hat = torch.randn(4, 6), torch.randn(4, 6)
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3) * 0.1
    target = torch.tensor([[1.0, 0.5], [1.0, -1.0], [0.0, 0.0], [0.0, 0.0]])
    loss = OEVAELoss(lam=0.3, k=2.0, n_domain=1)((logit, f, f_hat, mu, logvar), target)
    bce = F.binary_cross_entropy_with_logits(logit, target[:, 0])
    prior = torch.zeros(2, 3)
    prior[:, 0] = 2.0 * target[:2, 1]
    kl = shifted_prior_kl(mu[:2], logvar[:2], prior).mean()
    recon = (f_hat[:2] - f[:2]).square().sum(1).mean()
    assert torch.isclose(loss, bce + 0.3 * (kl + recon))


def test_scores_are_standardized_alpha_and_beta():
    X = clips(12)
    det = OEVAE(w=0.3, per_section=False, **TINY).fit(*with_other(X)[:1], outlier=with_other(X)[1])
    assert not det.pseudo_outliers_
    test = clips(4, seed=5)
    mu, feats = det._segment_outputs(test)
    alpha = (0.5 * mu[:, :, 2:] ** 2 + 0.5 * math.log(2 * math.pi)).sum(axis=2).mean(axis=1)
    beta = det.knn_.anomaly_score(feats.reshape(-1, feats.shape[2])).reshape(4, 2).mean(axis=1)
    means, stds = det.stats_[None]
    expected = 0.3 * (alpha - means[0]) / stds[0] + 0.7 * (beta - means[1]) / stds[1]
    np.testing.assert_allclose(det.anomaly_score(test), expected, rtol=1e-5)
    assert det.train_anomaly_scores_.shape == (12,)


def test_attribute_scale_and_errors(tmp_path):
    X = clips(12)
    det = OEVAE(per_section=False, **TINY)
    speeds = np.repeat([10.0, 12.0, 14.0], 4)  # categorical attribute: k = 5 / smallest standardized gap
    XO, mask = with_other(X)
    det.fit(XO, outlier=mask, attribute=np.r_[speeds, np.zeros(len(OTHER))])
    gap = np.diff(np.unique((speeds - speeds.mean()) / speeds.std())).min()
    assert det.k_ == pytest.approx(5.0 / gap)
    det.fit(XO, outlier=mask)  # no attribute: the clip's average power, continuous, k = 1
    assert det.k_ == 1.0 and not det.pseudo_outliers_
    with pytest.raises(ValueError, match="fewer than segment_frames=12"):
        OEVAE(per_section=False, **TINY).fit(X[:, :, :8])
    with pytest.raises(ValueError, match="every training clip is marked outlier=True"):
        OEVAE(per_section=False, **TINY).fit(X, outlier=np.ones(len(X), bool))
    joblib.dump(det, tmp_path / "oevae.joblib")
    np.testing.assert_allclose(
        joblib.load(tmp_path / "oevae.joblib").anomaly_score(X[:3]), det.anomaly_score(X[:3])
    )


def test_per_section_and_repeatable():
    X = clips(12)
    section = np.repeat(["s0", "s1"], 6)
    XO, mask = with_other(X)
    section_o = np.r_[section, ["other"] * len(OTHER)]
    a = OEVAE(**TINY).fit(XO, section_o, outlier=mask)
    b = OEVAE(**TINY).fit(XO, section_o, outlier=mask)
    np.testing.assert_array_equal(a.anomaly_score(X, section=section), b.anomaly_score(X, section=section))
    assert set(a.stats_) == {"s0", "s1"}


def test_without_outlier_rows_warped_copies_stand_in():
    """First-shot: one machine and nothing else still trains (DCASE 2024's setting)."""
    X = clips(10)
    det = OEVAE(per_section=False, **TINY).fit(X)
    assert det.pseudo_outliers_ and det.train_anomaly_scores_.shape == (10,)
    assert np.all(np.isfinite(det.anomaly_score(clips(3, seed=4))))


def test_attribute_is_fit_metadata_of_the_normal_rows():
    X = clips(12)
    XO, mask = with_other(X)
    speeds = np.r_[np.repeat([10.0, 12.0, 14.0], 4), np.full(len(OTHER), np.nan)]  # outliers' unused
    det = OEVAE(per_section=False, **TINY).fit(XO, outlier=mask, attribute=speeds)
    assert np.isfinite(det.k_) and det.k_ > 1
    with pytest.raises(ValueError, match="attribute must hold one number per clip"):
        OEVAE(per_section=False, **TINY).fit(X, attribute=["fast"] * 12)
    with pytest.raises(TypeError, match="does not take the metadata \\['colour'\\] in fit"):
        OEVAE(per_section=False, **TINY).fit(X, colour=["red"] * 12)
