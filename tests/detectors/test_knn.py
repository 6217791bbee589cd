import joblib
import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_asd.detectors import KNNDetector

LOO_REASON = (
    "leave-one-out training scores set the threshold; predict(X_train) sees each clip as its own "
    "neighbour (as LocalOutlierFactor(novelty=True))"
)


def expected_failed_checks(estimator):
    return {
        "check_outliers_train": LOO_REASON,
        "check_outliers_fit_predict": LOO_REASON,
    }


@parametrize_with_checks(
    [KNNDetector(), KNNDetector(n_neighbors=3, metric="euclidean", aggregate="max")],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "cityblock"])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("aggregate", ["mean", "max"])
def test_scores_equal_direct_computation(metric, k, aggregate):
    rng = np.random.default_rng(0)
    X_train, X_test = rng.normal(size=(60, 8)), rng.normal(size=(20, 8))
    det = KNNDetector(n_neighbors=k, metric=metric, aggregate=aggregate).fit(X_train)
    reduce = np.mean if aggregate == "mean" else np.max
    dist = np.sort(cdist(X_test, X_train, metric=metric), axis=1)[:, :k]
    np.testing.assert_allclose(det.anomaly_score(X_test), reduce(dist, axis=1), atol=1e-10)
    np.testing.assert_allclose(det.score_samples(X_test), -det.anomaly_score(X_test))
    np.testing.assert_allclose(det.decision_function(X_test), det.score_samples(X_test) - det.offset_)
    # training scores are leave-one-out: the clip itself is not a neighbour
    self_dist = cdist(X_train, X_train, metric=metric)
    np.fill_diagonal(self_dist, np.inf)
    loo = reduce(np.sort(self_dist, axis=1)[:, :k], axis=1)
    np.testing.assert_allclose(det.train_anomaly_scores_, loo, atol=1e-10)


def test_contamination_sets_the_share_of_flagged_training_clips():
    X = np.random.default_rng(1).normal(size=(200, 4))
    det = KNNDetector(metric="euclidean", contamination=0.1)
    labels = det.fit_predict(X)
    assert (labels == -1).sum() == 20
    assert det.offset_ == pytest.approx(np.percentile(-det.train_anomaly_scores_, 10))


def test_per_section_compares_only_within_the_section():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, (30, 3)), rng.normal(10, 1, (30, 3))
    X, section = np.vstack([a, b]), np.array(["a"] * 30 + ["b"] * 30)
    det = KNNDetector(metric="euclidean", per_section=True).fit(X, section=section)
    query = np.array([[10.0, 10.0, 10.0]])
    # near section b's clips, so normal for b and far out for a
    assert det.anomaly_score(query, section=["a"])[0] > 10 * det.anomaly_score(query, section=["b"])[0]
    expected = cdist(query, b).min()
    assert det.anomaly_score(query, section="b")[0] == pytest.approx(expected)
    # y stands in for the section in fit
    by_y = KNNDetector(metric="euclidean", per_section=True).fit(X, section)
    np.testing.assert_array_equal(
        by_y.anomaly_score(X, section=section), det.anomaly_score(X, section=section)
    )
    assert list(det.sections_) == ["a", "b"]


def test_errors_say_what_is_wrong():
    X = np.random.default_rng(3).normal(size=(10, 2))
    section = np.array(["a"] * 8 + ["b"] * 2)
    with pytest.raises(ValueError, match="needs the section of each clip: pass section="):
        KNNDetector(per_section=True).fit(X)
    with pytest.raises(ValueError, match="section 'b', got 2 sample"):
        KNNDetector(n_neighbors=2, per_section=True).fit(X, section=section)
    det = KNNDetector(per_section=True).fit(X, section=section)
    with pytest.raises(ValueError, match="section 'c' was not seen in fit"):
        det.anomaly_score(X[:1], section=["c"])
    with pytest.raises(ValueError, match="needs the section"):
        det.decision_function(X[:1])
    with pytest.raises(ValueError, match="one value per clip"):
        det.anomaly_score(X[:2], section=["a"] * 3)
    with pytest.raises(ValueError, match="NaN"):
        KNNDetector().fit(np.full((5, 2), np.nan))


def test_in_pipeline_with_routing_and_pickled(routing, tmp_path):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 5))
    section = np.array(["s0", "s1"] * 20)
    domain = np.array(["source"] * 36 + ["target"] * 4)
    pipe = make_pipeline(StandardScaler(), KNNDetector(n_neighbors=2, per_section=True))
    pipe.fit(X, section, section=section, domain=domain)
    dec = pipe.decision_function(X, section=section, domain=domain)
    pred = pipe.predict(X, section=section, domain=domain)
    np.testing.assert_array_equal(pred, np.where(dec < 0, -1, 1))
    joblib.dump(pipe, tmp_path / "p.joblib")
    again = joblib.load(tmp_path / "p.joblib")
    np.testing.assert_array_equal(again.decision_function(X, section=section, domain=domain), dec)


def test_float32_embeddings():
    X = np.random.default_rng(5).normal(size=(30, 4)).astype(np.float32)
    det = KNNDetector(metric="euclidean").fit(X)
    np.testing.assert_allclose(
        det.anomaly_score(X), KNNDetector(metric="euclidean").fit(X.astype(float)).anomaly_score(X), rtol=1e-5
    )


faiss_missing = pytest.mark.skipif(
    __import__("importlib").util.find_spec("faiss") is None, reason="faiss is not installed"
)


@faiss_missing
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("k", [1, 3])
def test_faiss_finds_the_same_neighbours(metric, k):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 16)).astype(np.float32)
    X[10] = X[11]  # exact duplicates: each is the other's neighbour at distance 0, never its own
    Q = rng.normal(size=(40, 16)).astype(np.float32)
    ours = KNNDetector(n_neighbors=k, metric=metric, backend="faiss").fit(X)
    ref = KNNDetector(n_neighbors=k, metric=metric, backend="numpy").fit(X)
    assert type(ours.models_[None]).__name__ == "_FaissIndex"
    np.testing.assert_allclose(ours.anomaly_score(Q), ref.anomaly_score(Q), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.train_anomaly_scores_, ref.train_anomaly_scores_, rtol=1e-5, atol=1e-6)
    expected = np.sort(cdist(X[10:11], np.delete(X, 10, axis=0), metric=metric), axis=1)[0, :k].mean()
    assert ours.train_anomaly_scores_[10] == pytest.approx(expected, abs=1e-5)


@faiss_missing
def test_a_faiss_model_scores_without_faiss(monkeypatch, tmp_path):
    from sklearn_asd import io
    from sklearn_asd.detectors import _knn

    rng = np.random.default_rng(1)
    X, Q = rng.normal(size=(100, 8)).astype(np.float32), rng.normal(size=(10, 8)).astype(np.float32)
    fitted = KNNDetector(n_neighbors=2, metric="euclidean").fit(X)  # "auto": faiss for float32
    assert type(fitted.models_[None]).__name__ == "_FaissIndex"
    expected = fitted.anomaly_score(Q)
    io.dump(fitted, tmp_path / "knn.asd")
    monkeypatch.setattr(_knn, "_faiss", lambda: None)
    np.testing.assert_allclose(io.load(tmp_path / "knn.asd").anomaly_score(Q), expected, rtol=1e-5)
    joblib.dump(fitted, tmp_path / "knn.joblib")
    np.testing.assert_allclose(joblib.load(tmp_path / "knn.joblib").anomaly_score(Q), expected, rtol=1e-5)
    with pytest.raises(ImportError, match=r'backend="faiss"\) needs faiss'):
        KNNDetector(backend="faiss").fit(X)


def test_float64_embeddings_keep_the_float64_search():
    X = np.random.default_rng(2).normal(size=(50, 4))
    fitted = KNNDetector(metric="euclidean").fit(X)
    assert type(fitted.models_[None]).__name__ != "_FaissIndex"
    np.testing.assert_allclose(
        fitted.train_anomaly_scores_, np.sort(cdist(X, X) + np.diag([np.inf] * 50), axis=1)[:, 0]
    )
