"""kNN per domain, the minimum over the source and the (SMOTE-augmented) target references."""

from numbers import Integral, Real

import numpy as np
from imblearn.over_sampling import SMOTE
from sklearn.metrics import pairwise_distances
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseDetector, PerSectionMixin


def _knn_distance(Q, R, k, metric, exclude=None):
    """Mean distance of each row of ``Q`` to its ``k`` nearest rows of ``R`` (``inf`` if ``R`` is empty).

    ``exclude[i]``: the row of ``R`` that is ``Q[i]`` itself (left out of its neighbours), or -1.
    Cosine: ``1 - cos`` between the rows, which the caller has made unit vectors.
    """
    out = np.full(len(Q), np.inf)
    if len(R) == 0 or len(Q) == 0:
        return out
    rows = max(1, min(4096, 2**24 // len(R)))
    for start in range(0, len(Q), rows):
        block = Q[start : start + rows]
        if metric == "cosine":
            dist = np.clip(1.0 - block @ R.T, 0.0, 2.0)
        else:
            dist = pairwise_distances(block, R)
        if exclude is not None:
            own = exclude[start : start + rows]
            hit = np.flatnonzero(own >= 0)
            dist[hit, own[hit]] = np.inf
        kk = min(k, dist.shape[1])
        nearest = np.partition(dist, kk - 1, axis=1)[:, :kk]
        # a set smaller than k + 1 with the clip left out: the mean of the references it has
        finite = np.isfinite(nearest)
        total = np.where(finite, nearest, 0.0).sum(axis=1)
        count = finite.sum(axis=1)
        out[start : start + rows] = np.where(count > 0, total / np.maximum(count, 1), np.inf)
    return out


class DomainKNNDetector(PerSectionMixin, BaseDetector):
    """Anomaly score = the smaller of the kNN distances to the source and to the target training clips.

    The back-end of the DCASE 2022-2024 systems of Wilkinghoff and of ASDKit (its ``Knn``): a
    section's source clips and its target clips (10 against 990 in DCASE 2022-2024) are two
    reference sets, and a clip's score is ``min(d_source, d_target)``, each the mean distance to
    the ``n_neighbors`` nearest references of that set. The clip's own domain is not needed at
    test time (DCASE 2023-2024 do not give it). With ``smote_ratio`` the target references are
    first augmented by imbalanced-learn's SMOTE, as ASDKit does: new target embeddings on the
    segments between a target clip and one of its ``smote_neighbors`` nearest target clips, until
    the target set is ``smote_ratio`` times the source set. Without target training clips (DCASE
    2020, MIMII) it is the plain kNN on the source clips.

    Training clips' own scores leave the clip out of its references (a synthetic target
    embedding made from it stays: it is another point).

    Parameters
    ----------
    n_neighbors : int, default=1
        Neighbours averaged in each domain (at most the domain's references).
    metric : {"cosine", "euclidean"}, default="cosine"
        ``"cosine"``: ``1 - cos`` (embeddings are made unit vectors before SMOTE, and again after).
    smote_ratio : float or None, default=None
        Target references after SMOTE as a share of the section's source clips (ASDKit: 0.2);
        ``None`` or a ratio the target clips already reach: no synthetic references.
    smote_neighbors : int, default=2
        SMOTE's ``k_neighbors`` (lowered to the target clips - 1 when there are fewer).
    per_section : bool, default=False
        One pair of reference sets per section (routed ``section``, or ``y`` in ``fit``).
    contamination : float in (0, 0.5], default=0.1
    threshold : {"percentile", "gamma"}, default="percentile"
    random_state : int, RandomState instance or None, default=None
        SMOTE's draws.

    Attributes
    ----------
    models_ : dict
        Each section's references: ``{"source": array, "target": array}`` (the target array holds
        the real target clips first, then the synthetic ones; empty without target clips).
    n_synthetic_ : dict
        Synthetic target references made per section.
    sections_, train_anomaly_scores_, offset_
        See :class:`BaseDetector`.

    See Also
    --------
    KNNDetector : one reference set for all clips.
    RescaledKNNDetector : rescales each reference's distances instead of splitting domains.
    DomainAwareDetector : a different detector per domain, chosen by the clip's domain.

    References
    ----------
    K. Wilkinghoff, "Self-supervised learning for anomalous sound detection", ICASSP 2024.
    T. Fujimura et al., "ASDKit: a toolkit for comprehensive evaluation of anomalous sound
    detection methods", 2025 (backend ``Knn``, ``smote_ratio=0.2, smote_neighbors=2``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import DomainKNNDetector
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(10, 1, (5, 2))])
    >>> domain = ["source"] * 50 + ["target"] * 5
    >>> det = DomainKNNDetector(metric="euclidean").fit(X, domain=domain)
    >>> det.predict([[0.0, 0.0], [10.0, 10.0], [5.0, 5.0]])
    array([ 1,  1, -1])
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"cosine", "euclidean"})],
        "smote_ratio": [Interval(Real, 0, 1, closed="right"), None],
        "smote_neighbors": [Interval(Integral, 1, None, closed="left")],
        **PerSectionMixin._parameter_constraints,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_neighbors=1,
        *,
        metric="cosine",
        smote_ratio=None,
        smote_neighbors=2,
        per_section=False,
        contamination=0.1,
        threshold="percentile",
        random_state=None,
    ):
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.smote_ratio = smote_ratio
        self.smote_neighbors = smote_neighbors
        self.per_section = per_section
        self.contamination = contamination
        self.threshold = threshold
        self.random_state = random_state

    def _prepare(self, X):
        X = np.asarray(X, dtype=float)
        return normalize(X) if self.metric == "cosine" else X

    def _synthetic_targets(self, source, target, rng):
        """SMOTE's new target embeddings (none when the ratio asks for none, or one target clip)."""
        wanted = int(round(self.smote_ratio * len(source))) if self.smote_ratio else 0
        if wanted <= len(target) or len(target) < 2:
            return target[:0]
        smote = SMOTE(
            sampling_strategy={1: wanted},
            k_neighbors=min(self.smote_neighbors, len(target) - 1),
            random_state=rng.randint(np.iinfo(np.int32).max),
        )
        labels = np.r_[np.zeros(len(source), int), np.ones(len(target), int)]
        X_res, _ = smote.fit_resample(np.vstack([source, target]), labels)
        return self._prepare(X_res[len(source) + len(target) :])

    def _fit(self, X, y, section, domain):
        X = self._prepare(X)
        rng = check_random_state(self.random_state)
        is_target = np.asarray(domain) == "target"
        self.n_synthetic_ = {}

        def fit_one(key, idx):
            src, tgt = idx[~is_target[idx]], idx[is_target[idx]]
            if src.size == 0:
                where = "" if key is None else f" of section {key!r}"
                raise ValueError(f"DomainKNNDetector needs source-domain training clips{where}, got none.")
            refs = {"source": X[src], "target": X[tgt]}
            synthetic = self._synthetic_targets(X[src], X[tgt], rng)
            refs["target"] = np.vstack([refs["target"], synthetic])
            self.n_synthetic_[key] = len(synthetic)
            # each training clip's own row in each reference set is left out of its neighbours
            pos = np.full(len(idx), -1)
            own_src, own_tgt = pos.copy(), pos.copy()
            own_src[~is_target[idx]] = np.arange(src.size)
            own_tgt[is_target[idx]] = np.arange(tgt.size)
            k, m = self.n_neighbors, self.metric
            scores = np.minimum(
                _knn_distance(X[idx], refs["source"], k, m, exclude=own_src),
                _knn_distance(X[idx], refs["target"], k, m, exclude=own_tgt),
            )
            return refs, scores

        k = self.n_neighbors
        requirement = f"DomainKNNDetector(n_neighbors={k}) needs more than {k}"
        return self._fit_sections(X, section, fit_one, min_clips=k + 1, requirement=requirement)

    def _anomaly_score(self, X, section, domain):
        X = self._prepare(X)

        def score_one(refs, idx):
            Q = X[idx]
            d_source = _knn_distance(Q, refs["source"], self.n_neighbors, self.metric)
            return np.minimum(d_source, _knn_distance(Q, refs["target"], self.n_neighbors, self.metric))

        return self._score_sections(X, section, score_one)
