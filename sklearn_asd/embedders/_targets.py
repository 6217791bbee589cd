"""The auxiliary task of the classifier embedders: its classes, held-out clips and training targets.

Everything here is data in, data out (no network): which classes the normal clips get
(:func:`auxiliary_task` decides from ``target``, ``outlier_exposure`` and ``pseudo_classes``),
which clips are held out (:func:`split_validation`), the augmented training rows and their
targets (:func:`training_targets`), and what each class is (:func:`class_structure`), which
:class:`~sklearn_asd.detectors.SoftmaxScore` reads.
"""

import numpy as np
import torch

from ..augment import as_sampler

OUTLIER_CLASS = "__outlier__"
"""The label of the outlier-exposure class (clips of other machine types)."""


def auxiliary_task(y, n_outliers, level, *, target, outlier_exposure, pseudo_classes):
    """The classes the network learns to tell apart, from the embedder's three settings.

    Parameters
    ----------
    y : ndarray of shape (n_normal,)
        The normal training clips' classes as given.
    n_outliers : int
        How many outlier rows (clips of other machine types) were given.
    level : callable
        ``level() -> ndarray of shape (n_normal,)``, each clip's average level; called only when
        the level pseudo-classes are needed.
    target : {"y", "machine"}
        ``"machine"``: every normal clip is one class, told from the outlier rows.
    outlier_exposure : bool or "auto"
        Whether the outlier rows are a class: always, never, or only when the normal clips hold
        a single class.
    pseudo_classes : int
        A single class and no outlier class: split by quantiles of the level into this many.

    Returns
    -------
    labels : ndarray of shape (n_normal,)
        Each normal clip's class.
    use_outliers : bool
        Whether the outlier rows are trained as :data:`OUTLIER_CLASS`.
    pseudo : bool
        Whether ``labels`` are level pseudo-classes (``"<class>|power=<q>"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.embedders._targets import auxiliary_task
    >>> y = np.array(["id_00"] * 4, dtype=object)
    >>> labels, use, pseudo = auxiliary_task(y, 0, lambda: np.array([1.0, 2.0, 3.0, 4.0]),
    ...                                      target="y", outlier_exposure="auto", pseudo_classes=2)
    >>> list(labels), use, pseudo
    (['id_00|power=0', 'id_00|power=0', 'id_00|power=1', 'id_00|power=1'], False, True)
    """
    y = np.asarray(y, dtype=object)
    labels = np.full(len(y), "machine", dtype=object) if target == "machine" else y
    classes = np.unique(labels)
    wanted = outlier_exposure is True or (outlier_exposure == "auto" and len(classes) < 2)
    use_outliers = bool(wanted and n_outliers)
    if len(classes) > 1 or use_outliers:
        return labels, use_outliers, False
    return power_classes(classes[0], level(), pseudo_classes), False, True


def power_classes(label, level, n_classes):
    """``"<label>|power=<q>"``: the quantile bin (of ``n_classes``) of each clip's level."""
    edges = np.quantile(level, np.linspace(0, 1, n_classes + 1)[1:-1])
    q = np.searchsorted(edges, level, side="right")
    return np.array([f"{label}|power={k}" for k in q], dtype=object)


def split_validation(labels, fraction, random_state):
    """Indices ``(train, validation)`` of the normal clips, stratified by class.

    Each class with at least 5 clips holds out ``round(fraction * n)`` of them (at least one);
    smaller classes, and ``fraction`` None or 0, hold out none.
    """
    rng = np.random.RandomState(random_state)
    train, valid = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_valid = 0
        if fraction and len(idx) >= 5:
            n_valid = max(1, int(round(fraction * len(idx))))
        valid.append(idx[:n_valid])
        train.append(idx[n_valid:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(valid))


def encode(classes, labels):
    """Index of each label in ``classes`` (which need not be sorted)."""
    order = np.argsort(classes)
    return order[np.searchsorted(classes[order], np.asarray(labels, dtype=object))]


def training_targets(X, labels, outliers, augment):
    """Augment the normal clips, add the outlier rows, and encode the targets.

    Returns ``(X, targets, classes)``: the training rows, a tensor of class indices (or of soft
    labels, shape (n, n_classes), after a soft-label sampler such as Mixup) and the classes in
    the order of the network's outputs (:data:`OUTLIER_CLASS` last when there are outliers).
    """
    sampler = as_sampler(augment)
    if sampler is not None:
        X, labels = sampler.fit_resample(X, labels)
        X = np.asarray(X, dtype=np.float32)
    y = np.asarray(labels)
    if y.ndim == 2:
        classes = getattr(sampler, "classes_", None)
        if classes is None or len(classes) != y.shape[1]:
            raise ValueError(
                "soft labels need their classes: they come from an augment= sampler such as Mixup."
            )
        classes = np.asarray(classes, dtype=object)
    else:
        classes = np.unique(y.astype(object))
    if len(outliers):
        X = np.concatenate([X, outliers])
        classes = np.append(classes, OUTLIER_CLASS).astype(object)
        if y.ndim == 2:
            y = np.vstack([np.hstack([y, np.zeros((len(y), 1))]), np.eye(len(classes))[[-1] * len(outliers)]])
        else:
            y = np.concatenate([y.astype(object), np.full(len(outliers), OUTLIER_CLASS, dtype=object)])
    if y.ndim == 2:
        return X, torch.as_tensor(y, dtype=torch.float32), classes
    return X, torch.as_tensor(encode(classes, y), dtype=torch.long), classes


def class_structure(classes, labels, given, *, pseudo, outlier_exposure):
    """What each class is: ``(kind, origin)``, arrays parallel to ``classes``.

    ``labels`` are the normal training clips' classes, ``given`` their ``y`` as passed to fit,
    ``pseudo`` whether the labels are level pseudo-classes. ``kind``: ``"normal"`` (a class of
    normal clips), ``"power"`` (a level pseudo-class that splits one given class),
    ``"outlier"`` (the outlier-exposure class) or ``"augmented"`` (made by an ``augment=``
    sampler: a warped or shifted copy's class). ``origin``: the given label a normal or power
    class stands for; ``None`` for the others and for a class that stands for several
    (``target="machine"``), so that a detector maps classes to sections from the data, not from
    the labels' spelling.
    """
    origins = {}
    for label, y in zip(labels.tolist(), given.tolist()):
        origins.setdefault(label, set()).add(y)
    kind, origin = [], []
    for c in classes:
        if outlier_exposure and c == OUTLIER_CLASS:
            kind.append("outlier")
            origin.append(None)
        elif c in origins:
            (first, *more) = origins[c]
            kind.append("power" if pseudo else "normal")
            origin.append(None if more else first)
        else:
            kind.append("augmented")
            origin.append(None)
    return np.array(kind, dtype=object), np.array(origin, dtype=object)
