import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline

from sklearn_asd.datasets import concat_datasets, make_machine_sounds
from sklearn_asd.detectors import KNNDetector
from sklearn_asd.features import LogMel, Pool
from sklearn_asd.metrics import auc_scorer, dcase_score, dcase_scorer, pauc_scorer
from sklearn_asd.model_selection import DCASESplit, NormalOnlyKFold
from sklearn_asd.utils import anomaly_score


def labelled(n_sections=2, n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([f"section_{i:02d}" for i in range(n_sections)], n)
    domain = np.tile(np.r_[np.full(n - 10, "source"), np.full(10, "target")], n_sections).astype(object)
    anomaly = (rng.random(len(y)) < 0.3).astype(int)
    return np.zeros((len(y), 1)), y, domain, anomaly


@pytest.mark.parametrize("anomalies", ["split", "all"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_normal_only_kfold_properties(anomalies, shuffle):
    X, y, domain, anomaly = labelled()
    cv = NormalOnlyKFold(4, shuffle=shuffle, random_state=0, anomalies=anomalies)
    tested = np.zeros(len(y), dtype=int)
    folds = list(cv.split(X, y, anomaly=anomaly, domain=domain))
    assert len(folds) == cv.get_n_splits() == 4
    for train, test in folds:
        assert np.all(anomaly[train] == 0)  # anomalies never train
        assert not set(train) & set(test)
        assert set(train) | set(test) >= set(np.flatnonzero(anomaly == 0))
        tested[test] += 1
        # stratified: each fold tests every section and both domains
        normals = test[anomaly[test] == 0]
        assert set(y[normals]) == set(y) and set(domain[normals]) == {"source", "target"}
    assert np.all(tested[anomaly == 0] == 1)
    assert np.all(tested[anomaly == 1] == (1 if anomalies == "split" else 4))


def test_normal_only_kfold_is_deterministic_and_shuffles():
    X, y, domain, anomaly = labelled()
    runs = [
        [t.tolist() for _, t in NormalOnlyKFold(3, shuffle=True, random_state=s).split(X, y, anomaly=anomaly)]
        for s in (0, 0, 1)
    ]
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_normal_only_kfold_errors():
    X, y, _, anomaly = labelled()
    with pytest.raises(ValueError, match="needs the ground truth: pass anomaly="):
        next(NormalOnlyKFold().split(X, y))
    with pytest.raises(ValueError, match="unknown label"):
        next(NormalOnlyKFold().split(X, y, anomaly=np.r_[anomaly[:-1], -1]))
    with pytest.raises(ValueError, match="cannot split 2 normal clips"):
        next(NormalOnlyKFold(3).split(np.zeros((4, 1)), anomaly=[0, 0, 1, 1]))
    with pytest.raises(ValueError, match="does not use groups"):
        next(NormalOnlyKFold().split(X, y, groups=y, anomaly=anomaly))


def test_dcase_split():
    split = np.array(["train"] * 3 + ["test"] * 2)
    ((train, test),) = DCASESplit().split(np.zeros((5, 1)), split=split, anomaly=[0, 0, 0, 1, 0])
    assert train.tolist() == [0, 1, 2] and test.tolist() == [3, 4]
    with pytest.raises(ValueError, match="training clip\\(s\\) are anomalous"):
        next(DCASESplit().split(np.zeros((5, 1)), split=split, anomaly=[1, 0, 0, 1, 0]))
    with pytest.raises(ValueError, match="needs split="):
        next(DCASESplit().split(np.zeros((5, 1))))


@pytest.fixture(scope="module")
def machine():
    kw = dict(n_sections=2, duration=1.0, random_state=0)
    train = make_machine_sounds(n_normal={"source": 16, "target": 4}, split="train", **kw)
    test = make_machine_sounds(n_normal=6, n_anomalous=6, **kw)
    return concat_datasets(train, test)


def model():
    return Pipeline(
        [("logmel", LogMel(n_mels=64)), ("pool", Pool("mean+std")), ("knn", KNNDetector(per_section=True))]
    )


def test_grid_search_with_dcase_scorer_and_normal_only_kfold(machine, routing):
    search = GridSearchCV(
        model(),
        {"knn__n_neighbors": [1, 3], "knn__metric": ["euclidean", "cosine"]},
        scoring={"dcase": dcase_scorer, "auc": auc_scorer, "pauc": pauc_scorer},
        # refit=True would refit on every clip given to fit, anomalies included
        refit=False,
        cv=NormalOnlyKFold(3, shuffle=True, random_state=0),
        error_score="raise",
    )
    search.fit(
        machine["X"],
        machine["y"],
        anomaly=machine["anomaly"],
        section=machine["section"],
        domain=machine["domain"],
    )
    scores = search.cv_results_["mean_test_dcase"]
    assert scores.shape == (4,) and np.all((scores > 0.5) & (scores <= 1.0))
    assert np.all(search.cv_results_["mean_test_auc"] >= scores - 1e-12)  # a harmonic mean is below its AUCs
    # each fold's score is the scorer on a model fitted on that fold's normal clips only
    cv = NormalOnlyKFold(3, shuffle=True, random_state=0)
    train, test = next(
        cv.split(machine["X"], machine["y"], anomaly=machine["anomaly"], domain=machine["domain"])
    )
    first = model().set_params(**search.cv_results_["params"][0])
    first.fit(machine["X"][train], machine["y"][train], section=machine["section"][train])
    fold0 = dcase_score(
        machine["anomaly"][test],
        anomaly_score(first, machine["X"][test], section=machine["section"][test]),
        section=machine["section"][test],
        domain=machine["domain"][test],
    )
    assert search.cv_results_["split0_test_dcase"][0] == pytest.approx(fold0)


def test_dcase_split_reproduces_the_official_protocol(machine, routing):
    result = cross_validate(
        model(),
        machine["X"],
        machine["y"],
        cv=DCASESplit(),
        scoring=dcase_scorer,
        params={k: machine[k] for k in ("anomaly", "section", "domain", "split")},
        error_score="raise",
    )
    train, test = machine["split"] == "train", machine["split"] == "test"
    direct = model().fit(machine["X"][train], machine["y"][train], section=machine["section"][train])
    scores = anomaly_score(direct, machine["X"][test], section=machine["section"][test])
    expected = dcase_score(
        machine["anomaly"][test], scores, section=machine["section"][test], domain=machine["domain"][test]
    )
    assert result["test_score"][0] == pytest.approx(expected)


def test_scorer_without_ground_truth_says_what_to_pass(machine, routing):
    fitted = model().fit(machine["X"][:20], machine["y"][:20], section=machine["section"][:20])
    with pytest.raises(ValueError, match="needs the ground truth as metadata"):
        dcase_scorer(fitted, machine["X"])


def small_search_scores(machine, n_jobs=None):
    """Mean official score of a 2-candidate, 2-fold search (the scale-out tests run it)."""
    gs = GridSearchCV(
        model(),
        {"knn__n_neighbors": [1, 2]},
        scoring=dcase_scorer,
        cv=NormalOnlyKFold(2, shuffle=True, random_state=0),
        refit=False,
        n_jobs=n_jobs,
        error_score="raise",
    )
    gs.fit(
        machine["X"],
        machine["y"],
        anomaly=machine["anomaly"],
        section=machine["section"],
        domain=machine["domain"],
    )
    return gs.cv_results_["mean_test_score"]


def test_grid_search_on_loky_processes_equals_sequential(machine, routing):
    """Scale-out without a home-made scheduler: joblib's process backend runs the same search."""
    from joblib import parallel_backend

    sequential = small_search_scores(machine)
    with parallel_backend("loky", n_jobs=2):
        parallel = small_search_scores(machine, n_jobs=2)
    np.testing.assert_allclose(parallel, sequential)


def test_grid_search_on_a_dask_cluster_equals_sequential(machine, routing):
    """The same search on dask.distributed's joblib backend (worker processes, as on a cluster)."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    from joblib import parallel_backend

    sequential = small_search_scores(machine)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    with cluster, distributed.Client(cluster) as client:
        with parallel_backend("dask"):
            on_dask = small_search_scores(machine)
        # the fits ran on the workers (2 candidates x 2 folds)
        assert sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values()) >= 4
    np.testing.assert_allclose(on_dask, sequential)


def test_outlier_rows_train_in_every_fold_and_are_never_tested():
    anomaly = np.r_[np.zeros(8, int), np.ones(4, int), np.zeros(3, int)]
    outlier = np.r_[np.zeros(12, bool), np.ones(3, bool)]
    folds = list(NormalOnlyKFold(n_splits=2).split(np.zeros((15, 1)), anomaly=anomaly, outlier=outlier))
    for train, test in folds:
        assert set(range(12, 15)) <= set(train) and not set(range(12, 15)) & set(test)
        assert not set(range(8, 12)) & set(train)
    with pytest.raises(ValueError, match="outlier=True must have anomaly=0"):
        next(NormalOnlyKFold(n_splits=2).split(np.zeros((15, 1)), anomaly=1 - anomaly, outlier=outlier))
