"""k-nearest-neighbour distances rescaled by each reference's own neighbourhood (Wilkinghoff et al.)."""

from numbers import Integral

import numpy as np
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._persistence import safe_to_load
from ._base import BaseDetector, PerSectionMixin


@safe_to_load
class _ScaledReferences:
    """A section's reference embeddings and each one's local scale.

    The scale of reference ``r`` is the mean distance from ``r`` to its ``k_ref`` nearest other
    references; a query's score is the mean of its ``k`` smallest ``d(x, r) / scale(r)``.
    """

    def __init__(self, X, k_ref, metric):
        self.ref = normalize(X) if metric == "cosine" else np.asarray(X, dtype=float)
        self.metric = metric
        k_ref = min(k_ref, len(self.ref) - 1)
        scale = NearestNeighbors(n_neighbors=k_ref).fit(self.ref).kneighbors()[0].mean(axis=1)
        self.scale = np.where(scale > 0, scale, np.finfo(float).eps)

    def scores(self, X, k, leave_one_out=False):
        Q = self.ref if leave_one_out else (normalize(X) if self.metric == "cosine" else X)
        out = np.empty(len(Q))
        rows = max(1, min(4096, 2**24 // max(1, len(self.ref))))
        for start in range(0, len(Q), rows):
            ratio = pairwise_distances(Q[start : start + rows], self.ref) / self.scale[None, :]
            if leave_one_out:  # a training clip is not its own reference
                block = np.arange(len(ratio))
                ratio[block, start + block] = np.inf
            out[start : start + rows] = np.partition(ratio, k - 1, axis=1)[:, :k].mean(axis=1)
        return out


class RescaledKNNDetector(PerSectionMixin, BaseDetector):
    """Anomaly score = the k smallest distances to the training clips, each divided by that clip's
    own neighbourhood scale (Wilkinghoff et al., ICASSP 2025).

    A plain kNN distance is small in a dense region of the training clips and large in a sparse
    one, so a domain with few clips (the target domain of DCASE 2022-2024) scores higher for
    normal clips as well as anomalous ones. Rescaling "keeps the balance": each training clip
    ``r`` gets the scale ``s(r)``, the mean distance to its ``k_ref`` nearest other training
    clips, and a clip's score is the mean of its ``n_neighbors`` smallest ``d(x, r) / s(r)``
    (ASDKit's ``KnnRescale``). ``metric="cosine"`` measures the Euclidean distance between unit
    vectors, as ASDKit does (a monotone function of the cosine distance). The training clips'
    own scores leave each clip out of its references (their scales are those of the full set).

    Parameters
    ----------
    n_neighbors : int, default=1
        Rescaled distances averaged into the score.
    k_ref : int, default=16
        Neighbours that set each training clip's scale (at most the section's clips - 1).
    metric : {"cosine", "euclidean"}, default="cosine"
        Distance between embeddings (``"cosine"``: between unit vectors).
    per_section : bool, default=False
        One reference set per section (routed ``section``, or ``y`` in ``fit``).
    contamination : float in (0, 0.5], default=0.1
        Share of training clips above the threshold.
    threshold : {"percentile", "gamma"}, default="percentile"
        How ``offset_`` is set.

    Attributes
    ----------
    models_ : dict
        The references of each section and their scales (key ``None`` without ``per_section``).
    sections_, train_anomaly_scores_, offset_
        See :class:`BaseDetector`.

    See Also
    --------
    KNNDetector : the distance without rescaling.
    LOFDetector : a ratio of local densities, the query's own included.

    References
    ----------
    K. Wilkinghoff, H. Yang, J. Ebbers, F. G. Germain, G. Wichern, J. Le Roux, "Keeping the
    balance: anomaly score calculation for domain generalization", ICASSP 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import RescaledKNNDetector
    >>> rng = np.random.RandomState(0)
    >>> dense, sparse = rng.normal(0, 0.1, size=(50, 2)), rng.normal(5, 1.0, size=(5, 2))
    >>> det = RescaledKNNDetector(k_ref=3, metric="euclidean").fit(np.vstack([dense, sparse]))
    >>> near_dense, near_sparse = det.anomaly_score([[0.5, 0.0], [5.5, 5.0]])
    >>> bool(near_dense > near_sparse)  # the same offset counts more where the clips are dense
    True
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "k_ref": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"cosine", "euclidean"})],
        **PerSectionMixin._parameter_constraints,
    }

    def __init__(
        self,
        n_neighbors=1,
        *,
        k_ref=16,
        metric="cosine",
        per_section=False,
        contamination=0.1,
        threshold="percentile",
    ):
        self.n_neighbors = n_neighbors
        self.k_ref = k_ref
        self.metric = metric
        self.per_section = per_section
        self.contamination = contamination
        self.threshold = threshold

    def _fit(self, X, y, section, domain):
        def fit_one(key, idx):
            references = _ScaledReferences(self._rows(X, idx), self.k_ref, self.metric)
            return references, references.scores(None, self.n_neighbors, leave_one_out=True)

        k = self.n_neighbors
        requirement = f"RescaledKNNDetector(n_neighbors={k}) needs more than {k}"
        return self._fit_sections(X, section, fit_one, min_clips=k + 1, requirement=requirement)

    def _anomaly_score(self, X, section, domain):
        return self._score_sections(
            X, section, lambda references, idx: references.scores(self._rows(X, idx), self.n_neighbors)
        )
