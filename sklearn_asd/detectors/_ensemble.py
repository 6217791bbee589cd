"""Ensembles of detectors with scores standardized per section."""

import numpy as np
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import _BaseComposition

from ..utils import split_outliers
from ..utils._anomaly import routed_anomaly_score
from ._base import BaseDetector, MetaDetector, PerSectionMixin, fit_member, training_scores


class StandardizedEnsemble(PerSectionMixin, _BaseComposition, MetaDetector):
    """Combine detectors after standardizing each one's anomaly scores on its training data, per section.

    Giri et al. (DCASE 2020) ensemble models whose scores live on different scales
    by standardizing each model's scores with the mean and standard deviation of
    its scores on the training clips of the same section (machine ID), then taking
    the mean or the max. Weights give the weighted form ``w * alpha + (1 - w) *
    beta`` of Hai et al. (DCASE 2024): ``weights=[w, 1 - w]``.

    Each member is fitted on the same clips; ``section`` and ``domain`` reach the
    members that request them. The training scores of our detectors are
    leave-one-out where possible, so the standardization is not biased by a
    member's own fit.

    Parameters
    ----------
    estimators : list of (str, detector)
        The members, by name (``get_params`` exposes ``name__param``).
    combine : {"mean", "max"}, default="mean"
        How the standardized scores are combined; ``weights`` apply to ``"mean"``.
    weights : array-like of shape (n_estimators,) or None, default=None
        Weights of the (weighted) mean.
    per_section : bool, default=True
        Standardize with each section's statistics (routed ``section``, or ``y``
        in ``fit``); ``False``: one mean and deviation over all training clips.
    contamination : float in (0, 0.5], default=0.1
    threshold : {"percentile", "gamma"}, default="percentile"

    Attributes
    ----------
    estimators_ : list of detectors
        The fitted members.
    stats_ : dict
        ``{section: (means, stds)}``, one value per member (key ``None``
        without ``per_section``).

    See Also
    --------
    DomainAwareDetector : one member per domain instead of every member on every clip.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import KNNDetector, MahalanobisDetector, StandardizedEnsemble
    >>> X = np.random.RandomState(0).normal(size=(80, 3))
    >>> ens = StandardizedEnsemble(
    ...     [("knn", KNNDetector(metric="euclidean")), ("maha", MahalanobisDetector())],
    ...     weights=[0.7, 0.3], per_section=False,
    ... ).fit(X)
    >>> ens.predict([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]])
    array([ 1, -1])
    >>> sorted(ens.member_anomaly_scores([[5.0, 5.0, 5.0]]))  # what each member says of the clip
    ['knn', 'maha']
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "estimators": [list],
        "combine": [StrOptions({"mean", "max"})],
        "weights": ["array-like", None],
        **PerSectionMixin._parameter_constraints,
    }

    def __init__(
        self,
        estimators,
        *,
        combine="mean",
        weights=None,
        per_section=True,
        contamination=0.1,
        threshold="percentile",
    ):
        self.estimators = estimators
        self.combine = combine
        self.weights = weights
        self.per_section = per_section
        self.contamination = contamination
        self.threshold = threshold

    def get_params(self, deep=True):
        """Parameters, with each member's as ``name__param``."""
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters, including members' (``name__param``) and members themselves (``name``)."""
        self._set_params("estimators", **params)
        return self

    def _check_members(self):
        if not self.estimators:
            raise ValueError("StandardizedEnsemble needs at least one (name, detector) pair.")
        names, _ = zip(*self.estimators)
        self._validate_names(names)
        if self.weights is not None:
            if self.combine != "mean":
                raise ValueError("weights apply to combine='mean' only.")
            if len(self.weights) != len(self.estimators) or np.any(np.asarray(self.weights) < 0):
                raise ValueError(
                    f"weights must be {len(self.estimators)} non-negative numbers, got {self.weights!r}."
                )

    def _combine(self, scores, section):
        """Standardize the (n_members, n_clips) scores by section and combine them."""
        z = self._standardize(scores, section, self.stats_)
        if self.combine == "max":
            return z.max(axis=0)
        return np.average(z, axis=0, weights=self.weights)

    _consumes_outliers = True  # members that train with outlier exposure get the outlier rows

    def _fit(self, X, y, section, domain, outlier):
        self._check_members()
        metadata = {"section": section, "domain": domain}
        self.estimators_ = [fit_member(est, X, y, outlier=outlier, **metadata) for _, est in self.estimators]
        normal, _ = split_outliers(outlier, X, section=section, domain=domain)
        metadata = {"section": normal.section, "domain": normal.domain}
        scores = np.array([training_scores(est, normal.X, **metadata) for est in self.estimators_])
        self.stats_ = self._section_stats(scores, normal.section)
        return self._combine(scores, normal.section)

    def _member_scores(self, X, section, domain):
        return np.array(
            [routed_anomaly_score(est, X, section=section, domain=domain) for est in self.estimators_]
        )

    def _anomaly_score(self, X, section, domain):
        return self._combine(self._member_scores(X, section, domain), section)

    def member_anomaly_scores(self, X, section=None, domain=None, *, standardized=True):
        """Each member's anomaly scores of ``X``: what it contributes to the ensemble's.

        Parameters
        ----------
        X : array-like
            Clips, as the members take them (after the pipeline's earlier steps).
        section, domain : array-like of shape (n_clips,), default=None
            As for :meth:`anomaly_score`.
        standardized : bool, default=True
            The scores after the per-section standardization (what is combined), or the
            members' own (``False``).

        Returns
        -------
        scores : dict
            ``{name: ndarray of shape (n_clips,)}``, higher = more anomalous, in member order.
        """
        X, section, domain, _ = self._check_scoring(X, section, domain, {})
        scores = self._member_scores(X, section, domain)
        if standardized:
            scores = self._standardize(scores, section, self.stats_)
        return {name: member for (name, _), member in zip(self.estimators, scores)}
