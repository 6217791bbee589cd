"""Local outlier factor detector."""

from numbers import Integral

from sklearn.neighbors import LocalOutlierFactor
from sklearn.utils._param_validation import Interval

from ._base import BaseDetector, PerSectionMixin


class LOFDetector(PerSectionMixin, BaseDetector):
    """Anomaly score = local outlier factor, from scikit-learn's ``LocalOutlierFactor(novelty=True)``.

    The source-domain back-end of Morita et al. (DCASE 2021): LOF with 4 neighbours on
    the clip embeddings of each section. A clip's score is its LOF (about 1 for inliers,
    larger for outliers), ``-LocalOutlierFactor.score_samples``; the training clips'
    scores are their LOF within the training set (``-negative_outlier_factor_``).

    Parameters
    ----------
    n_neighbors : int, default=4
        Neighbours of the local density.
    metric : str or callable, default="euclidean"
        Distance of the neighbour search.
    per_section : bool, default=False
        One LOF per section (routed ``section``, or ``y`` in ``fit``).
    contamination : float in (0, 0.5], default=0.1
        Share of training clips above the threshold.
    threshold : {"percentile", "gamma"}, default="percentile"
        How ``offset_`` is set.
    n_jobs : int or None, default=None
        Parallel jobs of the neighbour search.

    Attributes
    ----------
    models_ : dict
        The fitted ``LocalOutlierFactor`` of each section (key ``None`` without
        ``per_section``).
    sections_, train_anomaly_scores_, offset_
        See :class:`BaseDetector`.

    See Also
    --------
    KNNDetector : the distance to the nearest training clips.
    DomainAwareDetector : an LOF for source clips and a kNN for target clips.

    References
    ----------
    M. M. Breunig et al., "LOF: identifying density-based local outliers", SIGMOD 2000.
    K. Morita et al., "Anomalous sound detection using CNN-based features by
    self-supervised learning", DCASE 2021 technical report.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import LOFDetector
    >>> X = np.random.RandomState(0).normal(size=(100, 3))
    >>> det = LOFDetector().fit(X)
    >>> det.predict([[0.0, 0.0, 0.0], [6.0, 6.0, 6.0]])
    array([ 1, -1])
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "metric": [str, callable],
        **PerSectionMixin._parameter_constraints,
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_neighbors=4,
        *,
        metric="euclidean",
        per_section=False,
        contamination=0.1,
        threshold="percentile",
        n_jobs=None,
    ):
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.per_section = per_section
        self.contamination = contamination
        self.threshold = threshold
        self.n_jobs = n_jobs

    def _fit(self, X, y, section, domain):
        def fit_one(key, idx):
            lof = LocalOutlierFactor(
                n_neighbors=self.n_neighbors, metric=self.metric, novelty=True, n_jobs=self.n_jobs
            )
            lof.fit(self._rows(X, idx))
            return lof, -lof.negative_outlier_factor_

        scores = self._fit_sections(
            X,
            section,
            fit_one,
            min_clips=self.n_neighbors + 1,
            requirement=f"LOFDetector(n_neighbors={self.n_neighbors}) needs more than {self.n_neighbors}",
        )
        return scores

    def _anomaly_score(self, X, section, domain):
        return self._score_sections(
            X,
            section,
            lambda lof, idx: -lof.score_samples(self._rows(X, idx)),
        )
