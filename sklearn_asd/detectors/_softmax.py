"""Anomaly scores from a section classifier's probabilities."""

from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import validate_data

from ._base import BaseDetector


class SoftmaxScore(BaseDetector):
    """Score a clip by the probability a section classifier gives its own section.

    The self-supervised ASD systems train a classifier to tell sections (machine IDs)
    apart on normal clips; a clip the classifier does not recognise as its own section
    is anomalous. With ``kind="prob"`` the anomaly score is ``-p`` (Giri et al., DCASE
    2020), with ``kind="log_odds"`` it is ``log(1 - p) - log(p)`` (the DCASE 2021-2022
    MobileNetV2 baseline), where ``p`` is the probability of the clip's section, taken as
    the best class of its section when a section has several classes (section x
    attribute, or the warped copies of augmentation). Frame-level probabilities
    ``(n_clips, n_frames, n_classes)`` are scored per frame and averaged over frames.

    A class belongs to a section when its label is the section or starts with the
    section and ``separator`` (``"section_00|warp=0.95"``, ``"section_00|pat_01"``).

    Parameters
    ----------
    estimator : classifier or None, default=None
        Anything with ``fit`` and ``predict_proba`` (an embedder of
        ``sklearn_asd.embedders``, a scikit-learn classifier or pipeline): it is cloned,
        fitted on ``(X, y)`` and asked for probabilities. ``None``: ``X`` already holds
        the probabilities, in the column order of ``classes`` (or of ``np.unique(y)``).
    kind : {"prob", "log_odds"}, default="prob"
    classes : array-like of str or None, default=None
        The class of each probability column when ``estimator`` is None; default
        ``np.unique(y)`` (scikit-learn classifiers' order).
    separator : str, default="|"
        What separates a section from the rest of a class label.
    eps : float, default=1e-7
        ``p`` is clipped to ``[eps, 1 - eps]`` for the log-odds.
    contamination : float in (0, 0.5], default=0.1
    threshold : {"percentile", "gamma"}, default="percentile"

    Attributes
    ----------
    classes_ : ndarray of str
        The classes of the probability columns.
    estimator_ : classifier
        The fitted classifier (with ``estimator``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import SoftmaxScore
    >>> P = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9]])
    >>> y = ["id_00", "id_00", "id_02", "id_02"]
    >>> det = SoftmaxScore().fit(P, y)
    >>> det.anomaly_score([[0.95, 0.05], [0.3, 0.7]], section=["id_00", "id_00"])
    array([-0.95, -0.3 ])
    """

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "kind": [StrOptions({"prob", "log_odds"})],
        "classes": ["array-like", None],
        "separator": [str],
        "eps": [Interval(Real, 0, 0.5, closed="neither")],
    }

    def __init__(
        self,
        estimator=None,
        *,
        kind="prob",
        classes=None,
        separator="|",
        eps=1e-7,
        contamination=0.1,
        threshold="percentile",
    ):
        self.estimator = estimator
        self.kind = kind
        self.classes = classes
        self.separator = separator
        self.eps = eps
        self.contamination = contamination
        self.threshold = threshold

    def _section_of(self, labels):
        return np.array([str(c).split(self.separator, 1)[0] for c in labels], dtype=object)

    def _needs_section(self):
        return True

    def _section_from_y(self, y):
        if y is None:
            raise ValueError(
                "SoftmaxScore requires y to be passed, but the target y is None: y is the class "
                "(section) of each training clip."
            )
        return self._section_of(np.asarray(y, dtype=object))

    def _validate_X(self, X, reset):
        if self.estimator is not None:
            # clips for the classifier: any numeric array, one clip per row
            return validate_data(self, X, reset=reset, allow_nd=True, dtype=[np.float64, np.float32])
        P = validate_data(self, X, reset=reset, allow_nd=True, dtype=float)
        if P.ndim not in (2, 3):
            raise ValueError(
                f"SoftmaxScore expects probabilities (n_clips, [n_frames,] n_classes), got shape {P.shape}."
            )
        if P.min() < -1e-6 or P.max() > 1 + 1e-6:
            raise ValueError("SoftmaxScore expects class probabilities in [0, 1] (X holds other values).")
        return P

    def _probabilities(self, X):
        if self.estimator is None:
            P = X
        else:
            P = np.asarray(self.estimator_.predict_proba(X), dtype=float)
        if P.shape[-1] != len(self.classes_):
            raise ValueError(
                f"SoftmaxScore has {len(self.classes_)} classes but the probabilities have "
                f"{P.shape[-1]} columns; pass classes= in the order of the columns."
            )
        return P

    def _fit(self, X, y, section, domain):
        if self.estimator is not None:
            self.estimator_ = clone(self.estimator).fit(X, y)
            self.classes_ = np.asarray(self.estimator_.classes_, dtype=object)
        elif self.classes is not None:
            self.classes_ = np.asarray(self.classes, dtype=object)
        else:
            self.classes_ = np.unique(np.asarray(y, dtype=object))
        self.sections_ = np.unique(self._section_of(self.classes_))
        return self._anomaly_score(X, section, domain)

    def _anomaly_score(self, X, section, domain):
        P = self._probabilities(X)
        class_section = self._section_of(self.classes_)
        p = np.empty(P.shape[:-1])
        for sec in np.unique(section):
            cols = np.flatnonzero(class_section == sec)
            if cols.size == 0:
                raise self._unknown("section", sec, self.sections_)
            rows = np.flatnonzero(section == sec)
            p[rows] = P[rows][..., cols].max(axis=-1)
        if self.kind == "prob":
            frame_scores = -p
        else:
            q = np.clip(p, self.eps, 1 - self.eps)
            frame_scores = np.log1p(-q) - np.log(q)
        return frame_scores.mean(axis=1) if frame_scores.ndim == 2 else frame_scores

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
