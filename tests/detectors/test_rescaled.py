import joblib
import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_asd import io
from sklearn_asd.detectors import KNNDetector, RescaledKNNDetector

LOO = (
    "leave-one-out training scores set the threshold; predict(X_train) sees each clip as its own "
    "neighbour (as LocalOutlierFactor(novelty=True))"
)


@parametrize_with_checks(
    [RescaledKNNDetector(), RescaledKNNDetector(n_neighbors=2, k_ref=3, metric="euclidean")],
    expected_failed_checks=lambda est: {"check_outliers_train": LOO, "check_outliers_fit_predict": LOO},
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def by_hand(R, Q, k, k_ref, loo=False):
    """The ICASSP 2025 score written out: scales from sorted distances, then the k smallest ratios."""
    D = cdist(R, R)
    scale = np.sort(D, axis=0)[1 : k_ref + 1].mean(axis=0)  # skip each clip's zero to itself
    ratio = (cdist(R, R) if loo else cdist(Q, R)) / scale[None, :]
    if loo:
        np.fill_diagonal(ratio, np.inf)
    return np.sort(ratio, axis=1)[:, :k].mean(axis=1)


@pytest.mark.parametrize("k, k_ref", [(1, 1), (1, 4), (3, 2)])
def test_scores_are_the_papers_formula(k, k_ref):
    rng = np.random.default_rng(0)
    R = np.vstack([rng.normal(0, 0.1, size=(20, 3)), rng.normal(3, 1.0, size=(8, 3))])
    Q = rng.normal(1, 1.5, size=(10, 3))
    det = RescaledKNNDetector(n_neighbors=k, k_ref=k_ref, metric="euclidean").fit(R)
    np.testing.assert_allclose(det.anomaly_score(Q), by_hand(R, Q, k, k_ref), rtol=1e-10)
    np.testing.assert_allclose(det.train_anomaly_scores_, by_hand(R, None, k, k_ref, loo=True), rtol=1e-10)
    # cosine: the same on unit vectors
    unit = R / np.linalg.norm(R, axis=1, keepdims=True)
    cos = RescaledKNNDetector(n_neighbors=k, k_ref=k_ref).fit(R)
    np.testing.assert_allclose(
        cos.anomaly_score(Q),
        by_hand(unit, Q / np.linalg.norm(Q, axis=1, keepdims=True), k, k_ref),
        rtol=1e-10,
    )


def test_rescaling_keeps_the_balance_between_a_dense_and_a_sparse_domain():
    # a large dense source domain and a small sparse target domain; the same relative offset
    rng = np.random.default_rng(1)
    source, target = rng.normal(0, 0.1, size=(100, 2)), rng.normal(10, 1.0, size=(10, 2))
    X = np.vstack([source, target])
    normal_source, normal_target = source[:5] + 0.02, target[:5] + 0.2  # a fifth of each spread
    plain = KNNDetector(metric="euclidean", backend="numpy").fit(X)
    rescaled = RescaledKNNDetector(k_ref=3, metric="euclidean").fit(X)
    # the plain distance puts every target normal far above the source normals; rescaled, they mix
    p_src, p_tgt = plain.anomaly_score(normal_source), plain.anomaly_score(normal_target)
    r_src, r_tgt = rescaled.anomaly_score(normal_source), rescaled.anomaly_score(normal_target)
    assert p_tgt.min() > p_src.max()
    assert r_tgt.mean() / r_src.mean() < 0.5 * p_tgt.mean() / p_src.mean()


def test_per_section_refuses_tiny_sections_and_round_trips(tmp_path):
    rng = np.random.default_rng(2)
    X, section = rng.normal(size=(30, 4)), np.repeat(["a", "b", "c"], 10)
    det = RescaledKNNDetector(n_neighbors=2, k_ref=4, per_section=True).fit(X, section=section)
    assert list(det.sections_) == ["a", "b", "c"]
    expected = det.anomaly_score(X[:5], section=section[:5])
    io.dump(det, tmp_path / "r.asd")
    np.testing.assert_array_equal(
        io.load(tmp_path / "r.asd").anomaly_score(X[:5], section=section[:5]), expected
    )
    joblib.dump(det, tmp_path / "r.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "r.joblib").anomaly_score(X[:5], section=section[:5]), expected
    )
    with pytest.raises(ValueError, match=r"needs more than 2 training clips of section 'z', got 2"):
        RescaledKNNDetector(n_neighbors=2, per_section=True).fit(X[:12], section=["a"] * 10 + ["z"] * 2)
