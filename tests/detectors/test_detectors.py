import warnings

import joblib
import numpy as np
import pytest
import scipy.stats
from scipy.spatial.distance import cdist, mahalanobis
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.covariance import LedoitWolf
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler, normalize
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_asd.detectors import (
    DomainAwareDetector,
    KMeansCosineDetector,
    KNNDetector,
    LOFDetector,
    MahalanobisDetector,
    SoftmaxScore,
    StandardizedEnsemble,
)

LOO = (
    "leave-one-out training scores set the threshold; predict(X_train) sees each clip as its own "
    "neighbour (as LocalOutlierFactor(novelty=True))"
)
GAMMA = "threshold='gamma' (the DCASE baseline's gamma fit) flags about, not exactly, `contamination`"
NO_Y = "SoftmaxScore needs y (the section classes); the outlier checks fit without y"


def expected_failed_checks(estimator):
    if isinstance(estimator, SoftmaxScore):
        return {"check_outliers_fit_predict": NO_Y, "check_outliers_train": NO_Y}
    reason = GAMMA if getattr(estimator, "threshold", None) == "gamma" else LOO
    if isinstance(estimator, (MahalanobisDetector, KMeansCosineDetector)) and reason != GAMMA:
        return {}
    return {"check_outliers_train": reason, "check_outliers_fit_predict": reason}


@parametrize_with_checks(
    [
        LOFDetector(),
        MahalanobisDetector(),
        MahalanobisDetector(covariance="ledoit_wolf", threshold="gamma"),
        KMeansCosineDetector(n_clusters=3, random_state=0),
        DomainAwareDetector(),
        # per_section=False: the maximum softmax probability, which needs no section at test time
        SoftmaxScore(LogisticRegression(), per_section=False),
        StandardizedEnsemble(
            [("knn", KNNDetector(metric="euclidean")), ("maha", MahalanobisDetector())], per_section=False
        ),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5))
    section = np.repeat(["a", "b", "c"], 30)
    X[section == "b"] += 3.0
    domain = np.tile(np.r_[np.full(26, "source"), np.full(4, "target")], 3).astype(object)
    X_test = rng.normal(size=(12, 5)) * 1.5
    sec_test = np.repeat(["a", "b", "c"], 4)
    dom_test = np.tile(["source", "target"], 6).astype(object)
    return X, section, domain, X_test, sec_test, dom_test


# ---------------------------------------------------------------- LOF


def test_lof_equals_sklearn(data):
    X, section, _, X_test, sec_test, _ = data
    det = LOFDetector(n_neighbors=5, per_section=True).fit(X, section=section)
    for sec in "abc":
        ref = LocalOutlierFactor(n_neighbors=5, novelty=True).fit(X[section == sec])
        m = sec_test == sec
        np.testing.assert_allclose(
            det.anomaly_score(X_test[m], section=sec_test[m]), -ref.score_samples(X_test[m])
        )
        np.testing.assert_allclose(det.train_anomaly_scores_[section == sec], -ref.negative_outlier_factor_)


def test_lof_needs_enough_clips(data):
    X, section, *_ = data
    with pytest.raises(ValueError, match="needs more than 40 training clips of section 'a', got 30 sample"):
        LOFDetector(n_neighbors=40, per_section=True).fit(X, section=section)


# ---------------------------------------------------------------- Mahalanobis


def test_mahalanobis_equals_scipy(data):
    X, _, _, X_test, _, _ = data
    det = MahalanobisDetector().fit(X)
    mu, VI = X.mean(axis=0), np.linalg.pinv(np.cov(X.T, bias=True))
    expected = [mahalanobis(x, mu, VI) for x in X_test]
    np.testing.assert_allclose(det.anomaly_score(X_test), expected, rtol=1e-6)
    centred = MahalanobisDetector(assume_centered=True).fit(X)
    VI0 = np.linalg.pinv(X.T @ X / len(X))
    np.testing.assert_allclose(
        centred.anomaly_score(X_test), [mahalanobis(x, np.zeros(5), VI0) for x in X_test], rtol=1e-6
    )
    lw = MahalanobisDetector(covariance="ledoit_wolf").fit(X)
    np.testing.assert_allclose(
        lw.anomaly_score(X_test) ** 2, LedoitWolf().fit(X).mahalanobis(X_test), rtol=1e-6
    )


def test_selective_mahalanobis_takes_the_smaller_distance(data):
    X, section, domain, X_test, sec_test, _ = data
    det = MahalanobisDetector(per_section=True, per_domain=True, covariance="ledoit_wolf").fit(
        X, section=section, domain=domain
    )
    for sec in "abc":
        m = sec_test == sec
        dists = []
        for dom in ("source", "target"):
            train = X[(section == sec) & (domain == dom)]
            dists.append(LedoitWolf().fit(train).mahalanobis(X_test[m]))
        # no domain needed at test time
        np.testing.assert_allclose(
            det.anomaly_score(X_test[m], section=sec_test[m]), np.sqrt(np.min(dists, 0))
        )
    with pytest.raises(ValueError, match="at least 2 training clips.*domain 'target'"):
        MahalanobisDetector(per_domain=True).fit(X[:27], domain=domain[:27])


# ---------------------------------------------------------------- k-means / cosine


def test_kmeans_cosine_equals_direct_computation(data):
    X, section, domain, X_test, sec_test, _ = data
    det = KMeansCosineDetector(n_clusters=4, per_section=True, random_state=0).fit(
        X, section=section, domain=domain
    )
    for sec in "abc":
        src = (section == sec) & (domain == "source")
        tgt = (section == sec) & (domain == "target")
        km = KMeans(n_clusters=4, n_init=10, random_state=0).fit(normalize(X[src]))
        centres = np.vstack([km.cluster_centers_, X[tgt]])
        m = sec_test == sec
        expected = cdist(X_test[m], centres, metric="cosine").min(axis=1)
        np.testing.assert_allclose(det.anomaly_score(X_test[m], section=sec_test[m]), expected, atol=1e-10)
        # each target training clip is scored without itself as a centre
        t_idx = np.flatnonzero(tgt)
        for j, i in enumerate(t_idx):
            others = np.delete(centres, 4 + j, axis=0)
            assert det.train_anomaly_scores_[i] == pytest.approx(cdist(X[i : i + 1], others, "cosine").min())


def test_kmeans_cosine_few_source_clips_are_their_own_centres(data):
    X, section, domain, X_test, _, dom_test = data
    src = np.flatnonzero(domain == "source")[:5]
    tgt = np.flatnonzero(domain == "target")[:2]
    rows = np.r_[src, tgt]
    det = KMeansCosineDetector(n_clusters=16).fit(X[rows], domain=domain[rows])
    Xn = X[rows] / np.linalg.norm(X[rows], axis=1, keepdims=True)
    np.testing.assert_allclose(det.models_[None], Xn)  # every clip a centre, source first
    # leave-one-out training scores: each clip against the other clips
    sim = Xn @ Xn.T
    np.fill_diagonal(sim, -np.inf)
    np.testing.assert_allclose(det.train_anomaly_scores_, 1.0 - sim.max(axis=1))
    scores = det.anomaly_score(X_test, domain=dom_test)
    Tn = X_test / np.linalg.norm(X_test, axis=1, keepdims=True)
    np.testing.assert_allclose(scores, 1.0 - (Tn @ Xn.T).max(axis=1))


def test_kmeans_cosine_errors(data):
    X, section, domain, *_ = data
    with pytest.raises(ValueError, match="needs source-domain clips and at least 2 training clips"):
        KMeansCosineDetector().fit(X[domain == "target"][:3], domain=domain[domain == "target"][:3])
    with pytest.raises(ValueError, match="domain 'unknown'"):
        KMeansCosineDetector(n_clusters=2).fit(X, domain=np.full(90, "unknown"))


# ---------------------------------------------------------------- domain-aware


def test_domain_aware_routes_by_domain(data):
    X, section, domain, X_test, sec_test, dom_test = data
    det = DomainAwareDetector(
        LOFDetector(n_neighbors=4, per_section=True), KNNDetector(per_section=True), standardize=False
    ).fit(X, section=section, domain=domain)
    src_ref = LOFDetector(n_neighbors=4, per_section=True).fit(
        X[domain == "source"], section=section[domain == "source"]
    )
    tgt_ref = KNNDetector(per_section=True).fit(X, section=section)
    scores = det.anomaly_score(X_test, section=sec_test, domain=dom_test)
    s, t = dom_test == "source", dom_test == "target"
    np.testing.assert_allclose(scores[s], src_ref.anomaly_score(X_test[s], section=sec_test[s]))
    np.testing.assert_allclose(scores[t], tgt_ref.anomaly_score(X_test[t], section=sec_test[t]))
    train = det.train_anomaly_scores_
    np.testing.assert_allclose(train[domain == "source"], src_ref.train_anomaly_scores_)
    np.testing.assert_allclose(train[domain == "target"], tgt_ref.train_anomaly_scores_[domain == "target"])
    with pytest.raises(ValueError, match="domain 'unknown'"):
        det.anomaly_score(X_test[:1], section=sec_test[:1], domain=["unknown"])

    # standardized: each member's raw score z-scored by its training scores of its own domain
    z = DomainAwareDetector(LOFDetector(n_neighbors=4, per_section=True), KNNDetector(per_section=True)).fit(
        X, section=section, domain=domain
    )
    zs = z.anomaly_score(X_test, section=sec_test, domain=dom_test)
    for sec in np.unique(sec_test):
        for dom, ref, rows in (("source", src_ref, s), ("target", tgt_ref, t)):
            train_rows = (section == sec) & (domain == dom)
            fitted = ref.train_anomaly_scores_[
                train_rows[domain == "source"] if dom == "source" else train_rows
            ]
            rows = rows & (sec_test == sec)
            raw = ref.anomaly_score(X_test[rows], section=sec_test[rows])
            np.testing.assert_allclose(zs[rows], (raw - fitted.mean()) / fitted.std())


def test_domain_aware_target_scale_falls_back_per_section(data):
    """A section without target training clips takes its target scale from all its clips; the
    other sections keep their target clips' scale."""
    X, section, domain, *_ = data
    only_source = section == np.unique(section)[0]
    keep = ~(only_source & (domain == "target"))
    X, section, domain = X[keep], section[keep], domain[keep]
    det = DomainAwareDetector(LOFDetector(per_section=True), KNNDetector(per_section=True))
    det.fit(X, section=section, domain=domain)
    ref = KNNDetector(per_section=True).fit(X, section=section).train_anomaly_scores_
    for sec in np.unique(section):
        rows = section == sec
        rows = rows if not (rows & (domain == "target")).any() else rows & (domain == "target")
        (mean,), (std,) = det.stats_["target"][sec]
        assert mean == pytest.approx(ref[rows].mean()) and std == pytest.approx(ref[rows].std())


def test_domain_aware_puts_both_domains_on_one_scale():
    """DCASE 2022-2024 rank source normals against target anomalies: the scales must agree."""
    from sklearn_asd.metrics import roc_auc

    rng = np.random.default_rng(0)
    # small distances (features of small range): a kNN distance of about 0.01 against an LOF near 1
    X = 0.01 * np.vstack([rng.normal(0, 1, (100, 4)), rng.normal(0, 1, (10, 4)) + [6, 0, 0, 0]])
    domain = np.array(["source"] * 100 + ["target"] * 10)
    source_normal = rng.normal(0, 1, (20, 4))
    target_anomalous = rng.normal(0, 1, (20, 4)) + [6, 8, 0, 0]
    X_test = 0.01 * np.vstack([source_normal, target_anomalous])
    dom_test = np.array(["source"] * 20 + ["target"] * 20)
    anomalous = np.r_[np.zeros(20), np.ones(20)]
    aucs = {}
    for standardize in (False, True):
        det = DomainAwareDetector(
            LOFDetector(n_neighbors=4), KNNDetector(metric="euclidean"), standardize=standardize
        ).fit(X, domain=domain)
        aucs[standardize] = roc_auc(anomalous, det.anomaly_score(X_test, domain=dom_test))
    # raw: an LOF ratio near 1 against a distance near 0, the anomalies look normal
    assert aucs[False] < 0.3 and aucs[True] > 0.9


def test_domain_aware_accepts_sklearn_members(data):
    X, _, domain, X_test, _, dom_test = data
    det = DomainAwareDetector(IsolationForest(random_state=0), LocalOutlierFactor(novelty=True)).fit(
        X, domain=domain
    )
    scores = det.anomaly_score(X_test, domain=dom_test)
    assert scores.shape == (12,) and np.all(np.isfinite(scores))


# ---------------------------------------------------------------- softmax score


def test_softmax_prob_and_log_odds():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    y = np.array(["s0", "s1", "s2"])
    sec = np.array(["s0", "s0", "s2"])
    prob = SoftmaxScore().fit(P, y)
    np.testing.assert_allclose(prob.anomaly_score(P, section=sec), [-0.7, -0.1, -0.4])
    odds = SoftmaxScore(kind="log_odds").fit(P, y)
    p = np.array([0.7, 0.1, 0.4])
    np.testing.assert_allclose(odds.anomaly_score(P, section=sec), np.log(1 - p) - np.log(p))


def test_softmax_reads_each_class_section_from_the_data_not_its_spelling():
    # labels that do not spell their section: the fit-time section says which is whose
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.6, 0.3, 0.1]])
    y, section = ["a", "b", "c", "a"], ["s0", "s0", "s1", "s0"]
    det = SoftmaxScore().fit(P, y, section=section)
    assert {k: list(v) for k, v in det.class_sections_.items()} == {"s0": ["a", "b"], "s1": ["c"]}
    np.testing.assert_allclose(det.anomaly_score(P, section=section), [-0.7, -0.8, -0.6, -0.6])


def test_outlier_rows_have_no_section():
    seen = {}

    class Probe(SoftmaxScore):
        def _fit(self, X, y, section, domain, outlier):
            seen["section"] = section
            return super()._fit(X, y, section, domain, outlier)

    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    Probe().fit(P, ["id_00", "id_02", "fan"], outlier=[False, False, True])
    assert list(seen["section"]) == ["id_00", "id_02", None]  # no made-up label for the fan


def test_softmax_sections_with_several_classes_and_frames():
    classes = ["s0|pat_00", "s0|pat_01", "s1|pat_00"]
    P = np.array(
        [
            [[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]],  # clip of s0, two frames
            [[0.2, 0.2, 0.6], [0.4, 0.4, 0.2]],  # clip of s1
        ]
    )
    det = SoftmaxScore(classes=classes, kind="log_odds").fit(P, ["s0|pat_00", "s1|pat_00", "s0|pat_01"][:2])
    # s0|pat_01 has no training clip: it is nobody's class, so s0's p is pat_00's
    assert list(det.base_classes_) == ["s0|pat_00", "s1|pat_00"]
    P2 = np.concatenate([P, P[:1]])
    det = SoftmaxScore(classes=classes, kind="log_odds").fit(P2, ["s0|pat_00", "s1|pat_00", "s0|pat_01"])
    best = np.array([[0.5, 0.6], [0.6, 0.2]])  # best class of the clip's section, per frame
    expected = (np.log(1 - best) - np.log(best)).mean(axis=1)
    np.testing.assert_allclose(det.anomaly_score(P, section=["s0", "s1"]), expected)
    with pytest.raises(ValueError, match="section 's9' was not seen"):
        det.anomaly_score(P, section=["s9", "s0"])
    with pytest.raises(ValueError, match="3 classes but the probabilities have 2 columns"):
        det.anomaly_score(P[..., :2], section=["s0", "s1"])


def test_softmax_true_class_rule_with_warped_and_attribute_classes():
    """Giri et al.: p is the clip's own class; warped classes are never a clip's own."""
    classes = ["s0|pat=00", "s0|pat=00|warp=0.95", "s0|pat=01", "s1|pat=00", "__outlier__"]
    y = ["s0|pat=00", "s0|pat=01", "s1|pat=00"]
    P = np.array(
        [
            [0.10, 0.80, 0.05, 0.03, 0.02],  # looks warped: its own classes are unlikely
            [0.30, 0.00, 0.60, 0.05, 0.05],
            [0.20, 0.00, 0.10, 0.40, 0.30],
        ]
    )
    det = SoftmaxScore(classes=classes).fit(P, y)
    assert list(det.base_classes_) == ["s0|pat=00", "s0|pat=01", "s1|pat=00"]
    sec = ["s0", "s0", "s1"]
    # no attribute: the best base class of the section (never the warped or outlier column)
    np.testing.assert_allclose(det.anomaly_score(P, section=sec), [-0.10, -0.60, -0.40])
    # with the attribute: that class's probability; "" or an unseen attribute: the section's best
    np.testing.assert_allclose(
        det.anomaly_score(P, section=sec, attribute=["pat=00", "pat=00", "pat=07"]), [-0.10, -0.30, -0.40]
    )
    np.testing.assert_allclose(
        det.anomaly_score(P, section=sec, attribute=["", "pat=01", None]), [-0.10, -0.60, -0.40]
    )
    with pytest.raises(ValueError, match="attribute must have one value per clip"):
        det.anomaly_score(P, section=sec, attribute=["pat=00"] * 2)
    with pytest.raises(TypeError, match="does not take the metadata \\['colour'\\]"):
        det.anomaly_score(P, section=sec, colour=["red"] * 3)


def test_softmax_attribute_is_routed_through_a_pipeline(routing):
    classes = ["s0|pat=00", "s0|pat=01"]
    P = np.array([[0.7, 0.3], [0.2, 0.8]])
    pipe = Pipeline([("score", SoftmaxScore(classes=classes))]).fit(P, classes)
    np.testing.assert_allclose(
        pipe.decision_function(P, section=["s0", "s0"], attribute=["pat=01", "pat=01"]),
        pipe.decision_function(P[:, ::-1], section=["s0", "s0"], attribute=["pat=00", "pat=00"]),
    )
    # one section: the section may be left out
    np.testing.assert_allclose(pipe[-1].anomaly_score(P), [-0.7, -0.8])


def test_softmax_without_sections_is_the_maximum_probability():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    det = SoftmaxScore(per_section=False).fit(P, ["s0", "s1", "s2"])
    np.testing.assert_allclose(det.anomaly_score(P), [-0.7, -0.8, -0.4])
    with pytest.raises(ValueError, match="requires y to be passed"):
        SoftmaxScore(per_section=False).fit(P)


def test_softmax_with_a_classifier(data):
    X, section, *_ = data
    det = SoftmaxScore(LogisticRegression(max_iter=500)).fit(X, section)
    clf = LogisticRegression(max_iter=500).fit(X, section)
    expected = -clf.predict_proba(X)[np.arange(len(X)), np.searchsorted(clf.classes_, section)]
    np.testing.assert_allclose(det.anomaly_score(X, section=section), expected)
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        SoftmaxScore().fit(X, section)


# ---------------------------------------------------------------- standardized ensemble


def test_ensemble_standardizes_per_section_and_combines(data):
    X, section, domain, X_test, sec_test, dom_test = data
    members = [("knn", KNNDetector(metric="euclidean")), ("maha", MahalanobisDetector())]
    ens = StandardizedEnsemble(members, weights=[0.3, 0.7]).fit(X, section=section)
    knn = KNNDetector(metric="euclidean").fit(X)
    maha = MahalanobisDetector().fit(X)
    expected = np.empty(len(X_test))
    for sec in "abc":
        tr, te = section == sec, sec_test == sec
        z = [
            (m.anomaly_score(X_test[te]) - m.train_anomaly_scores_[tr].mean())
            / m.train_anomaly_scores_[tr].std()
            for m in (knn, maha)
        ]
        expected[te] = 0.3 * z[0] + 0.7 * z[1]  # w * alpha + (1 - w) * beta
    np.testing.assert_allclose(ens.anomaly_score(X_test, section=sec_test), expected)
    mx = StandardizedEnsemble(members, combine="max", per_section=False).fit(X)
    z = [
        (m.anomaly_score(X_test) - m.train_anomaly_scores_.mean()) / m.train_anomaly_scores_.std()
        for m in (knn, maha)
    ]
    np.testing.assert_allclose(mx.anomaly_score(X_test), np.max(z, axis=0))


def test_ensemble_params_errors_and_sklearn_members(data):
    X, section, *_ = data
    ens = StandardizedEnsemble([("knn", KNNDetector()), ("iso", IsolationForest(random_state=0))])
    assert ens.get_params()["knn__n_neighbors"] == 1
    ens.set_params(knn__n_neighbors=3)
    assert ens.estimators[0][1].n_neighbors == 3
    ens.fit(X, section)  # y stands in for the section; IsolationForest gets no metadata
    assert np.all(np.isfinite(ens.anomaly_score(X, section=section)))
    with pytest.raises(ValueError, match="weights apply to combine='mean'"):
        StandardizedEnsemble([("knn", KNNDetector())], combine="max", weights=[1.0]).fit(X, section)
    with pytest.raises(ValueError, match="weights must be 2 non-negative"):
        StandardizedEnsemble([("a", KNNDetector()), ("b", KNNDetector())], weights=[1.0]).fit(X, section)
    with pytest.raises(ValueError, match="section 'z' was not seen"):
        ens.anomaly_score(X[:1], section=["z"])


def test_ensemble_in_a_routed_pipeline_pickles(data, routing, tmp_path):
    X, section, domain, X_test, sec_test, dom_test = data
    pipe = make_pipeline(
        StandardScaler(),
        StandardizedEnsemble(
            [
                ("dom", DomainAwareDetector(LOFDetector(per_section=True), KNNDetector(per_section=True))),
                ("maha", MahalanobisDetector(per_section=True, per_domain=True, covariance="ledoit_wolf")),
            ]
        ),
    )
    pipe.fit(X, section, section=section, domain=domain)
    dec = pipe.decision_function(X_test, section=sec_test, domain=dom_test)
    joblib.dump(pipe, tmp_path / "p.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "p.joblib").decision_function(X_test, section=sec_test, domain=dom_test), dec
    )


# ---------------------------------------------------------------- thresholds and errors


@pytest.mark.parametrize("contamination", [0.05, 0.1, 0.3])
def test_gamma_threshold_equals_the_baseline(contamination, data):
    X, *_ = data
    det = KNNDetector(metric="euclidean", threshold="gamma", contamination=contamination).fit(X)
    shape, loc, scale = scipy.stats.gamma.fit(det.train_anomaly_scores_)
    expected = scipy.stats.gamma.ppf(1 - contamination, shape, loc=loc, scale=scale)
    assert -det.offset_ == pytest.approx(expected, rel=1e-6)
    pct = KNNDetector(metric="euclidean", contamination=contamination).fit(X)
    assert -pct.offset_ == pytest.approx(np.percentile(pct.train_anomaly_scores_, 100 * (1 - contamination)))


@pytest.mark.parametrize(
    "detector",
    [
        LOFDetector(),
        MahalanobisDetector(),
        KMeansCosineDetector(n_clusters=2),
        DomainAwareDetector(),
        StandardizedEnsemble([("knn", KNNDetector())], per_section=False),
    ],
    ids=lambda d: type(d).__name__,
)
def test_nan_embeddings_are_rejected(detector):
    X = np.random.default_rng(0).normal(size=(20, 3))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        detector.fit(X)


def test_invalid_members_of_meta_detectors_are_caught(data):
    """Nested validation is not skipped: an invalid member does not fit with a default branch."""
    from sklearn.utils._param_validation import InvalidParameterError

    X, section, *_ = data
    with pytest.raises(InvalidParameterError, match="aggregate"):
        StandardizedEnsemble([("knn", KNNDetector(aggregate="median"))]).fit(X, section=section)
    domain = np.where(np.arange(len(X)) % 4 == 0, "target", "source")
    with pytest.raises(InvalidParameterError, match="threshold"):
        DomainAwareDetector(LOFDetector(threshold="bogus")).fit(X, domain=domain)


def test_degenerate_training_data_is_named():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    X[:, 2] = 1.0  # a constant feature
    with pytest.warns(UserWarning, match="1 of 4 features are constant"):
        det = MahalanobisDetector(per_section=False).fit(X)
    far = X[:1].copy()
    far[0, 2] = 100.0  # 100 away along the constant feature: not normal
    assert det.anomaly_score(far)[0] > 100 * det.train_anomaly_scores_.max()
    with pytest.warns(UserWarning, match="identical features \\(silent or constant"):
        KNNDetector(metric="euclidean").fit(np.zeros((5, 3)))


@pytest.mark.parametrize(
    "detector",
    [
        KNNDetector(metric="euclidean"),
        LOFDetector(n_neighbors=3),
        MahalanobisDetector(),
        KMeansCosineDetector(n_clusters=2, random_state=0),
    ],
)
def test_per_section_state_has_one_name(detector, data):
    X, section, *_ = data
    fitted = clone(detector).set_params(per_section=True).fit(X, section=section)
    assert list(fitted.sections_) == sorted(set(section))
    assert set(fitted.models_) == set(section)  # keyed by section alone, whatever else splits a model
    one = clone(detector).set_params(per_section=False).fit(X, section=section)
    assert len(one.sections_) == 0 and set(one.models_) == {None}


def test_softmax_mean_probability_threshold_is_kazakovas():
    P = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    det = SoftmaxScore(per_section=False, threshold="mean_probability", margin=0.04).fit(P, ["m", "m", "o"])
    # anomalous when p < (1 - 0.04) * mean training p = 0.96 * 0.8 = 0.768
    np.testing.assert_array_equal(det.predict([[0.77, 0.23], [0.76, 0.24]]), [1, -1])
    with pytest.raises(ValueError, match="use kind='prob'"):
        SoftmaxScore(kind="log_odds", threshold="mean_probability").fit(P, ["m", "m", "o"])


def test_a_domain_aware_detector_without_domains_says_so():
    X = np.random.RandomState(0).normal(size=(30, 3))
    domain = np.array(["source"] * 25 + ["target"] * 5)
    with pytest.warns(UserWarning, match=r"DomainAwareDetector chooses its model by domain, but no domain"):
        det = DomainAwareDetector().fit(X)
    det = DomainAwareDetector().fit(X, domain=domain)
    with pytest.warns(UserWarning, match=r"all 30 clips are taken as source clips"):
        det.anomaly_score(X)
    with pytest.warns(UserWarning, match=r"MahalanobisDetector chooses its model by domain"):
        MahalanobisDetector(per_domain=True).fit(X)
    # the selective score needs no domain at test time: no warning there
    fitted = MahalanobisDetector(per_domain=True).fit(X, domain=domain)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.anomaly_score(X)


@pytest.mark.parametrize("combine, weights", [("mean", None), ("mean", [0.7, 0.3]), ("max", None)])
def test_ensemble_member_scores_are_what_it_combines(combine, weights):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    section = np.repeat(["section_00", "section_01"], 30)
    members = [("knn", KNNDetector(metric="euclidean", per_section=True)), ("maha", MahalanobisDetector())]
    ens = StandardizedEnsemble(members, combine=combine, weights=weights).fit(X, section=section)
    T, t_section = rng.normal(size=(10, 3)) * 2, np.repeat(["section_00", "section_01"], 5)
    z = ens.member_anomaly_scores(T, section=t_section)
    assert list(z) == ["knn", "maha"]
    stacked = np.array(list(z.values()))
    expected = stacked.max(axis=0) if combine == "max" else np.average(stacked, axis=0, weights=weights)
    np.testing.assert_allclose(ens.anomaly_score(T, section=t_section), expected)
    raw = ens.member_anomaly_scores(T, section=t_section, standardized=False)
    for (name, _), fitted in zip(members, ens.estimators_):
        np.testing.assert_array_equal(raw[name], fitted.anomaly_score(T, section=t_section))
    # standardized by each section's training scores of the member
    means, stds = ens.stats_["section_01"]
    np.testing.assert_allclose(z["maha"][5:], (raw["maha"][5:] - means[1]) / stds[1])
