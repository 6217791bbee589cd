"""The base of every sklearn-asd detector: signs, threshold, metadata."""

import warnings
from abc import abstractmethod
from numbers import Real

import numpy as np
import scipy.stats
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from ..utils import (
    DOMAINS,
    UNKNOWN_DOMAIN,
    check_metadata,
    check_outlier_mask,
    routed_metadata,
    split_outliers,
)
from ..utils._anomaly import routed_anomaly_score
from ..utils._threads import uses_torch_threads

_DOMAINS = (*DOMAINS, UNKNOWN_DOMAIN)


def partition(section, n, per_section):
    """Indices of each section's clips, or of all ``n`` clips under the key None."""
    if not per_section:
        return {None: np.arange(n)}
    return {s: np.flatnonzero(section == s) for s in np.unique(section)}


def unknown_error(kind, key, known):
    """The error for a section (or domain) that ``fit`` did not see."""
    return ValueError(f"{kind} {key!r} was not seen in fit; known {kind}s: {sorted(map(str, known))}.")


def standardization_stats(scores, section, per_section):
    """Mean and standard deviation of each row of ``scores`` (n_scorers, n_clips), per section."""
    stats = {}
    for key, idx in partition(section, scores.shape[1], per_section).items():
        stds = scores[:, idx].std(axis=1)
        stats[key] = (scores[:, idx].mean(axis=1), np.where(stds > 0, stds, 1.0))
    return stats


def standardize(scores, section, per_section, stats):
    """Scores (n_scorers, n_clips) standardized with their section's training statistics."""
    z = np.empty_like(scores, dtype=float)
    for key, idx in partition(section, scores.shape[1], per_section).items():
        if key not in stats:
            raise unknown_error("section", key, stats)
        means, stds = stats[key]
        z[:, idx] = (scores[:, idx] - means[:, None]) / stds[:, None]
    return z


def training_scores(estimator, X, **metadata):
    """Anomaly scores of a fitted member on its own training clips ``X``.

    Our detectors (and pipelines ending in one) keep them from ``fit``,
    leave-one-out where the method allows it; any other detector scores ``X``.
    """
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if hasattr(final, "train_anomaly_scores_"):
        return np.asarray(final.train_anomaly_scores_, dtype=float)
    return np.asarray(routed_anomaly_score(estimator, X, **metadata), dtype=float)


def fit_member(estimator, X, y, outlier=None, **metadata):
    """Clone and fit a member detector, passing only the metadata its ``fit`` requests.

    With an ``outlier`` mask, a member that requests ``outlier`` gets every row and the mask;
    any other member is fitted on the normal rows alone.
    """
    member = clone(estimator)
    if outlier is None or not np.any(outlier):
        return member.fit(X, y, **routed_metadata(member, "fit", metadata))
    routed = routed_metadata(member, "fit", {**metadata, "outlier": outlier})
    if "outlier" in routed:
        return member.fit(X, y, **routed)
    normal, _ = split_outliers(outlier, X, y=y, **routed)
    return member.fit(normal.pop("X"), normal.pop("y"), **normal)


class BaseDetector(OutlierMixin, BaseEstimator):
    """Base class of the anomaly detectors on clip embeddings (n_clips, n_features).

    Subclasses implement ``_fit(X, y, section, domain)``, which also returns the
    training clips' anomaly scores as each would get it were it not in the
    training set (leave-one-out where the method allows it), and
    ``_anomaly_score(X, section, domain)``. Detectors with one model per section
    add :class:`PerSectionMixin`; one that trains with outlier exposure sets
    ``_consumes_outliers`` and gets ``_fit(..., outlier=mask)`` with every row (it
    separates them with :func:`~sklearn_asd.utils.split_outliers`; the outlier rows
    have no section: ``None``); every other detector is given the normal rows alone. This class gives them the
    scikit-learn outlier API with its signs (``score_samples`` and
    ``decision_function`` higher = more normal, ``predict`` +1 / -1), the DCASE
    sign (``anomaly_score``, higher = more anomalous), the ``contamination``
    threshold, and the metadata contract: ``section`` and ``domain`` are
    requested by default in ``fit``, ``decision_function`` and ``predict``, so
    a Pipeline routes them here once routing is enabled.

    Attributes
    ----------
    train_anomaly_scores_ : ndarray of shape (n_train_clips,)
        Anomaly scores of the training clips (leave-one-out where possible);
        the threshold and score standardization are computed from them.
    offset_ : float
        ``decision_function = score_samples - offset_``. With
        ``threshold="percentile"``, the ``contamination`` quantile of the
        training ``score_samples``; with ``threshold="gamma"``, minus the
        ``1 - contamination`` quantile of a gamma distribution fitted to the
        training anomaly scores (the DCASE baseline's decision threshold, its
        0.9 quantile being ``contamination=0.1``).
    """

    __metadata_request__fit = {"section": True, "domain": True, "outlier": True}
    __metadata_request__decision_function = {"section": True, "domain": True}
    __metadata_request__predict = {"section": True, "domain": True}

    _parameter_constraints = {
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "threshold": [StrOptions({"percentile", "gamma"})],
    }

    # Whether _fit takes the outlier-exposure rows (``_fit(..., outlier=mask)``, all rows) or
    # learns from the normal rows alone (the base drops the outlier rows before ``_fit``).
    _consumes_outliers = False

    # Further fit-time metadata that ``_fit`` takes as keyword arguments (each also requested by
    # the subclass's ``__metadata_request__fit``).
    _fit_metadata = ()

    # Further test-time metadata that ``_anomaly_score`` takes as keyword arguments (requested
    # by default through ``__metadata_request__decision_function`` / ``__predict`` too).
    _score_metadata = ()

    def _default_section(self, n):
        """The section of every clip when none is given at test time (None: none assumed)."""
        return None

    # Whether the method needs the section / domain of the clips it scores.
    def _needs_section(self):
        return False

    def _needs_domain(self, scoring):
        return False

    def _metadata(self, name, values, n, required):
        if name == "domain":
            if values is None and required:
                # documented default (one domain), but a detector that chooses by domain says so
                warnings.warn(
                    f"{type(self).__name__} chooses its model by domain, but no domain was given: all "
                    f"{n} clips are taken as source clips. Pass domain=... (one 'source' or 'target' "
                    "per clip; 'source' for data with one domain, such as DCASE 2020 and MIMII).",
                    UserWarning,
                    stacklevel=3,
                )
            # No domain means one domain: every clip is a source clip (DCASE 2020, MIMII).
            if values is None:
                return np.full(n, "source", dtype=object)
            return check_metadata(values, n, name, caller=type(self).__name__, allowed=_DOMAINS)
        if values is None and not required:
            return None
        return check_metadata(values, n, name, caller=type(self).__name__)

    def _known_domains(self, domain):
        """For detectors that choose by domain: ``"unknown"`` is an error."""
        if np.any(domain == UNKNOWN_DOMAIN):
            raise ValueError(
                f"{type(self).__name__} chooses its model by domain, but some clips have domain "
                "'unknown' (evaluation data without ground truth): pass their domains, or use a "
                "detector that does not need them (e.g. MahalanobisDetector(per_domain=True))."
            )
        return domain

    # False: members of meta-detectors (and an embedder's samplers) validate their own parameters,
    # as in scikit-learn's meta-estimators; an invalid member must not fit silently.
    @uses_torch_threads
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, section=None, domain=None, outlier=None, **metadata):
        """Fit the detector on normal clips.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            Embeddings of normal training clips (and of outlier clips, see ``outlier``).
        y : array-like of shape (n_clips,), default=None
            Auxiliary class of each clip. Used as the section when ``section``
            is not given.
        section : array-like of shape (n_clips,), default=None
            Section of each clip (routed metadata).
        domain : array-like of shape (n_clips,), default=None
            ``"source"`` / ``"target"`` of each clip (routed metadata); ``None``
            means every clip is from the source domain.
        outlier : array-like of bool of shape (n_clips,), default=None
            Marks the rows that are clips of other machine types, for outlier exposure
            (routed metadata, fit only). Detectors that train with outlier exposure use them;
            every other detector leaves them out of what it learns.
        **metadata : array-like of shape (n_clips,)
            Further per-clip metadata the detector trains with (``_fit_metadata``, e.g.
            :class:`OEVAE`'s ``attribute``); any other name is an error.

        Returns
        -------
        self : object
        """
        unknown = set(metadata) - set(self._fit_metadata)
        if unknown:
            raise TypeError(f"{type(self).__name__} does not take the metadata {sorted(unknown)} in fit.")
        X = self._validate_X(X, reset=True)
        n = _num_samples(X)
        mask = check_outlier_mask(outlier, n, caller=type(self).__name__)
        caller = type(self).__name__
        extra = {k: check_metadata(v, n, k, caller=caller) for k, v in metadata.items() if v is not None}
        if section is None and self._needs_section():
            # the section of each normal clip is its y; outlier rows have none
            normal_y = None if y is None else split_outliers(mask, np.asarray(y, dtype=object))[0].X
            from_y = self._section_from_y(normal_y)
            if from_y is not None and mask.any():
                section = np.full(n, None, dtype=object)
                section[~mask] = from_y
            else:
                section = from_y
        section = self._metadata("section", section, n, self._needs_section())
        domain = self._metadata("domain", domain, n, self._needs_domain(scoring=False))
        normal, _ = split_outliers(mask, X, y=y, section=section, domain=domain, **extra)
        if _num_samples(normal.X) > 1 and not np.ptp(normal.X, axis=0).any():
            warnings.warn(
                f"{type(self).__name__}: all {_num_samples(normal.X)} normal training clips have identical "
                "features (silent or constant recordings?); the model learns nothing from them.",
                UserWarning,
                stacklevel=2,
            )
        if self._consumes_outliers:
            scores = self._fit(X, y, section, domain, outlier=mask, **extra)
        else:
            X, y, section, domain = (normal.pop(k) for k in ("X", "y", "section", "domain"))
            scores = self._fit(X, y, section, domain, **normal)
        self.train_anomaly_scores_ = np.asarray(scores, dtype=float)
        self.offset_ = -self._threshold(self.train_anomaly_scores_)
        return self

    def _threshold(self, scores):
        """Anomaly score above which a clip is predicted anomalous."""
        if self.threshold == "percentile" or np.ptp(scores) == 0:
            return float(np.percentile(scores, 100.0 * (1.0 - self.contamination)))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            shape, loc, scale = scipy.stats.gamma.fit(scores)
        return float(scipy.stats.gamma.ppf(1.0 - self.contamination, shape, loc=loc, scale=scale))

    @staticmethod
    def _rows(X, idx):
        """``X[idx]``, without the copy when ``idx`` (sorted, unique) covers every row."""
        return X if len(idx) == _num_samples(X) else X[idx]

    _unknown = staticmethod(unknown_error)

    def _validate_X(self, X, reset):
        """Embeddings (n_clips, n_features), finite; subclasses taking other input override it."""
        return validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])

    def _section_from_y(self, y):
        """The section of each training clip when ``section`` is not routed: ``y`` itself."""
        return y

    @abstractmethod
    def _fit(self, X, y, section, domain):
        """Fit on validated X; return leave-one-out anomaly scores of the training clips."""

    @abstractmethod
    def _anomaly_score(self, X, section, domain):
        """Anomaly scores (higher = more anomalous) of validated X."""

    @uses_torch_threads
    def anomaly_score(self, X, section=None, domain=None, **metadata):
        """Anomaly score of each clip, higher = more anomalous (the DCASE sign).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
        section : array-like of shape (n_clips,), default=None
            Needed by per-section detectors.
        domain : array-like of shape (n_clips,), default=None
            Needed by domain-aware detectors.
        **metadata : array-like of shape (n_clips,)
            Further per-clip metadata that the detector scores with (``_score_metadata``, e.g.
            :class:`SoftmaxScore`'s ``attribute``); any other name is an error.

        Returns
        -------
        scores : ndarray of shape (n_clips,)
        """
        X, section, domain, extra = self._check_scoring(X, section, domain, metadata)
        return self._anomaly_score(X, section, domain, **extra)

    def _check_scoring(self, X, section, domain, metadata):
        """``(X, section, domain, extra metadata)`` validated for scoring, after ``check_is_fitted``."""
        unknown = set(metadata) - set(self._score_metadata)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} does not take the metadata {sorted(unknown)} when scoring."
            )
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        n = _num_samples(X)
        if section is None:
            section = self._default_section(n)
        section = self._metadata("section", section, n, self._needs_section())
        domain = self._metadata("domain", domain, n, self._needs_domain(scoring=True))
        caller = type(self).__name__
        extra = {k: check_metadata(v, n, k, caller=caller) for k, v in metadata.items() if v is not None}
        return X, section, domain, extra

    def score_samples(self, X, section=None, domain=None, **metadata):
        """Normality of each clip: ``-anomaly_score``, higher = more normal."""
        return -self.anomaly_score(X, section=section, domain=domain, **metadata)

    def decision_function(self, X, section=None, domain=None, **metadata):
        """``score_samples - offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X, section=section, domain=domain, **metadata) - self.offset_

    def predict(self, X, section=None, domain=None, **metadata):
        """+1 for normal clips, -1 for anomalous ones."""
        return np.where(self.decision_function(X, section=section, domain=domain, **metadata) < 0, -1, 1)

    def fit_predict(self, X, y=None, section=None, domain=None):
        """Fit on ``X`` and label its clips: +1 normal, -1 anomalous.

        The labels come from ``train_anomaly_scores_``: for detectors that
        score training clips leave-one-out (kNN), a clip is judged without
        being its own neighbour, which ``fit(X).predict(X)`` cannot do. Use it
        to find suspicious clips in a training set.
        """
        self.fit(X, y, section=section, domain=domain)
        return np.where(-self.train_anomaly_scores_ - self.offset_ < 0, -1, 1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class PerSectionMixin:
    """Mixin for detectors with one model per section, or one for all clips (``per_section``).

    It owns what ``per_section`` means, as scikit-learn's ``KNeighborsMixin`` shares the
    neighbour logic of its estimators: the clips' section is needed exactly when it is true;
    :meth:`_fit_sections` fits one model per section into ``models_`` and :meth:`_score_sections`
    scores each section's clips by its own; :meth:`_section_stats` and :meth:`_standardize`
    standardize scores by each section's training statistics.

    The detectors using it set ``models_`` (the fitted state of each section's model, keyed by
    section; ``None`` for the one model of ``per_section=False``) and ``sections_`` (the sections
    seen in fit; empty for one model of all sections).
    """

    _parameter_constraints = {"per_section": ["boolean"]}

    def _needs_section(self):
        return self.per_section

    def _partition(self, section, n):
        return partition(section, n, self.per_section)

    def _set_models(self, models):
        """Keep the fitted ``{section: model}`` as ``models_``, their sections as ``sections_``."""
        self.models_ = models
        self.sections_ = np.array(sorted(k for k in models if k is not None), dtype=object)

    def _fit_sections(self, X, section, fit_one, min_clips=1, requirement=""):
        """Fit one model per section (or one for all): ``fit_one(key, idx) -> (model, scores)``.

        Sets ``models_`` and ``sections_``; returns the training scores of all clips. A section
        with fewer than ``min_clips`` clips is an error that says what ``requirement`` the
        detector has.
        """
        models, scores = {}, np.empty(_num_samples(X))
        for key, idx in self._partition(section, _num_samples(X)).items():
            if len(idx) < min_clips:
                where = "" if key is None else f" of section {key!r}"
                raise ValueError(f"{requirement} training clips{where}, got {len(idx)} sample(s).")
            models[key], scores[idx] = fit_one(key, idx)
        self._set_models(models)
        return scores

    def _score_sections(self, X, section, score_one):
        """Scores of each section's clips by its model: ``score_one(model, idx)``."""
        scores = np.empty(_num_samples(X))
        for key, idx in self._partition(section, _num_samples(X)).items():
            if key not in self.models_:
                raise unknown_error("section", key, self.models_)
            scores[idx] = score_one(self.models_[key], idx)
        return scores

    def _section_stats(self, scores, section):
        """Mean and standard deviation of each row of ``scores`` (n_scorers, n_clips), per section."""
        return standardization_stats(scores, section, self.per_section)

    def _standardize(self, scores, section, stats):
        """Scores (n_scorers, n_clips) standardized with their section's ``stats``."""
        return standardize(scores, section, self.per_section, stats)


class MetaDetector(BaseDetector):
    """Base of detectors made of member detectors: any clip shape, the members check theirs."""

    def _validate_X(self, X, reset):
        return validate_data(self, X, reset=reset, allow_nd=True, dtype=[np.float64, np.float32])
