"""A 2-D map of clip embeddings (t-SNE or PCA), coloured by section and by anomaly."""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.utils.validation import check_array

from ..utils import DOMAINS
from ._base import groups, panels

_MARKERS = {"source": "o", "target": "^", "all": "o"}


def plot_embeddings(
    embeddings, *, section=None, anomaly=None, domain=None, method="tsne", perplexity=30.0, random_state=0
):
    """A 2-D map of clip embeddings, coloured by section and by anomaly.

    The map of Giri et al. (DCASE 2020, system 1): clips whose embeddings cluster by
    section, with anomalous clips falling off their section's cluster. The left panel
    colours the clips by section, the right one by normal / anomalous; with ``domain``,
    target-domain clips are drawn as triangles.

    Parameters
    ----------
    embeddings : array-like of shape (n_clips, n_features)
        One embedding per clip, e.g. the output of a
        :class:`~sklearn_asd.embedders.ClassifierEmbedder`, or ``pipeline[:-1].transform(X)``.
    section : array-like of shape (n_clips,), default=None
        Section of each clip.
    anomaly : array-like of shape (n_clips,), default=None
        1 for anomalous clips, 0 for normal ones; ``None`` omits the right panel.
    domain : array-like of shape (n_clips,), default=None
        ``"source"`` / ``"target"`` of each clip (marker shape).
    method : {"tsne", "pca"}, default="tsne"
        The 2-D projection: :class:`sklearn.manifold.TSNE` (cosine distance, PCA
        initialisation) or :class:`sklearn.decomposition.PCA`.
    perplexity : float, default=30.0
        t-SNE perplexity, lowered to ``(n_clips - 1) / 3`` for small sets.
    random_state : int, RandomState instance or None, default=0
        Seed of the t-SNE optimisation.

    Returns
    -------
    fig : matplotlib.figure.Figure
        ``fig.map_`` holds the 2-D coordinates of the clips.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_asd.plot import plot_embeddings
    >>> rng = np.random.default_rng(0)
    >>> emb = np.vstack([rng.normal(0, 1, (20, 8)), rng.normal(4, 1, (20, 8))])
    >>> fig = plot_embeddings(emb, section=["s0"] * 20 + ["s1"] * 20, anomaly=[0] * 35 + [1] * 5,
    ...                       method="pca")
    >>> fig.map_.shape, len(fig.axes)
    ((40, 2), 2)
    """
    X = check_array(embeddings, dtype=np.float64)
    n = X.shape[0]
    if n < 3:
        raise ValueError(f"a map needs at least 3 clips, got {n}.")
    section, sections = groups(section, n, "section")
    domain, _ = groups(domain, n, "domain")
    if anomaly is not None:
        anomaly, _ = groups(anomaly, n, "anomaly")
        anomaly = anomaly.astype(int)
        if not set(np.unique(anomaly).tolist()) <= {0, 1}:
            raise ValueError("anomaly must hold 1 (anomalous) and 0 (normal) only.")
    if method == "tsne":
        tsne = TSNE(
            perplexity=min(perplexity, (n - 1) / 3.0),
            metric="cosine",
            init="pca",
            random_state=random_state,
        )
        coords = tsne.fit_transform(X)
    elif method == "pca":
        coords = PCA(n_components=2).fit_transform(X)
    else:
        raise ValueError(f"method must be 'tsne' or 'pca', got {method!r}.")

    fig, axes = panels(1 if anomaly is None else 2, ncols=2, size=(5.0, 4.5))
    palette = _palette(len(sections))
    for dom in [v for v in (*DOMAINS, "all") if v in set(domain)]:
        for color, sec in zip(palette, sections):
            keep = (section == sec) & (domain == dom)
            label = str(sec) if dom in ("source", "all") else None
            axes[0].scatter(*coords[keep].T, s=14, color=color, marker=_MARKERS[dom], label=label)
    axes[0].set_title(
        "by section" + (" (triangles: target domain)" if "target" in set(domain) else ""), fontsize=10
    )
    axes[0].legend(fontsize=7, markerscale=1.2)
    if anomaly is not None:
        for value, name, color in ((0, "normal", "tab:blue"), (1, "anomalous", "tab:red")):
            for dom in [v for v in (*DOMAINS, "all") if v in set(domain)]:
                keep = (anomaly == value) & (domain == dom)
                label = name if dom in ("source", "all") else None
                axes[1].scatter(
                    *coords[keep].T, s=14, color=color, marker=_MARKERS[dom], label=label, alpha=0.8
                )
        axes[1].set_title("normal / anomalous", fontsize=10)
        axes[1].legend(fontsize=7)
    for ax in axes:
        ax.set(xticks=[], yticks=[], xlabel=f"{method} 1", ylabel=f"{method} 2")
    fig.map_ = coords
    return fig


def _palette(n):
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def model_embeddings(model, X):
    """What a fitted pipeline's final detector sees of each clip, one vector per clip.

    The input of :func:`plot_embeddings` for a model: the output of the steps before the
    detector; when the detector scores with a classifier of its own (a
    :class:`~sklearn_asd.detectors.SoftmaxScore` around an embedder, its fitted ``estimator_``),
    that classifier's embeddings. A sequence per clip (a spectrogram) is averaged over time.

    Parameters
    ----------
    model : Pipeline or detector
        Fitted.
    X : array-like
        Clips, as ``model`` takes them.

    Returns
    -------
    embeddings : ndarray of shape (n_clips, n_features)
    """
    steps = model.steps if hasattr(model, "steps") else [("detector", model)]
    Xt = model[:-1].transform(X) if len(steps) > 1 else X
    inner = getattr(steps[-1][1], "estimator_", None)
    if inner is not None and hasattr(inner, "transform"):
        Xt = inner.transform(Xt)
    Xt = np.asarray(Xt, dtype=float)
    if Xt.ndim > 2:
        Xt = Xt.mean(axis=-1).reshape(len(Xt), -1)
    return Xt
