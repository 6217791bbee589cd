"""The base of every sklearn-asd detector: signs, threshold, metadata."""

from abc import abstractmethod
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils import check_metadata

_DOMAINS = ("source", "target")


class BaseDetector(OutlierMixin, BaseEstimator):
    """Base class of the anomaly detectors on clip embeddings (n_clips, n_features).

    Subclasses implement ``_fit(X, section, domain)``, which also returns the
    training clips' anomaly scores as each would get it were it not in the
    training set (leave-one-out where the method allows it), and
    ``_anomaly_score(X, section, domain)``. This class gives them the
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
        ``decision_function = score_samples - offset_``; the
        ``contamination`` quantile of the training ``score_samples``.
    """

    __metadata_request__fit = {"section": True, "domain": True}
    __metadata_request__decision_function = {"section": True, "domain": True}
    __metadata_request__predict = {"section": True, "domain": True}

    _parameter_constraints = {
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
    }

    # Whether the method needs the section / domain of the clips it scores.
    def _needs_section(self):
        return False

    def _needs_domain(self):
        return False

    def _metadata(self, name, values, n, required):
        if values is None and not required:
            return None
        allowed = _DOMAINS if name == "domain" else None
        return check_metadata(values, n, name, caller=type(self).__name__, allowed=allowed)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, section=None, domain=None):
        """Fit the detector on normal clips.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            Embeddings of normal training clips.
        y : array-like of shape (n_clips,), default=None
            Auxiliary class of each clip. Used as the section when ``section``
            is not given.
        section : array-like of shape (n_clips,), default=None
            Section of each clip (routed metadata).
        domain : array-like of shape (n_clips,), default=None
            ``"source"`` / ``"target"`` of each clip (routed metadata).

        Returns
        -------
        self : object
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        n = X.shape[0]
        if section is None and self._needs_section():
            section = y
        section = self._metadata("section", section, n, self._needs_section())
        domain = self._metadata("domain", domain, n, self._needs_domain())
        self.train_anomaly_scores_ = np.asarray(self._fit(X, section, domain), dtype=float)
        self.offset_ = float(np.percentile(-self.train_anomaly_scores_, 100.0 * self.contamination))
        return self

    @abstractmethod
    def _fit(self, X, section, domain):
        """Fit on validated X; return leave-one-out anomaly scores of the training clips."""

    @abstractmethod
    def _anomaly_score(self, X, section, domain):
        """Anomaly scores (higher = more anomalous) of validated X."""

    def anomaly_score(self, X, section=None, domain=None):
        """Anomaly score of each clip, higher = more anomalous (the DCASE sign).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
        section : array-like of shape (n_clips,), default=None
            Needed by per-section detectors.
        domain : array-like of shape (n_clips,), default=None
            Needed by domain-aware detectors.

        Returns
        -------
        scores : ndarray of shape (n_clips,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        n = X.shape[0]
        section = self._metadata("section", section, n, self._needs_section())
        domain = self._metadata("domain", domain, n, self._needs_domain())
        return self._anomaly_score(X, section, domain)

    def score_samples(self, X, section=None, domain=None):
        """Normality of each clip: ``-anomaly_score``, higher = more normal."""
        return -self.anomaly_score(X, section=section, domain=domain)

    def decision_function(self, X, section=None, domain=None):
        """``score_samples - offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X, section=section, domain=domain) - self.offset_

    def predict(self, X, section=None, domain=None):
        """+1 for normal clips, -1 for anomalous ones."""
        return np.where(self.decision_function(X, section=section, domain=domain) < 0, -1, 1)

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
