"""ROC curves and score histograms from anomaly scores and ground truth."""

import numpy as np
from sklearn.metrics import roc_curve

from ..metrics import partial_auc, roc_auc
from ..metrics._ranking import _check_binary
from ..utils import DOMAINS
from ._base import groups, panels

_COLORS = {"source": "tab:blue", "target": "tab:orange", "all": "tab:blue"}


def plot_roc(anomaly, score, *, section=None, domain=None, max_fpr=0.1, ncols=3):
    """ROC curves per section and domain, with the AUC and pAUC of the official protocol.

    One panel per section. With ``domain``, each panel holds one curve per domain, drawn
    as the DCASE 2022-2024 evaluator computes its AUC: that domain's normal clips against
    all anomalous clips of the section. The band ``FPR <= max_fpr`` over which the
    partial AUC (all clips of the section) is computed is shaded.

    Parameters
    ----------
    anomaly : array-like of shape (n_clips,)
        1 for anomalous clips, 0 for normal ones.
    score : array-like of shape (n_clips,)
        Anomaly scores, higher = more anomalous (:func:`sklearn_asd.utils.anomaly_score`).
    section : array-like of shape (n_clips,), default=None
        Section of each clip; ``None`` draws all clips in one panel.
    domain : array-like of shape (n_clips,), default=None
        ``"source"`` / ``"target"`` of each clip; ``None`` draws one curve per section.
    max_fpr : float, default=0.1
        Upper end of the partial AUC's false-positive range.
    ncols : int, default=3
        Panels per row.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_asd.plot import plot_roc
    >>> fig = plot_roc([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9],
    ...                domain=["source", "target", "source", "target", "source", "source"])
    >>> [line.get_label() for line in fig.axes[0].get_lines()][1:]
    ['source: AUC 1.000', 'target: AUC 0.667']
    """
    anomaly, score = _check_binary(anomaly, score)
    n = len(score)
    section, sections = groups(section, n, "section")
    domain, _ = groups(domain, n, "domain")
    fig, axes = panels(len(sections), ncols=ncols)
    for ax, sec in zip(axes, sections):
        in_sec = section == sec
        a, s, d = anomaly[in_sec], score[in_sec], domain[in_sec]
        ax.axvspan(0, max_fpr, color="0.92", zorder=0, label=f"pAUC band: FPR <= {max_fpr:g}")
        ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1)
        for dom in [v for v in (*DOMAINS, "all") if v in set(d)]:
            keep = (d == dom) | (a == 1)
            fpr, tpr, _ = roc_curve(a[keep], s[keep])
            ax.plot(fpr, tpr, color=_COLORS[dom], label=f"{dom}: AUC {roc_auc(a[keep], s[keep]):.3f}")
        title = "" if sec == "all" else f"{sec}, "
        ax.set_title(f"{title}pAUC {partial_auc(a, s, max_fpr=max_fpr):.3f}", fontsize=10)
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate")
        ax.legend(loc="lower right", fontsize=8)
    return fig


def plot_score_histogram(anomaly, score, *, section=None, threshold=None, bins=30, ncols=3):
    """Histograms of the anomaly scores of normal and anomalous clips, per section.

    Parameters
    ----------
    anomaly : array-like of shape (n_clips,)
        1 for anomalous clips, 0 for normal ones (clips of one kind only are allowed).
    score : array-like of shape (n_clips,)
        Anomaly scores, higher = more anomalous.
    section : array-like of shape (n_clips,), default=None
        Section of each clip; ``None`` draws all clips in one panel.
    threshold : float, estimator or None, default=None
        Decision threshold drawn as a vertical line, in anomaly-score units. A fitted
        detector, or a pipeline ending in one, gives its own: ``-offset_`` (the score
        above which ``predict`` returns -1).
    bins : int, default=30
        Bins per panel, shared by both histograms.
    ncols : int, default=3
        Panels per row.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_asd.plot import plot_score_histogram
    >>> fig = plot_score_histogram([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], threshold=0.5)
    >>> fig.axes[0].get_lines()[0].get_xdata()[0]
    0.5
    """
    anomaly, score = _check_binary(anomaly, score, both=False)
    threshold = _threshold_of(threshold)
    section, sections = groups(section, len(score), "section")
    fig, axes = panels(len(sections), ncols=ncols)
    for ax, sec in zip(axes, sections):
        in_sec = section == sec
        a, s = anomaly[in_sec], score[in_sec]
        lo, hi = s.min(), s.max()
        if threshold is not None:
            lo, hi = min(lo, threshold), max(hi, threshold)
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
        if threshold is not None:
            ax.axvline(threshold, color="k", linestyle="--", linewidth=1, label=f"threshold {threshold:.3g}")
        for value, name, color in ((0, "normal", "tab:blue"), (1, "anomalous", "tab:red")):
            if np.any(a == value):
                ax.hist(
                    s[a == value], bins=edges, alpha=0.55, color=color, label=f"{name} ({np.sum(a == value)})"
                )
        ax.set(xlabel="anomaly score", ylabel="clips")
        if sec != "all":
            ax.set_title(str(sec), fontsize=10)
        ax.legend(fontsize=8)
    return fig


def _threshold_of(threshold):
    if threshold is None or isinstance(threshold, (int, float, np.number)):
        return None if threshold is None else float(threshold)
    detector = threshold[-1] if hasattr(threshold, "steps") else threshold
    if not hasattr(detector, "offset_"):
        raise ValueError(
            "threshold must be a number, or a fitted detector (or a pipeline ending in one) with offset_, "
            f"got {type(threshold).__name__}."
        )
    return float(-detector.offset_)
