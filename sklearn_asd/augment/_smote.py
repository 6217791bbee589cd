"""SMOTE for spectrogram clips and embeddings."""

import warnings
from numbers import Integral

import numpy as np
from imblearn.over_sampling import SMOTE as _ImbSMOTE
from sklearn.utils._param_validation import Interval

from ._base import BaseAugmenter


class SMOTE(BaseAugmenter):
    """imbalanced-learn's SMOTE on clips of any shape, to balance sections, domains or attributes.

    Hai et al. (DCASE 2024) rebalance the 990 source against the 10 target clips of
    each section with SMOTE: each new clip lies on the segment between a clip of a
    minority class and one of its ``k_neighbors`` nearest same-class clips.
    Spectrograms are flattened for the neighbour search and restored afterwards. The
    classes are those of ``y``: to balance domains within sections, label the clips
    ``section|domain``. When a class has fewer clips than ``k_neighbors + 1``,
    ``k_neighbors`` is lowered with a warning instead of failing; a single class is
    returned unchanged.

    Parameters
    ----------
    k_neighbors : int, default=5
        Neighbours to interpolate towards.
    sampling_strategy : str, float or dict, default="auto"
        As imbalanced-learn's (``"auto"``: every class up to the largest).
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    k_neighbors_ : int
        The number of neighbours used.
    synthetic_mask_, sample_indices_, classes_
        See :class:`BaseAugmenter`; ``sample_indices_`` is -1 for synthetic clips
        (each is made from two).

    See Also
    --------
    Mixup : interpolates across classes, with soft labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.augment import SMOTE
    >>> S = np.random.RandomState(0).normal(size=(13, 4, 5))
    >>> y = ["s00|source"] * 10 + ["s00|target"] * 3
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     X, y_res = SMOTE(random_state=0).fit_resample(S, y)
    >>> print(caught[0].message)
    SMOTE: class 's00|target' has 3 clips, so k_neighbors is lowered from 5 to 2.
    >>> X.shape, np.unique(y_res, return_counts=True)[1].tolist()
    ((20, 4, 5), [10, 10])
    """

    _parameter_constraints = {
        "k_neighbors": [Interval(Integral, 1, None, closed="left")],
        "sampling_strategy": [str, float, dict],
        "random_state": ["random_state"],
    }

    def __init__(self, k_neighbors=5, *, sampling_strategy="auto", random_state=None):
        self.k_neighbors = k_neighbors
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    def _augment(self, X, y, rng):
        if y.ndim == 2:
            raise ValueError("SMOTE balances classes: it needs hard labels, got class proportions.")
        classes, counts = np.unique(y, return_counts=True)
        self.k_neighbors_ = self.k_neighbors
        if classes.size < 2:
            return X[:0], y[:0], np.zeros(0, dtype=int)
        if counts.min() < 2:
            raise ValueError(
                f"SMOTE needs at least 2 clips of every class to interpolate between, class "
                f"{classes[counts.argmin()]!r} has 1; merge it with another or use Mixup/SpectralWarp."
            )
        if counts.min() <= self.k_neighbors:
            self.k_neighbors_ = int(counts.min() - 1)
            warnings.warn(
                f"SMOTE: class {classes[counts.argmin()]!r} has {counts.min()} clips, so k_neighbors is "
                f"lowered from {self.k_neighbors} to {self.k_neighbors_}.",
                UserWarning,
                stacklevel=3,
            )
        smote = _ImbSMOTE(
            sampling_strategy=self.sampling_strategy, k_neighbors=self.k_neighbors_, random_state=rng
        )
        # integer codes for imbalanced-learn, so the labels come back with their own type
        codes = np.searchsorted(classes, y)
        flat, new_codes = smote.fit_resample(X.reshape(X.shape[0], -1), codes)
        new = slice(X.shape[0], None)  # imbalanced-learn appends the synthetic clips
        labels = classes[new_codes[new]].astype(object)
        return flat[new].reshape((-1,) + X.shape[1:]), labels, np.full(len(labels), -1)
