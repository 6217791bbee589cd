"""Anomaly scores from a section classifier's probabilities."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import validate_data

from ..utils import split_outliers
from ._base import BaseDetector, PerSectionMixin, fit_member

_ALL = "__all_sections__"


class SoftmaxScore(PerSectionMixin, BaseDetector):
    """Score a clip by the probability a section classifier gives its own class.

    The self-supervised ASD systems train a classifier to tell sections (machine IDs)
    apart on normal clips; a clip the classifier does not recognise as its own class
    is anomalous. With ``kind="prob"`` the anomaly score is ``-p`` (Giri et al., DCASE
    2020), with ``kind="log_odds"`` it is ``log(1 - p) - log(p)`` (the DCASE 2021-2022
    MobileNetV2 baseline). Frame-level probabilities ``(n_clips, n_frames, n_classes)``
    are scored per frame and averaged over frames.

    **Which probability is ``p``.** The classes a clip can truly belong to are the
    *base classes*: the classes of the training labels ``y``, or, for an embedder that says
    what each class is (``class_kind_`` and ``class_origin_`` of
    :class:`~sklearn_asd.embedders.ClassifierEmbedder`), its normal and power pseudo-classes.
    Classes made by augmentation (a :class:`~sklearn_asd.augment.SpectralWarp` copy's class)
    and the outlier-exposure class are never a clip's own: a clip that looks warped, or like
    another machine, gets a low ``p`` on purpose, as in Giri et al. A class belongs to the
    sections of the training clips it stands for (read from the fit-time ``section``; without
    it, a clip's section is the part of its ``y`` before ``separator``: ``"section_00|pat=01"``
    is of ``"section_00"``). Then, for a clip of section ``s``:

    - with an ``attribute`` (routed metadata, e.g. ``"pat=01"``, the part of the class
      label after the section; :func:`~sklearn_asd.datasets.attribute_labels` writes it from
      DCASE file names) such that ``"s|attribute"`` is a base class: ``p`` is that class's
      probability;
    - otherwise (no attribute, ``""``, or one never seen in training): ``p`` is the largest
      probability among the base classes of section ``s``.

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
        What separates a section from the rest of a label of ``y`` (when no ``section`` is
        routed in fit, and for the test-time ``attribute``).
    per_section : bool, default=True
        ``False``: ``p`` is the largest probability among all base classes, whatever the clip's
        section (the maximum softmax probability of out-of-distribution detection, Hendrycks &
        Gimpel 2017); no section is needed at test time.
    eps : float, default=1e-7
        ``p`` is clipped to ``[eps, 1 - eps]`` for the log-odds.
    contamination : float in (0, 0.5], default=0.1
    threshold : {"percentile", "gamma", "mean_probability"}, default="percentile"
        ``"mean_probability"`` (``kind="prob"`` only): a clip is anomalous when its ``p`` is below
        ``(1 - margin)`` times the mean ``p`` of the training clips (Kazakova et al., DCASE 2022,
        ``margin=0.04``); ``contamination`` is then not used.
    margin : float in [0, 1), default=0.04

    Attributes
    ----------
    classes_ : ndarray of str
        The classes of the probability columns.
    base_classes_ : ndarray of str
        The classes a clip can truly belong to (see above): the training labels' classes.
    class_sections_ : dict
        ``{section: its base classes}`` (one key, ``"__all_sections__"``, without ``per_section``).
    sections_ : ndarray of str
        The sections of the base classes.
    estimator_ : classifier
        The fitted classifier (with ``estimator``).

    See Also
    --------
    sklearn_asd.embedders.ClassifierEmbedder : the section classifier it usually wraps.
    KNNDetector : a distance on the classifier's embeddings instead of its probabilities.

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

    __metadata_request__decision_function = {"attribute": True}
    __metadata_request__predict = {"attribute": True}

    _parameter_constraints = {
        **BaseDetector._parameter_constraints,
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "kind": [StrOptions({"prob", "log_odds"})],
        "classes": ["array-like", None],
        "separator": [str],
        **PerSectionMixin._parameter_constraints,
        "eps": [Interval(Real, 0, 0.5, closed="neither")],
        "threshold": [StrOptions({"percentile", "gamma", "mean_probability"})],
        "margin": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        estimator=None,
        *,
        kind="prob",
        classes=None,
        separator="|",
        per_section=True,
        eps=1e-7,
        contamination=0.1,
        threshold="percentile",
        margin=0.04,
    ):
        self.estimator = estimator
        self.kind = kind
        self.classes = classes
        self.separator = separator
        self.per_section = per_section
        self.eps = eps
        self.contamination = contamination
        self.threshold = threshold
        self.margin = margin

    def _section_of(self, labels):
        if not self.per_section:  # every class is a candidate: one pseudo-section
            return np.full(len(labels), _ALL, dtype=object)
        return np.array([str(c).split(self.separator, 1)[0] for c in labels], dtype=object)

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

    _consumes_outliers = True  # an estimator that trains with outlier exposure gets those rows

    def _fit(self, X, y, section, domain, outlier):
        normal, _ = split_outliers(outlier, X, y=y, section=section)
        given = None if y is None else np.asarray(normal.y, dtype=object)
        labels = np.unique(self._section_from_y(y) if y is None else given)
        if self.estimator is not None:
            self.estimator_ = fit_member(self.estimator, X, y, outlier=outlier)
            self.classes_ = np.asarray(self.estimator_.classes_, dtype=object)
            if hasattr(self.estimator_, "class_kind_"):  # an embedder that says what each class is
                kind = np.asarray(self.estimator_.class_kind_, dtype=object)
                is_base = (kind == "normal") | (kind == "power")
                origin = np.asarray(self.estimator_.class_origin_, dtype=object)
            else:
                base = getattr(self.estimator_, "base_classes_", None)
                is_base = np.isin(self.classes_, labels if base is None else np.asarray(base, dtype=object))
                origin = self.classes_
        else:
            self.classes_ = np.asarray(self.classes if self.classes is not None else labels, dtype=object)
            is_base, origin = np.isin(self.classes_, labels), self.classes_
        self.base_classes_ = self.classes_[is_base]
        if self.base_classes_.size == 0:
            raise ValueError(
                f"none of the training labels {sorted(map(str, labels))} is among the classes "
                f"{sorted(map(str, self.classes_))}: pass classes= in the order of the probability columns."
            )
        self.class_sections_ = self._class_sections(origin[is_base], given, normal.section)
        self.sections_ = np.array(sorted(self.class_sections_), dtype=object)
        return self._scores(normal.X, normal.section, None)

    def _class_sections(self, origin, given, section):
        """``{section: its base classes}``: a class belongs to the sections of the training clips
        it stands for (``origin``: their label; ``None``, all clips), read from the data."""
        if not self.per_section or section is None:  # every class is a candidate: one pseudo-section
            return {_ALL: self.base_classes_}
        groups = {}
        for label, org in zip(self.base_classes_, origin):
            rows = np.ones(len(given), dtype=bool) if org is None else given == org
            secs = np.unique(section[rows]) if rows.any() else self._section_of([org])
            for sec in secs:
                groups.setdefault(sec, []).append(label)
        return {sec: np.array(classes, dtype=object) for sec, classes in groups.items()}

    _score_metadata = ("attribute",)

    def _threshold(self, scores):
        if self.threshold != "mean_probability":
            return super()._threshold(scores)
        if self.kind != "prob":
            raise ValueError("threshold='mean_probability' is a threshold on p: use kind='prob'.")
        return (1.0 - self.margin) * float(np.mean(scores))  # scores = -p: -(1 - a) mean(p)

    def _default_section(self, n):
        # one section (or per_section=False): a clip can only belong to it
        return np.full(n, self.sections_[0], dtype=object) if len(self.sections_) == 1 else None

    def _anomaly_score(self, X, section, domain, attribute=None):
        if attribute is not None:
            attribute = np.array(["" if a is None else str(a) for a in attribute], dtype=object)
        return self._scores(X, section, attribute)

    def _scores(self, X, section, attribute):
        P = self._probabilities(X)
        if section is None or not self.per_section:  # one pseudo-section for every clip
            section = np.full(P.shape[0], _ALL, dtype=object)
        column = {c: i for i, c in enumerate(self.classes_)}
        p = np.empty(P.shape[:-1])
        for sec in np.unique(section):
            if sec not in self.class_sections_:
                raise self._unknown("section", sec, self.sections_)
            own_classes = self.class_sections_[sec]
            cols = np.array([column[c] for c in own_classes])
            rows = np.flatnonzero(section == sec)
            p[rows] = P[rows][..., cols].max(axis=-1)
            if attribute is None:
                continue
            for attr in np.unique(attribute[rows]):
                own = f"{sec}{self.separator}{attr}" if attr else None
                if own in column and own in set(own_classes):
                    hit = rows[attribute[rows] == attr]
                    p[hit] = P[hit][..., column[own]]
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
