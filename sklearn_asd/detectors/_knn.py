"""k-nearest-neighbour distance detector."""

from numbers import Integral

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._persistence import safe_to_load
from ._base import BaseDetector, PerSectionMixin


@safe_to_load
class _CosineIndex:
    """Exact cosine k-nearest-neighbour search by blocked matrix products.

    scikit-learn's cosine search takes its generic (non-GEMM) path; on unit-norm
    embeddings the cosine distance is ``1 - x . t``, one BLAS product per block
    of queries (about 10x faster on 128-d embeddings, see
    ``benchmarks/bench_detectors.py``). Blocks hold at most 2**24 similarities.
    """

    def __init__(self, X, n_neighbors):
        self.unit = normalize(X)
        self.n_neighbors = n_neighbors

    def kneighbors(self, X=None):
        """Distances (n_queries, k), ascending; ``X=None`` queries the training rows leave-one-out."""
        loo = X is None
        Q = self.unit if loo else normalize(X).astype(self.unit.dtype, copy=False)
        k = self.n_neighbors
        out = np.empty((Q.shape[0], k), dtype=self.unit.dtype)
        rows = max(1, min(4096, 2**24 // max(1, self.unit.shape[0])))
        for start in range(0, Q.shape[0], rows):
            sim = Q[start : start + rows] @ self.unit.T
            if loo:
                block = np.arange(sim.shape[0])
                sim[block, start + block] = -np.inf
            if k == 1:
                top = sim.max(axis=1, keepdims=True)
            else:
                top = -np.sort(-np.partition(sim, sim.shape[1] - k, axis=1)[:, -k:], axis=1)
            out[start : start + rows] = np.clip(1.0 - top, 0.0, 2.0)
        return out, None


def _faiss():
    """The faiss module, or None when it is not installed (``pip install "sklearn-asd[faiss]"``)."""
    try:
        import faiss
    except ImportError:
        return None
    return faiss


@safe_to_load
class _FaissIndex:
    """Exact k-nearest-neighbour search by faiss (``IndexFlatL2`` / ``IndexFlatIP``).

    faiss's flat indexes do the same exact search as the blocked products, with its own GEMM and
    top-k kernels (``benchmarks/bench_detectors.py`` measures both). Only the training matrix is
    kept: the index is a view of it, built for each search (it costs a copy of the matrix), so
    a fitted detector pickles and writes to the safe format like any other, and on a machine
    without faiss it searches by :class:`_CosineIndex` or scikit-learn instead, with the same
    neighbours.
    """

    def __init__(self, X, n_neighbors, metric):
        self.metric = metric
        unit = normalize(X) if metric == "cosine" else X
        self.data = np.ascontiguousarray(unit, dtype=np.float32)
        self.n_neighbors = n_neighbors

    def kneighbors(self, X=None):
        """Distances (n_queries, k), ascending; ``X=None`` queries the training rows leave-one-out."""
        faiss = _faiss()
        if faiss is None:
            return self._without_faiss(X)
        loo, k = X is None, self.n_neighbors
        if loo:
            Q = self.data
        else:
            Q = np.asarray(X, dtype=np.float32)
            Q = np.ascontiguousarray(normalize(Q) if self.metric == "cosine" else Q)
        index = (faiss.IndexFlatIP if self.metric == "cosine" else faiss.IndexFlatL2)(self.data.shape[1])
        index.add(self.data)
        found, ids = index.search(Q, min(k + loo, len(self.data)))
        if loo:  # drop each row's own entry (or, among exact duplicates, the last one)
            own = ids == np.arange(len(Q))[:, None]
            drop = np.where(own.any(axis=1), own.argmax(axis=1), found.shape[1] - 1)
            keep = np.ones_like(own)
            keep[np.arange(len(Q)), drop] = False
            found = found[keep].reshape(len(Q), -1)
        if self.metric == "cosine":
            return np.clip(1.0 - found, 0.0, 2.0), None
        return np.sqrt(np.maximum(found, 0.0)), None

    def _without_faiss(self, X):
        if self.metric == "cosine":
            return _CosineIndex(self.data, self.n_neighbors).kneighbors(X)
        index = NearestNeighbors(n_neighbors=self.n_neighbors).fit(self.data)
        return index.kneighbors(None if X is None else np.asarray(X, dtype=np.float32))


class KNNDetector(PerSectionMixin, BaseDetector):
    """Anomaly score = mean (or max) distance to the k nearest training embeddings.

    The kNN back-end of the self-supervised ASD systems (e.g. 1 neighbour,
    cosine distance, per section, for the target domain of Morita et al.,
    DCASE 2021). Neighbour search is exact: by faiss when it is installed (cosine and
    Euclidean), else by blocked matrix products (cosine) and scikit-learn's
    :class:`NearestNeighbors` (every other metric; see ``backend``).
    Training clips' own scores are computed leave-one-out (a clip is not its
    own neighbour), so the ``contamination`` threshold is not biased to zero.

    Parameters
    ----------
    n_neighbors : int, default=1
        Number of neighbours, k.
    metric : str or callable, default="cosine"
        Distance, any that :class:`~sklearn.neighbors.NearestNeighbors` takes.
    aggregate : {"mean", "max"}, default="mean"
        How the k distances make one score.
    per_section : bool, default=False
        Fit one neighbour index per section and compare each test clip only
        with training clips of its own section (routed ``section``; in ``fit``
        ``y`` stands in for it when not given).
    contamination : float in (0, 0.5], default=0.1
        Share of training clips that the ``predict`` threshold would flag.
    threshold : {"percentile", "gamma"}, default="percentile"
        How ``offset_`` is set from the training scores (see
        :class:`BaseDetector`).
    n_jobs : int or None, default=None
        Parallel jobs of the neighbour search.
    backend : {"auto", "faiss", "numpy"}, default="auto"
        Who searches the cosine and Euclidean neighbours (the same ones, exactly): ``"faiss"``
        (its flat indexes; ``pip install "sklearn-asd[faiss]"``), ``"numpy"`` (blocked matrix
        products for the cosine, scikit-learn for the rest), ``"auto"``: faiss when installed and
        the embeddings are float32 (faiss computes in float32; float64 embeddings keep the
        float64 search). Other metrics are scikit-learn's. A model fitted with faiss scores
        without it too.

    Attributes
    ----------
    models_ : dict
        The neighbour index of each section's training embeddings (key ``None`` without
        ``per_section``).
    sections_ : ndarray of str
        Sections seen in ``fit`` (empty without ``per_section``).
    train_anomaly_scores_ : ndarray of shape (n_train_clips,)
        Leave-one-out scores of the training clips.
    offset_ : float
        Threshold of ``decision_function``.

    See Also
    --------
    LOFDetector : the local density ratio instead of the distance.
    KMeansCosineDetector : the distance to cluster centres.
    MahalanobisDetector : the distance under the training clips' covariance.
    sklearn.neighbors.NearestNeighbors : the search underneath.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import KNNDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(100, 4)) + 3.0
    >>> det = KNNDetector(n_neighbors=2, metric="euclidean").fit(X)
    >>> det.predict([[3.0, 3.0, 3.0, 3.0], [30.0, 0.0, 0.0, 0.0]])
    array([ 1, -1])
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "metric": [str, callable],
        "aggregate": [StrOptions({"mean", "max"})],
        **PerSectionMixin._parameter_constraints,
        "n_jobs": [Integral, None],
        "backend": [StrOptions({"auto", "faiss", "numpy"})],
    }

    def __init__(
        self,
        n_neighbors=1,
        *,
        metric="cosine",
        aggregate="mean",
        per_section=False,
        contamination=0.1,
        threshold="percentile",
        n_jobs=None,
        backend="auto",
    ):
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.aggregate = aggregate
        self.per_section = per_section
        self.contamination = contamination
        self.threshold = threshold
        self.n_jobs = n_jobs
        self.backend = backend

    def _use_faiss(self, X):
        if self.metric not in ("cosine", "euclidean") or self.backend == "numpy":
            return False
        if self.backend == "faiss" and _faiss() is None:
            raise ImportError('KNNDetector(backend="faiss") needs faiss: pip install "sklearn-asd[faiss]".')
        # faiss searches in float32: float64 embeddings keep the float64 search, unless asked
        return _faiss() is not None and (X.dtype == np.float32 or self.backend == "faiss")

    def _reduce(self, dist):
        return dist.mean(axis=1) if self.aggregate == "mean" else dist.max(axis=1)

    def _fit(self, X, y, section, domain):
        use_faiss = self._use_faiss(X)

        def fit_one(key, idx):
            if use_faiss:
                index = _FaissIndex(self._rows(X, idx), self.n_neighbors, self.metric)
            elif self.metric == "cosine":
                index = _CosineIndex(self._rows(X, idx), self.n_neighbors)
            else:
                index = NearestNeighbors(n_neighbors=self.n_neighbors, metric=self.metric, n_jobs=self.n_jobs)
                index.fit(self._rows(X, idx))
            # kneighbors(None) leaves each training clip out of its own neighbours.
            return index, self._reduce(index.kneighbors()[0])

        scores = self._fit_sections(
            X,
            section,
            fit_one,
            min_clips=self.n_neighbors + 1,
            requirement=f"KNNDetector(n_neighbors={self.n_neighbors}) needs more than {self.n_neighbors}",
        )
        return scores

    def _anomaly_score(self, X, section, domain):
        return self._score_sections(
            X,
            section,
            lambda index, idx: self._reduce(index.kneighbors(self._rows(X, idx))[0]),
        )
