"""k-means / cosine detector for domain generalisation."""

from numbers import Integral

import numpy as np
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import Interval

from ._base import BaseDetector, PerSectionMixin


class KMeansCosineDetector(PerSectionMixin, BaseDetector):
    """Anomaly score = smallest cosine distance to k-means centres of source clips and to every target clip.

    The back-end of the strongest recent DCASE systems under domain shift: embeddings
    are L2-normalised; the source-domain training clips are summarised by
    ``n_clusters`` k-means centres, while the few target-domain training clips are
    all kept as centres themselves (too few to cluster, and too precious to average
    away). A clip's score is ``1 - max cos(x, c)`` over all centres ``c``, so a
    target-domain clip is judged by its nearest target example and a source clip by
    the source distribution.

    Training scores: source clips against the centres; each target clip against the
    centres other than itself (leave-one-out).

    Parameters
    ----------
    n_clusters : int, default=16
        k-means centres of the source-domain clips (of each section). A section with no more
        source clips than that keeps every source clip as a centre (what k-means would give),
        scored leave-one-out like the target clips: first-shot sets have 10 clips.
    per_section : bool, default=False
        Centres per section.
    random_state : int, RandomState instance or None, default=None
        Seeds k-means.
    n_init : int, default=10
        k-means restarts.
    contamination : float in (0, 0.5], default=0.1
    threshold : {"percentile", "gamma"}, default="percentile"

    Attributes
    ----------
    models_ : dict
        Unit-norm centres (n_centres, n_features) of each section (key ``None``
        without ``per_section``), source centres first.
    sections_, train_anomaly_scores_, offset_
        See :class:`BaseDetector`.

    See Also
    --------
    KNNDetector : every training clip a centre (``metric="cosine"``).
    DomainAwareDetector : separate source and target members.

    References
    ----------
    K. Wilkinghoff, "Self-supervised learning for anomalous sound detection",
    ICASSP 2024; Hai et al., DCASE 2024 technical report (Model A).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import KMeansCosineDetector
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal([5, 0], 0.3, (40, 2)), rng.normal([0, 5], 0.3, (3, 2))])
    >>> domain = ["source"] * 40 + ["target"] * 3
    >>> det = KMeansCosineDetector(n_clusters=2, random_state=0).fit(X, domain=domain)
    >>> det.predict([[5.0, 0.1], [0.1, 5.0], [-5.0, -5.0]])
    array([ 1,  1, -1])
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        **PerSectionMixin._parameter_constraints,
        "random_state": ["random_state"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters=16,
        *,
        per_section=False,
        random_state=None,
        n_init=10,
        contamination=0.1,
        threshold="percentile",
    ):
        self.n_clusters = n_clusters
        self.per_section = per_section
        self.random_state = random_state
        self.n_init = n_init
        self.contamination = contamination
        self.threshold = threshold

    def _fit(self, X, y, section, domain):
        domain = self._known_domains(domain)
        Xn = normalize(X)

        def fit_one(key, idx):
            src, tgt = idx[domain[idx] == "source"], idx[domain[idx] == "target"]
            if not len(src) or len(idx) < 2:
                where = "" if key is None else f" of section {key!r}"
                raise ValueError(
                    f"KMeansCosineDetector needs source-domain clips and at least 2 training clips{where}, "
                    f"got {len(src)} source and {len(tgt)} target clip(s) (n_samples = {len(idx)})."
                )
            own = len(src) <= self.n_clusters  # every source clip is a centre
            if own:
                source_centres = Xn[src]
            else:
                km = KMeans(n_clusters=self.n_clusters, n_init=self.n_init, random_state=self.random_state)
                source_centres = normalize(km.fit(Xn[src]).cluster_centers_)
            centres = np.vstack([source_centres, Xn[tgt]])
            sim = Xn[idx] @ centres.T
            # a clip that is one of the centres is left out of its own score
            is_target = np.flatnonzero(domain[idx] == "target")
            sim[is_target, len(source_centres) + np.arange(len(tgt))] = -np.inf
            if own:
                sim[np.flatnonzero(domain[idx] == "source"), np.arange(len(src))] = -np.inf
            return centres, 1.0 - sim.max(axis=1)

        return self._fit_sections(X, section, fit_one)

    def _anomaly_score(self, X, section, domain):
        Xn = normalize(X)
        return self._score_sections(
            X,
            section,
            lambda centres, idx: 1.0 - (Xn[idx] @ centres.T).max(axis=1),
        )
