"""Shared helpers: the optional matplotlib import and panel grids."""

import math

import numpy as np

from ..utils import check_metadata


def pyplot():
    """``matplotlib.pyplot``, or an error that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is in the test extra
        raise ImportError(
            'sklearn_asd.plot needs matplotlib: pip install "sklearn-asd[plot]" (or matplotlib).'
        ) from exc
    return plt


def panels(n, *, ncols=3, size=(4.0, 3.4)):
    """A figure with ``n`` axes in rows of ``ncols``; unused axes are hidden."""
    plt = pyplot()
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False, constrained_layout=True
    )
    axes = axes.ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def groups(values, n, name):
    """The distinct values of a per-clip array in order of first appearance (all clips when None)."""
    if values is None:
        return np.full(n, "all", dtype=object), ["all"]
    values = check_metadata(values, n, name, caller="the plot")
    _, first = np.unique(values.astype(str), return_index=True)
    return values, list(values[np.sort(first)])
