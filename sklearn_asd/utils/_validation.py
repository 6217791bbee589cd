"""Validation shared by every kind of estimator."""

import numpy as np
from sklearn.utils import Bunch

DOMAINS = ("source", "target")
"""The domains of DCASE 2021-2024 clips."""
UNKNOWN_DOMAIN = "unknown"
"""The domain of evaluation clips whose domain is not given (DCASE 2022+ evaluation data)."""


def check_metadata(values, n_samples, name, *, caller, allowed=None):
    """Check one piece of per-clip metadata (``section``, ``domain``...).

    Returns it as a 1-D object array of length ``n_samples``; a scalar is
    broadcast to every clip. ``None`` raises an error that says what to pass.
    """
    if values is None:
        raise ValueError(
            f"{caller} needs the {name} of each clip: pass {name}=... "
            f"(in a Pipeline: pipe.decision_function(X, {name}=...), with "
            "sklearn.set_config(enable_metadata_routing=True))."
        )
    values = np.asarray(values, dtype=object)
    if values.ndim == 0:
        values = np.full(n_samples, values.item(), dtype=object)
    if values.shape != (n_samples,):
        hint = ""
        if values.ndim == 1:
            hint = (
                f" If a sampler earlier in the pipeline changed the number of clips, metadata cannot "
                f"follow it: let y carry the class and call set_fit_request({name}=False) on {caller}."
            )
        raise ValueError(
            f"{caller}: {name} must have one value per clip, shape ({n_samples},), got {values.shape}.{hint}"
        )
    if allowed is not None:
        bad = set(values.tolist()) - set(allowed)
        if bad:
            raise ValueError(
                f"{caller}: {name} must be among {sorted(allowed)}, got {sorted(map(str, bad))}."
            )
    return values


def check_outlier_mask(outlier, n, *, caller):
    """The fit-time ``outlier`` metadata as a boolean mask of ``n`` rows (``None``: no outliers)."""
    if outlier is None:
        return np.zeros(n, dtype=bool)
    mask = np.asarray(outlier)
    if mask.shape != (n,):
        raise ValueError(f"{caller}: outlier must have one value per clip, shape ({n},), got {mask.shape}.")
    if mask.dtype != bool:
        if not (np.issubdtype(mask.dtype, np.number) and np.isin(mask, (0, 1)).all()):
            raise ValueError(f"{caller}: outlier must be a boolean mask (True = a clip of another machine).")
        mask = mask.astype(bool)
    if mask.all():
        raise ValueError(
            f"{caller}: every training clip is marked outlier=True; the normal clips are missing."
        )
    return mask


def split_outliers(outlier, X, **columns):
    """Split training rows into the normal clips and the outlier-exposure clips.

    The one place where rows marked by the fit-time metadata ``outlier=True`` (clips of other
    machine types) leave the normal rows: every estimator that trains with outlier exposure
    receives the mask and calls this; every other one is given the normal rows alone.

    Parameters
    ----------
    outlier : ndarray of bool of shape (n_clips,) or None
        The mask (:func:`check_outlier_mask`); ``None``: no outlier rows.
    X : array-like of shape (n_clips, ...)
        The clips.
    **columns : array-like of shape (n_clips,) or None
        Per-clip values that follow the clips (``y``, ``section``, ``domain``...); ``None``
        stays ``None``.

    Returns
    -------
    normal : Bunch
        ``X`` and every column at the normal rows (the very objects when there are no outliers).
    outliers : ndarray of shape (n_outliers, ...)
        ``X`` at the outlier rows (no rows without outliers).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.utils import split_outliers
    >>> normal, outliers = split_outliers(np.array([False, True, False]), np.arange(3), y=["a", "x", "b"])
    >>> normal.X, list(normal.y), outliers
    (array([0, 2]), ['a', 'b'], array([1]))
    """
    if outlier is None or not np.any(outlier):
        return Bunch(X=X, **columns), X[:0]
    outlier = np.asarray(outlier, dtype=bool)
    keep = np.flatnonzero(~outlier)

    def rows(values):
        if values is None:
            return None
        values = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
        return values[keep]

    return Bunch(X=X[keep], **{name: rows(values) for name, values in columns.items()}), X[outlier]
