import joblib
import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_asd import io
from sklearn_asd.detectors import DomainKNNDetector, KNNDetector

LOO = (
    "leave-one-out training scores set the threshold; predict(X_train) sees each clip as its own "
    "neighbour (as LocalOutlierFactor(novelty=True))"
)


@parametrize_with_checks(
    [
        DomainKNNDetector(),
        DomainKNNDetector(n_neighbors=2, metric="euclidean", smote_ratio=0.5, random_state=0),
    ],
    expected_failed_checks=lambda est: {"check_outliers_train": LOO, "check_outliers_fit_predict": LOO},
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def by_hand(source, target, Q, k, loo=None):
    """min(mean of the k smallest distances to the source rows, the same to the target rows).

    ``loo``: (is_target, position) of each query among the references, to leave it out.
    """

    def knn(R, own):
        D = cdist(Q, R) if len(R) else np.full((len(Q), 0), np.inf)
        if own is not None:
            for i, j in enumerate(own):
                if j >= 0:
                    D[i, j] = np.inf
        out = []
        for row in D:
            finite = np.sort(row[np.isfinite(row)])[:k]
            out.append(finite.mean() if finite.size else np.inf)
        return np.array(out)

    own_src = own_tgt = None
    if loo is not None:
        is_target, pos = loo
        own_src, own_tgt = np.where(is_target, -1, pos), np.where(is_target, pos, -1)
    return np.minimum(knn(source, own_src), knn(target, own_tgt))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_scores_are_the_minimum_over_the_two_domains_by_hand(k):
    rng = np.random.default_rng(0)
    source, target = rng.normal(0, 1, size=(30, 3)), rng.normal(4, 0.5, size=(4, 3))
    X, domain = np.vstack([source, target]), np.array(["source"] * 30 + ["target"] * 4)
    Q = rng.normal(2, 2, size=(12, 3))
    det = DomainKNNDetector(n_neighbors=k, metric="euclidean").fit(X, domain=domain)
    np.testing.assert_allclose(det.anomaly_score(Q), by_hand(source, target, Q, k), rtol=1e-10)
    pos = np.r_[np.arange(30), np.arange(4)]
    expected = by_hand(source, target, X, k, loo=(domain == "target", pos))
    np.testing.assert_allclose(det.train_anomaly_scores_, expected, rtol=1e-10)
    # cosine: 1 - cos, i.e. half the squared distance between unit vectors
    unit = lambda A: A / np.linalg.norm(A, axis=1, keepdims=True)  # noqa: E731
    cos = DomainKNNDetector(n_neighbors=1).fit(X, domain=domain)
    d = by_hand(unit(source), unit(target), unit(Q), 1)
    np.testing.assert_allclose(cos.anomaly_score(Q), d**2 / 2, rtol=1e-9, atol=1e-12)


def test_without_target_clips_it_is_the_plain_knn():
    rng = np.random.default_rng(1)
    X, Q = rng.normal(size=(40, 4)), rng.normal(size=(9, 4))
    section = np.repeat(["a", "b"], 20)
    det = DomainKNNDetector(n_neighbors=2, metric="euclidean", per_section=True, smote_ratio=0.2).fit(
        X, section=section
    )
    ref = KNNDetector(n_neighbors=2, metric="euclidean", per_section=True, backend="numpy").fit(
        X, section=section
    )
    q_section = np.array(["a", "b"] * 4 + ["a"])
    np.testing.assert_allclose(
        det.anomaly_score(Q, section=q_section), ref.anomaly_score(Q, section=q_section)
    )
    np.testing.assert_allclose(det.train_anomaly_scores_, ref.train_anomaly_scores_)
    assert det.n_synthetic_ == {"a": 0, "b": 0}


def test_smote_adds_target_references_between_target_neighbours():
    rng = np.random.default_rng(2)
    source = rng.normal(0, 1, size=(50, 2))
    target = np.array([[10.0, 10.0], [10.0, 11.0], [12.0, 10.0], [30.0, 30.0]])
    X, domain = np.vstack([source, target]), ["source"] * 50 + ["target"] * 4
    det = DomainKNNDetector(metric="euclidean", smote_ratio=0.2, smote_neighbors=1, random_state=0)
    det.fit(X, domain=domain)
    refs = det.models_[None]["target"]
    assert det.n_synthetic_[None] == 10 - 4 and refs.shape == (10, 2)  # 0.2 x 50 target references
    np.testing.assert_array_equal(refs[:4], target)  # the real clips first
    # each synthetic reference lies on the segment from a target clip to its nearest target clip
    nearest = cdist(target, target).argsort(axis=1)[:, 1]
    for point in refs[4:]:
        on_segment = []
        for i, j in enumerate(nearest):
            a, b = target[i], target[j]
            t = np.dot(point - a, b - a) / np.dot(b - a, b - a)
            on_segment.append(-1e-9 <= t <= 1 + 1e-9 and np.allclose(a + t * (b - a), point))
        assert any(on_segment)
    # the scores use them: the minimum over the source and the augmented target references
    Q = np.array([[11.0, 10.5], [20.0, 20.0], [0.0, 0.0]])
    np.testing.assert_allclose(det.anomaly_score(Q), by_hand(source, refs, Q, 1), rtol=1e-10)
    # the same seed, the same references; no ratio, none
    again = DomainKNNDetector(metric="euclidean", smote_ratio=0.2, smote_neighbors=1, random_state=0)
    np.testing.assert_array_equal(again.fit(X, domain=domain).models_[None]["target"], refs)
    plain = DomainKNNDetector(metric="euclidean").fit(X, domain=domain)
    assert plain.n_synthetic_[None] == 0 and len(plain.models_[None]["target"]) == 4


def test_smote_ratio_already_reached_and_a_single_target_clip_add_nothing():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(21, 2))
    one = DomainKNNDetector(smote_ratio=0.5, random_state=0).fit(X, domain=["source"] * 20 + ["target"])
    assert one.n_synthetic_[None] == 0
    many = DomainKNNDetector(smote_ratio=0.1, random_state=0).fit(X, domain=["source"] * 15 + ["target"] * 6)
    assert many.n_synthetic_[None] == 0


def test_needs_source_clips_and_persists(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 3)).astype(np.float32)
    section = np.repeat(["a", "b"], 15)
    domain = np.array((["source"] * 12 + ["target"] * 3) * 2)
    with pytest.raises(ValueError, match="source-domain training clips of section 'b'"):
        DomainKNNDetector(per_section=True).fit(
            X, section=section, domain=np.r_[domain[:15], ["target"] * 15]
        )
    det = DomainKNNDetector(per_section=True, smote_ratio=0.5, random_state=0).fit(
        X, section=section, domain=domain
    )
    io.dump(det, tmp_path / "d.asd")
    joblib.dump(det, tmp_path / "d.joblib")
    for other in (io.load(tmp_path / "d.asd"), joblib.load(tmp_path / "d.joblib")):
        np.testing.assert_array_equal(
            other.anomaly_score(X, section=section), det.anomaly_score(X, section=section)
        )
