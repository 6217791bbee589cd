"""Validation shared by every kind of estimator."""

import numpy as np

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
