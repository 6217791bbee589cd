"""Cross-validation for anomaly detection: normal clips train, anomalies only test."""

from numbers import Integral

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples

from ..utils import check_metadata, check_outlier_mask


def _check_anomaly(anomaly, n_samples, caller):
    if anomaly is None:
        raise ValueError(
            f"{caller}.split needs the ground truth: pass anomaly=... (1 anomalous, 0 normal); "
            "in GridSearchCV(...).fit(X, y, anomaly=...) with "
            "sklearn.set_config(enable_metadata_routing=True)."
        )
    anomaly = check_metadata(anomaly, n_samples, "anomaly", caller=caller).astype(int)
    bad = set(np.unique(anomaly).tolist()) - {0, 1}
    if bad:
        raise ValueError(
            f"{caller}: anomaly must be 0 or 1 for every clip, got {sorted(bad)} "
            "(clips of unknown label, -1, cannot be cross-validated)."
        )
    return anomaly.astype(int)


class NormalOnlyKFold(BaseCrossValidator):
    """K-fold cross-validation in which anomalous clips never enter a training fold.

    The normal clips are split into ``n_splits`` folds, stratified by the
    auxiliary class ``y`` and, when given, the ``domain`` (so every fold keeps
    the share of each section and of the rare target-domain clips). Each
    training set is the normal clips of the other folds; each test set is the
    fold's normal clips plus anomalous clips: their share of the anomalies
    (``anomalies="split"``, so every clip is tested once) or all of them
    (``anomalies="all"``, steadier AUCs when anomalies are few).

    The ground truth reaches :meth:`split` as metadata (``anomaly=``, and
    optionally ``domain=``): ``GridSearchCV(..., cv=NormalOnlyKFold()).fit(X, y,
    anomaly=..., domain=...)`` with metadata routing enabled.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=False
        Shuffle each stratum before assigning folds.
    random_state : int, RandomState instance or None, default=None
        Used when ``shuffle=True``.
    anomalies : {"split", "all"}, default="split"
        How anomalous clips are spread over the test folds.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.model_selection import NormalOnlyKFold
    >>> anomaly = np.array([0, 0, 0, 0, 1, 1])
    >>> for train, test in NormalOnlyKFold(n_splits=2).split(np.zeros((6, 1)), anomaly=anomaly):
    ...     print(train, test)
    [1 3] [0 2 4]
    [0 2] [1 3 5]
    """

    __metadata_request__split = {"anomaly": True, "domain": True, "outlier": True}

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None, anomalies="split"):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.anomalies = anomalies

    def get_n_splits(self, X=None, y=None, groups=None, **metadata):
        """Number of splitting iterations."""
        return self.n_splits

    def _fold_of(self, indices, strata, rng):
        """Fold number of each index: round-robin within each stratum, in a stratum order."""
        folds = np.empty(len(indices), dtype=int)
        position = 0
        for stratum in np.unique(strata):
            members = np.flatnonzero(strata == stratum)
            if self.shuffle:
                members = rng.permutation(members)
            folds[members] = (position + np.arange(len(members))) % self.n_splits
            position += len(members)
        return folds

    def split(self, X, y=None, groups=None, anomaly=None, domain=None, outlier=None):
        """Generate indices of training (normal only) and test clips.

        Parameters
        ----------
        X : array-like of shape (n_clips, ...)
        y : array-like of shape (n_clips,), default=None
            Auxiliary class (section); folds are stratified by it.
        groups : None
            Not used; stratification comes from ``y`` and ``domain``.
        anomaly : array-like of shape (n_clips,)
            1 anomalous, 0 normal. Required.
        domain : array-like of shape (n_clips,), default=None
            Domain of each clip; folds are stratified by it too.
        outlier : array-like of bool of shape (n_clips,), default=None
            Clips of other machine types for outlier exposure: in every training fold, never
            tested.

        Yields
        ------
        train : ndarray
            Indices of normal clips.
        test : ndarray
            Indices of normal and anomalous clips.
        """
        if not isinstance(self.n_splits, Integral) or self.n_splits < 2:
            raise ValueError(f"n_splits must be an integer of at least 2, got {self.n_splits!r}.")
        if self.anomalies not in ("split", "all"):
            raise ValueError(f"anomalies must be 'split' or 'all', got {self.anomalies!r}.")
        if groups is not None:
            raise ValueError("NormalOnlyKFold does not use groups; it stratifies by y and domain.")
        n_samples = _num_samples(X)
        anomaly = _check_anomaly(anomaly, n_samples, type(self).__name__)
        strata = np.full(n_samples, "", dtype=object)
        for extra in (y, domain):
            if extra is not None:
                extra = np.asarray(extra, dtype=object)
                if extra.shape != (n_samples,):
                    raise ValueError(f"y and domain must have shape ({n_samples},), got {extra.shape}.")
                strata = strata + "|" + extra.astype(str)
        exposure = check_outlier_mask(outlier, n_samples, caller=type(self).__name__)
        if np.any(anomaly[exposure] == 1):
            raise ValueError(f"{type(self).__name__}: a clip marked outlier=True must have anomaly=0.")
        normal = np.flatnonzero((anomaly == 0) & ~exposure)
        abnormal = np.flatnonzero(anomaly == 1)
        if len(normal) < self.n_splits:
            raise ValueError(f"cannot split {len(normal)} normal clips into n_splits={self.n_splits} folds.")
        rng = check_random_state(self.random_state)
        normal_fold = self._fold_of(normal, strata[normal], rng)
        abnormal_fold = self._fold_of(abnormal, strata[abnormal], rng)
        for k in range(self.n_splits):
            train = np.sort(np.concatenate([normal[normal_fold != k], np.flatnonzero(exposure)]))
            tested = abnormal if self.anomalies == "all" else abnormal[abnormal_fold == k]
            yield train, np.sort(np.concatenate([normal[normal_fold == k], tested]))


class DCASESplit(BaseCrossValidator):
    """The official protocol as a one-split cross-validator: fit on train, score on test.

    Load both parts in one data set (``load_dcase(root, machine, "all")``, or
    :func:`~sklearn_asd.datasets.concat_datasets`) and pass its ``split``
    array as metadata: ``GridSearchCV(..., cv=DCASESplit()).fit(X, y,
    split=data.split, anomaly=data.anomaly, section=..., domain=...)``.
    Anomalous clips in the training part are an error, not silently used.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.model_selection import DCASESplit
    >>> split = np.array(["train", "train", "test", "test"])
    >>> for train, test in DCASESplit().split(np.zeros((4, 1)), split=split):
    ...     print(train, test)
    [0 1] [2 3]
    """

    __metadata_request__split = {"split": True, "anomaly": True}

    def get_n_splits(self, X=None, y=None, groups=None, **metadata):
        """Always 1."""
        return 1

    def split(self, X, y=None, groups=None, split=None, anomaly=None):
        """Yield the training indices (``split == "train"``) and the test indices."""
        n_samples = _num_samples(X)
        if split is None:
            raise ValueError(
                "DCASESplit.split needs split=... ('train'/'test' per clip, the `split` field of "
                "load_dcase(..., 'all')), routed as metadata."
            )
        split = np.asarray(split, dtype=object)
        if split.shape != (n_samples,):
            raise ValueError(f"DCASESplit: split must have shape ({n_samples},), got {split.shape}.")
        bad = set(split.tolist()) - {"train", "test"}
        if bad:
            raise ValueError(
                f"DCASESplit: split values must be 'train' or 'test', got {sorted(map(str, bad))}."
            )
        train = np.flatnonzero(split == "train")
        test = np.flatnonzero(split == "test")
        if len(train) == 0 or len(test) == 0:
            raise ValueError("DCASESplit needs clips of both the 'train' and the 'test' split.")
        if anomaly is not None:
            anomaly = np.asarray(anomaly)
            if np.any(anomaly[train] == 1):
                raise ValueError(
                    f"DCASESplit: {int(np.sum(anomaly[train] == 1))} training clip(s) are anomalous; "
                    "anomaly detectors are trained on normal clips only."
                )
        yield train, test
