"""A model file that is safe to load from others: skops for the estimators, torch weights for the nets.

joblib files are pickles: loading one runs whatever code its author put in it. This format
runs none. One zip file holds

- ``format.json``: the format name and version, the library version, the number of nets and the
  caller's ``metadata`` (plain JSON);
- ``model.skops``: the fitted object with every network left out, written by
  :mod:`skops.io`, which rebuilds only types a loader trusts;
- per network ``i`` (an estimator's ``net_``): ``net_i/params.pt`` and ``net_i/criterion.pt``
  (tensors only, read with ``torch.load(weights_only=True)``) and ``net_i/history.json``.

A network is rebuilt on load from the estimator's ``_net_spec`` (the importable class or
function that makes the module, its plain keyword arguments and the net's settings; see
:func:`sklearn_asd.nn._training.net_spec`), and its weights are loaded into it, on the device
the loader asks for: a model trained on a GPU scores on a CPU-only machine.
"""

import io
import json
import zipfile
from pathlib import Path

FORMAT = "sklearn-asd safe model"
FORMAT_VERSION = 1
# packages whose classes a file may name: estimators, networks, losses, callbacks, optimizers
_PACKAGES = ("sklearn_asd.", "imblearn.", "skorch.", "torch.optim.", "torch.nn.")


def _resolve(name):
    import importlib

    module, _, attr = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        return None


def _trusted_by_default(name):
    """Whether a type or function a file names is one of this library's building blocks.

    Trusted: classes of this library, imbalanced-learn, skorch and torch that are estimators,
    networks, losses, skorch callbacks or optimizers (rebuilding one sets attributes, runs no
    code of the file), and the helpers and network factories registered as safe to load
    (``sklearn_asd.utils._persistence.safe_to_load``). Not a test module's, nor any other function.
    """
    import torch
    from sklearn.base import BaseEstimator
    from skorch import NeuralNet
    from skorch.callbacks import Callback

    from ..utils._persistence import SAFE_TO_LOAD

    if not name.startswith(_PACKAGES) or ".tests." in name:
        return False
    obj = _resolve(name)
    if obj is not None and obj in SAFE_TO_LOAD:
        return True
    return isinstance(obj, type) and issubclass(
        obj, (BaseEstimator, torch.nn.Module, NeuralNet, Callback, torch.optim.Optimizer)
    )


_PLACEHOLDER = "__sklearn_asd_net__"
_NONE_KEY = "__sklearn_asd_none_key__"


def _reachable(obj, seen=None):
    """Every estimator, list, tuple and dict reachable from ``obj`` through those (networks aside)."""
    from sklearn.base import BaseEstimator

    seen = set() if seen is None else seen
    if id(obj) in seen or not isinstance(obj, (list, tuple, dict, BaseEstimator)):
        return
    seen.add(id(obj))
    yield obj
    if isinstance(obj, (list, tuple)):
        children = obj
    elif isinstance(obj, dict):
        children = obj.values()
    else:
        children = [v for k, v in vars(obj).items() if k != "net_"]
    for child in children:
        yield from _reachable(child, seen)


def _holders(obj):
    """The estimators reachable from ``obj`` that hold a skorch ``net_`` (or its placeholder)."""
    from sklearn.base import BaseEstimator
    from skorch import NeuralNet

    return [
        o
        for o in _reachable(obj)
        if isinstance(o, BaseEstimator)
        and (isinstance(getattr(o, "net_", None), NeuralNet) or getattr(o, "net_", None) == _PLACEHOLDER)
    ]


def _swap_none_keys(obj, old, new):
    """Key ``old`` -> ``new`` in every reachable dict, in place, order kept: skops cannot write a
    dict keyed by None (the one model of ``per_section=False`` is ``models_[None]``)."""
    for d in [o for o in _reachable(obj) if isinstance(o, dict) and old in o]:
        items = [(new if k == old and type(k) is type(old) else k, v) for k, v in d.items()]
        d.clear()
        d.update(items)


def dump(model, file, *, metadata=None):
    """Write a fitted model (any estimator or pipeline of this library) to ``file`` in the safe format.

    Parameters
    ----------
    model : estimator
        Fitted. Its networks must have been trained by this library's estimators (they keep
        what rebuilds them); every other object must be one :mod:`skops.io` can write.
    file : str or path-like
        The file to write (conventionally ``*.asd``).
    metadata : dict, default=None
        Plain JSON-serialisable information stored beside the model (the CLI stores the recipe,
        machine and clip length); read it back with :func:`load` ``(..., with_metadata=True)``.
    """
    import skops.io as sio
    import torch

    holders = list(_holders(model))
    for holder in holders:
        if not hasattr(holder, "_net_spec"):
            raise TypeError(
                f"{type(holder).__name__} holds a network without the spec that rebuilds it; only this "
                "library's estimators can be written in the safe format (use joblib for others)."
            )
    nets = [holder.net_ for holder in holders]
    buffers = {}
    try:
        for i, (holder, net) in enumerate(zip(holders, nets)):
            for part, state in (("params", net.module_), ("criterion", net.criterion_)):
                buf = io.BytesIO()
                torch.save({k: v.detach().cpu() for k, v in state.state_dict().items()}, buf)
                buffers[f"net_{i}/{part}.pt"] = buf.getvalue()
            buffers[f"net_{i}/history.json"] = json.dumps(net.history.to_list()).encode()
            holder.net_ = _PLACEHOLDER
        _swap_none_keys(model, None, _NONE_KEY)
        body = sio.dumps(model)
    finally:
        _swap_none_keys(model, _NONE_KEY, None)
        for holder, net in zip(holders, nets):
            holder.net_ = net
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": _library_version(),
        "n_nets": len(nets),
        "metadata": metadata or {},
    }
    Path(file).parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("format.json", json.dumps(header, indent=1))
        archive.writestr("model.skops", body)
        for name, data in buffers.items():
            archive.writestr(name, data)


def _library_version():
    from .. import __version__

    return __version__


def _open(file):
    """(header, zip archive) of a safe model file; a clear error for anything else."""
    path = Path(file)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist.")
    try:
        archive = zipfile.ZipFile(path)
        header = json.loads(archive.read("format.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValueError(
            f"{path} is not a readable safe model file ({type(exc).__name__}: {exc}); was it written by "
            "sklearn_asd.io.dump (or 'sklearn-asd fit') and copied whole?"
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(
            f"{path} is not a safe model file of sklearn-asd (format.json names another format)."
        )
    if header.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path} is in version {header['format_version']} of the format; this sklearn-asd reads up to "
            f"version {FORMAT_VERSION}: upgrade sklearn-asd."
        )
    return header, archive


def get_untrusted_types(file):
    """The types and functions in ``file`` that :func:`load` does not trust by default.

    Trusted by default: what :mod:`skops.io` trusts (numpy, scipy, scikit-learn) and this
    library's building blocks (its estimators, networks, losses and network factories, and
    those of imbalanced-learn, skorch and torch.optim); check what this returns before
    passing it to ``load(..., trusted=...)``.
    """
    import skops.io as sio

    _, archive = _open(file)
    with archive:
        types = sio.get_untrusted_types(data=archive.read("model.skops"))
    return [t for t in types if not _trusted_by_default(t)]


def load(file, *, trusted=None, device="auto", with_metadata=False):
    """Read a model written by :func:`dump`, running no code from the file.

    Parameters
    ----------
    file : str or path-like
    trusted : list of str, default=None
        Further types and functions to trust (names as :func:`get_untrusted_types` gives
        them). The file is refused, naming them, when it holds any other.
    device : {"auto", "cpu", "cuda[:index]"}, default="auto"
        Where the networks go: ``"auto"`` is a GPU when torch sees one, else the CPU.
    with_metadata : bool, default=False
        Return ``(model, metadata)``, the ``metadata`` given to :func:`dump`.

    Returns
    -------
    model : estimator
        Scores exactly as the model that was written (on the same device and thread count).
    """
    import skops.io as sio
    import torch
    from skorch.history import History

    from ..nn._training import rebuild_net

    header, archive = _open(file)
    with archive:
        body = archive.read("model.skops")
        untrusted = [t for t in sio.get_untrusted_types(data=body) if not _trusted_by_default(t)]
        if isinstance(trusted, str):
            trusted = [trusted]
        refused = sorted(set(untrusted) - set(trusted or ()))
        if refused:
            raise ValueError(
                f"{file} holds types this loader does not trust: {refused}. Loading them could run code "
                "from the file; if you trust its author, pass them as trusted=[...]."
            )
        model = sio.loads(body, trusted=sio.get_untrusted_types(data=body))
        _swap_none_keys(model, _NONE_KEY, None)
        holders = list(_holders(model))
        if len(holders) != header["n_nets"]:
            raise ValueError(f"{file} is damaged: {header['n_nets']} networks listed, {len(holders)} found.")
        for i, holder in enumerate(holders):
            net = rebuild_net(holder._net_spec, device)
            for part, state in (("params", net.module_), ("criterion", net.criterion_)):
                weights = torch.load(
                    io.BytesIO(archive.read(f"net_{i}/{part}.pt")), map_location=net.device, weights_only=True
                )
                state.load_state_dict(weights)
            net.history = History(json.loads(archive.read(f"net_{i}/history.json")))
            holder.net_ = net
    return (model, header["metadata"]) if with_metadata else model
