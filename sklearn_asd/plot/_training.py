"""Training curves from the skorch histories inside a fitted model."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator

from ._base import panels


def training_histories(estimator):
    """The skorch training histories inside a fitted estimator, by where they sit.

    Walks pipelines, meta-detectors (ensemble members, wrapped estimators) and the
    fitted attributes of every estimator, and collects the ``history`` of each skorch
    net it finds: the net of a :class:`~sklearn_asd.embedders.ClassifierEmbedder`, of
    an :class:`~sklearn_asd.detectors.AutoEncoderDetector`, of each member of a
    :class:`~sklearn_asd.detectors.StandardizedEnsemble`, ...

    Parameters
    ----------
    estimator : estimator or skorch.NeuralNet or skorch.history.History
        A fitted model.

    Returns
    -------
    histories : dict of str to skorch.history.History
        Keyed by the path to the net, e.g. ``"embedder.net_"``; empty when the model
        has no net.
    """
    from skorch import NeuralNet
    from skorch.history import History

    found = {}

    def walk(obj, path, seen):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, History):
            found[path or "history"] = obj
        elif isinstance(obj, NeuralNet):
            if getattr(obj, "history_", None) is not None:
                found[path or "net"] = obj.history_
        elif hasattr(obj, "steps") and isinstance(obj, BaseEstimator):
            for name, step in obj.steps:
                walk(step, f"{path}.{name}" if path else name, seen)
        elif isinstance(obj, BaseEstimator):
            for key, value in vars(obj).items():
                if key.endswith("_") and not key.startswith("_"):
                    walk(value, f"{path}.{key}" if path else key, seen)
        elif isinstance(obj, (list, tuple)):
            for i, value in enumerate(obj):
                walk(value, f"{path}[{i}]", seen)
        elif isinstance(obj, dict):
            for key, value in obj.items():
                walk(value, f"{path}[{key!r}]", seen)

    walk(estimator, "", set())
    return found


def plot_training_curves(estimator, *, keys=None, ncols=3):
    """Loss (and any other per-epoch number) against epoch, one panel per net.

    Parameters
    ----------
    estimator : estimator or skorch.NeuralNet or skorch.history.History
        A fitted model holding one or more skorch nets (see :func:`training_histories`).
    keys : list of str, default=None
        The history entries to draw; ``None`` draws every numeric per-epoch entry
        whose name ends in ``"loss"`` (``train_loss``, ``valid_loss``, ...).
    ncols : int, default=3
        Panels per row.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skorch.history import History
    >>> from sklearn_asd.plot import plot_training_curves
    >>> history = History()
    >>> for epoch, loss in enumerate([1.0, 0.6, 0.4], start=1):
    ...     history.new_epoch()
    ...     history.record("epoch", epoch)
    ...     history.record("train_loss", loss)
    >>> fig = plot_training_curves(history)
    >>> fig.axes[0].get_lines()[0].get_ydata().tolist()
    [1.0, 0.6, 0.4]
    """
    histories = training_histories(estimator)
    if not histories:
        raise ValueError(
            f"{type(estimator).__name__} holds no skorch net, so it has no training curves "
            "(is it fitted, and does it train a neural network?)."
        )
    fig, axes = panels(len(histories), ncols=ncols)
    owners = _owners(estimator)
    for ax, (path, history) in zip(axes, histories.items()):
        epochs = list(history)
        names = keys if keys is not None else _loss_keys(epochs)
        x = [row.get("epoch", i + 1) for i, row in enumerate(epochs)]
        for name in names:
            values = [row.get(name, np.nan) for row in epochs]
            if not any(isinstance(v, numbers.Number) and np.isfinite(v) for v in values):
                raise ValueError(
                    f"{path}: the history has no numeric {name!r} entry; it has {sorted(epochs[0])}."
                )
            ax.plot(x, values, marker="o", markersize=3, label=name)
        ax.set(xlabel="epoch", ylabel="loss" if keys is None else "value")
        title = owners.get(path, path)
        if still_falling([row.get("train_loss") for row in epochs]):
            title += "\nnot converged: the loss still falls at the last epoch"
            ax.title.set_color("tab:red")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
    return fig


def still_falling(losses, epochs=3, tol=0.01):
    """Whether the last loss is more than ``tol`` below every loss of the ``epochs`` before it."""
    losses = [v for v in losses if isinstance(v, numbers.Number) and np.isfinite(v)]
    if len(losses) <= epochs:
        return len(losses) > 1 and losses[-1] < (1 - tol) * min(losses[:-1])
    return losses[-1] < (1 - tol) * min(losses[-epochs - 1 : -1])


def _owners(estimator):
    """A readable name for each net's path: the steps and member names, and the owner's class.

    ``"ensemble.estimators_[0].net_"`` -> ``"ensemble > ae1 (AutoEncoderDetector)"``.
    """
    from skorch import NeuralNet

    names = {}
    if not isinstance(estimator, BaseEstimator):  # a bare net or history: nothing to name
        return names
    for path in training_histories(estimator):
        obj, label, parent = estimator, [], None
        for part in path.replace("[", ".[").split("."):
            if part.startswith("["):
                key = part[1:-1]
                index = int(key) if key.isdigit() else key.strip("'")
                members = getattr(parent, "estimators", None)
                if isinstance(index, int) and isinstance(members, list) and index < len(members):
                    label[-1] = str(members[index][0]) if isinstance(members[index], tuple) else label[-1]
                obj = obj[index]
            elif hasattr(obj, "named_steps") and part in obj.named_steps:
                label.append(part)
                obj = obj.named_steps[part]
            else:
                parent, obj = obj, getattr(obj, part)
                if isinstance(obj, NeuralNet):
                    break
                label.append(part.rstrip("_"))
        names[path] = f"{' > '.join(label) or 'net'} ({type(parent).__name__})"
    return names


def _loss_keys(epochs):
    names = []
    for row in epochs:
        for key, value in row.items():
            if key.endswith("loss") and isinstance(value, numbers.Number) and key not in names:
                names.append(key)
    return names
