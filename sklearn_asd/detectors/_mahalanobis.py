"""Mahalanobis distance detector, with the DCASE baseline's selective (per-domain) form."""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.covariance import EmpiricalCovariance, LedoitWolf
from sklearn.utils._param_validation import HasMethods, StrOptions

from ..utils import DOMAINS
from ._base import BaseDetector, PerSectionMixin, unknown_error

_COVARIANCES = {"empirical": EmpiricalCovariance, "ledoit_wolf": LedoitWolf}


class MahalanobisDetector(PerSectionMixin, BaseDetector):
    """Anomaly score = Mahalanobis distance to the training clips' distribution.

    ``sqrt((x - mu)^T P (x - mu))`` with the mean ``mu`` and precision ``P`` of the
    training embeddings, one model per section (``per_section``) and per domain
    (``per_domain``). With ``per_domain=True`` a source model and a target model are
    fitted on the clips of each domain and a clip's score is the **smaller** of its
    two distances: the "selective Mahalanobis" of the DCASE 2023-2024 autoencoder
    baseline, which needs no domain label at test time. The baseline applies it to
    reconstruction-error vectors with zero mean: ``assume_centered=True``.

    Parameters
    ----------
    per_section : bool, default=False
        One model (pair) per section.
    per_domain : bool, default=False
        Separate source and target models, score = the smaller distance.
    covariance : {"empirical", "ledoit_wolf"} or estimator, default="empirical"
        A scikit-learn covariance estimator (anything with ``mahalanobis``) or
        its name. The empirical precision is a pseudo-inverse, so a domain
        with fewer clips than dimensions still gets a model; Ledoit-Wolf
        shrinkage is better conditioned there.
    assume_centered : bool, default=False
        Take the mean as zero (for error vectors) instead of estimating it.
    contamination : float in (0, 0.5], default=0.1
    threshold : {"percentile", "gamma"}, default="percentile"

    Attributes
    ----------
    models_ : dict
        Fitted covariance estimators of each section, ``{section: {domain: estimator}}``
        (``None`` where not split).
    constant_ : dict
        Per model, likewise keyed, ``None`` or (mask, centre, floor variance) of the features that
        were constant in its training clips (their deviation is added as ``(x - centre)^2 / floor``).
    sections_ : ndarray of str
        The sections seen in fit (empty without ``per_section``).
    train_anomaly_scores_, offset_
        See :class:`BaseDetector`.

    See Also
    --------
    KNNDetector : a distance without a model of the distribution.
    AutoEncoderDetector : ``scoring="selective_mahalanobis"`` on its error vectors.

    References
    ----------
    K. Harada et al., "First-shot anomaly sound detection for machine condition
    monitoring: a domain generalization baseline", EUSIPCO 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import MahalanobisDetector
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(5, 1, (10, 2))])
    >>> domain = ["source"] * 50 + ["target"] * 10
    >>> det = MahalanobisDetector(per_domain=True).fit(X, domain=domain)
    >>> det.predict([[0.0, 0.0], [5.0, 5.0], [2.5, -4.0]])
    array([ 1,  1, -1])
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        **PerSectionMixin._parameter_constraints,
        "per_domain": ["boolean"],
        "covariance": [StrOptions(set(_COVARIANCES)), HasMethods(["fit", "mahalanobis"])],
        "assume_centered": ["boolean"],
    }

    def __init__(
        self,
        *,
        per_section=False,
        per_domain=False,
        covariance="empirical",
        assume_centered=False,
        contamination=0.1,
        threshold="percentile",
    ):
        self.per_section = per_section
        self.per_domain = per_domain
        self.covariance = covariance
        self.assume_centered = assume_centered
        self.contamination = contamination
        self.threshold = threshold

    def _needs_domain(self, scoring):
        # the selective score takes the smaller distance: no domain is needed to score
        return self.per_domain and not scoring

    def _estimator(self):
        if isinstance(self.covariance, str):
            return _COVARIANCES[self.covariance](assume_centered=self.assume_centered)
        return clone(self.covariance).set_params(assume_centered=self.assume_centered)

    def _fit(self, X, y, section, domain):
        models, self.constant_ = {}, {}
        if self.per_domain:
            domain = self._known_domains(domain)
        for key, idx in self._partition(section, X.shape[0]).items():
            domains = {None: idx}
            if self.per_domain:
                domains = {d: idx[domain[idx] == d] for d in DOMAINS if np.any(domain[idx] == d)}
            for dom, rows in domains.items():
                if len(rows) < 2:
                    where = "" if key is None else f" of section {key!r}"
                    raise ValueError(
                        f"MahalanobisDetector needs at least 2 training clips per model, got "
                        f"{len(rows)} sample(s) in domain {dom!r}{where}."
                    )
                self._warn_rank_deficient(key, dom, len(rows), X.shape[1])
                models.setdefault(key, {})[dom] = self._estimator().fit(X[rows])
                self.constant_.setdefault(key, {})[dom] = self._constant_features(key, X[rows])
        self._set_models(models)
        return self._anomaly_score(X, section, domain)

    def _warn_rank_deficient(self, key, dom, n_clips, n_features):
        """Fewer clips than features: the empirical covariance is singular (its pseudo-inverse gives
        every training clip the same distance and unseen normals far larger ones)."""
        if n_clips > n_features or self.covariance != "empirical":
            return
        where = "" if key is None else f" of section {key!r}"
        where += "" if dom is None else f", domain {dom!r}"
        warnings.warn(
            f"MahalanobisDetector: {n_clips} training clips{where} for {n_features} features: the "
            "empirical covariance is singular and no shrinkage is applied (its pseudo-inverse is used), "
            "so the training clips score alike and unseen normal clips far above them. Use "
            "covariance='ledoit_wolf' (shrinkage towards a scaled identity), or fewer features.",
            UserWarning,
            stacklevel=3,
        )

    def _constant_features(self, key, X):
        """Features that do not vary in a model's training clips.

        The covariance's pseudo-inverse ignores such directions, so a clip far off along them
        would score as normal; instead their squared deviation is added, divided by a floor
        variance (1e-6 of the mean variance of the other features), and a warning names them.
        """
        var = X.var(axis=0)
        constant = var <= 1e-12 * max(float(var.max()), 1e-300)
        if not constant.any():
            return None
        where = "" if key is None else f" of section {key!r}"
        warnings.warn(
            f"MahalanobisDetector: {int(constant.sum())} of {len(var)} features are constant in the "
            f"training clips{where} (silent clips, a constant feature?); a deviation along them is "
            "scored against a floor variance.",
            UserWarning,
            stacklevel=2,
        )
        floor = 1e-6 * float(var[~constant].mean()) if (~constant).any() else 1e-12
        center = X[:, constant].mean(axis=0) if not self.assume_centered else np.zeros(int(constant.sum()))
        return constant, center, max(floor, 1e-12)

    def _squared(self, model, constant, X):
        squared = model.mahalanobis(X)
        if constant is not None:
            mask, center, floor = constant
            squared = squared + np.square(X[:, mask] - center).sum(axis=1) / floor
        return squared

    def _anomaly_score(self, X, section, domain):
        scores = np.empty(X.shape[0])
        for key, idx in self._partition(section, X.shape[0]).items():
            if key not in self.models_:
                raise unknown_error("section", key, self.models_)
            constant = self.constant_[key]
            # squared distances from scikit-learn; the selective score takes the smaller one
            squared = np.min(
                [self._squared(m, constant[dom], X[idx]) for dom, m in self.models_[key].items()], axis=0
            )
            scores[idx] = np.sqrt(np.maximum(squared, 0.0))
        return scores
