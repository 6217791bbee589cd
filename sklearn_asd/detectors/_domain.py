"""One detector for the source domain, another for the target domain."""

import numpy as np
from sklearn.utils._param_validation import HasMethods

from ..utils._anomaly import routed_anomaly_score
from ._base import (
    BaseDetector,
    MetaDetector,
    fit_member,
    partition,
    standardization_stats,
    standardize,
    training_scores,
)
from ._knn import KNNDetector
from ._lof import LOFDetector


class DomainAwareDetector(MetaDetector):
    """Score source clips with one detector and target clips with another, by the routed ``domain``.

    The recipe of Morita et al. (DCASE 2021): a density model of the plentiful source
    clips (LOF) judges source-domain clips, while a nearest-neighbour model fitted on
    source **and** target clips judges target-domain clips, of which there are too few
    to estimate a density. Both members see ``section`` if they request it (e.g.
    ``per_section=True``).

    The DCASE 2022-2024 scores rank a section's source and target clips together (AUC (source)
    pits the source normal clips against the anomalies of both domains, pAUC takes all clips),
    so the two members' scores must share a scale: with ``standardize=True`` each member's
    scores are z-scored by its training scores (leave-one-out) of the clips of the domain it
    judges (the source member's of the source clips, the target member's of the target clips;
    all clips for a section without target training clips), per section when ``section`` is
    given. Raw scores (``standardize=False``) mix an LOF ratio near 1 with a
    cosine distance near 0, which ranks every target anomaly as more normal than every source
    clip (benchmarks/README measures it on the morita2021 recipe).

    Parameters
    ----------
    source : detector or None, default=None
        Fitted on the source-domain clips; ``None`` means ``LOFDetector(n_neighbors=4)``.
    target : detector or None, default=None
        Fitted on all clips, scores target-domain clips; ``None`` means
        ``KNNDetector(n_neighbors=1, metric="cosine")``.
    standardize : bool, default=True
        z-score each member's anomaly scores by its training scores (per section), so that
        source and target clips are ranked on one scale.
    contamination : float in (0, 0.5], default=0.1
    threshold : {"percentile", "gamma"}, default="percentile"

    Attributes
    ----------
    source_, target_ : detector
        The fitted members.
    stats_ : dict
        With ``standardize``: ``{"source": ..., "target": ...}``, each member's training-score
        mean and standard deviation by section (``None``: all sections).

    See Also
    --------
    StandardizedEnsemble : every member on every clip, standardized and combined.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import DomainAwareDetector, KNNDetector, LOFDetector
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(8, 1, (6, 2))])
    >>> domain = np.array(["source"] * 60 + ["target"] * 6)
    >>> det = DomainAwareDetector(LOFDetector(), KNNDetector(metric="euclidean")).fit(X, domain=domain)
    >>> det.predict([[0.0, 0.0], [8.0, 8.0], [8.0, 8.0]], domain=["source", "target", "source"])
    array([ 1,  1, -1])
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "source": [HasMethods(["fit"]), None],
        "target": [HasMethods(["fit"]), None],
        "standardize": ["boolean"],
    }

    def __init__(
        self, source=None, target=None, *, standardize=True, contamination=0.1, threshold="percentile"
    ):
        self.source = source
        self.target = target
        self.standardize = standardize
        self.contamination = contamination
        self.threshold = threshold

    def _needs_domain(self, scoring):
        return True

    def _members(self):
        source = LOFDetector(n_neighbors=4) if self.source is None else self.source
        target = KNNDetector(n_neighbors=1, metric="cosine") if self.target is None else self.target
        return source, target

    def _fit(self, X, y, section, domain):
        domain = self._known_domains(domain)
        source, target = self._members()
        src = np.flatnonzero(domain == "source")
        if src.size == 0:
            raise ValueError("DomainAwareDetector needs source-domain training clips, got none.")
        sec = None if section is None else section[src]
        self.source_ = fit_member(source, X[src], None, section=sec, domain=domain[src])
        self.target_ = fit_member(target, X, None, section=section, domain=domain)
        scores = training_scores(self.target_, X, section=section, domain=domain)
        src_scores = training_scores(self.source_, X[src], section=sec, domain=domain[src])
        per_section = section is not None
        if self.standardize:
            # each member by the training clips of the domain it scores: the target member's
            # distances of target clips (few, near each other) are not those of source clips
            rows = domain != "source"
            for part in partition(section, len(X), per_section).values():
                if not rows[part].any():  # a section without target training clips: all its clips
                    rows[part] = True
            tgt = np.flatnonzero(rows)
            target_sec = None if section is None else section[tgt]
            self.stats_ = {
                "source": standardization_stats(src_scores[None], sec, per_section),
                "target": standardization_stats(scores[None, tgt], target_sec, per_section),
            }
            scores = standardize(scores[None], section, per_section, self.stats_["target"])[0]
            src_scores = standardize(src_scores[None], sec, per_section, self.stats_["source"])[0]
        scores[src] = src_scores
        return scores

    def _anomaly_score(self, X, section, domain):
        domain = self._known_domains(domain)
        scores = np.empty(X.shape[0])
        for dom, member in (("source", self.source_), ("target", self.target_)):
            rows = np.flatnonzero(domain == dom)
            if rows.size:
                sec = None if section is None else section[rows]
                raw = routed_anomaly_score(member, X[rows], section=sec, domain=domain[rows])
                if self.standardize:
                    raw = standardize(raw[None], sec, sec is not None, self.stats_[dom])[0]
                scores[rows] = raw
        return scores

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
