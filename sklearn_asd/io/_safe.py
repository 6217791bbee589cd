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

import copy
import io
import json
import zipfile
from pathlib import Path

import numpy as np

FORMAT = "sklearn-asd safe model"
FORMAT_VERSION = 1
# packages whose classes a file may name: estimators, networks, losses, callbacks, optimizers
_PACKAGES = ("sklearn_asd.", "imblearn.", "skorch.", "torch.optim.", "torch.nn.")
# classes whose instances a file may hold (skops rebuilds those with __new__ and their state):
# estimators and helpers; never a network, a skorch net or a torch object, which are rebuilt
# from their spec instead
_INSTANCE_PACKAGES = ("sklearn_asd.", "imblearn.", "skorch.callbacks.")
# a member may inflate this much on reading (DEFLATE reaches ~1000x on constant data: a bomb);
# the JSON of a model compresses 10-30x, weights and embeddings ~1.1x
MAX_INFLATION = 100
_SLACK = 1 << 20


def _resolve(name):
    import importlib

    module, _, attr = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        return None


def _plain_setstate(cls):
    """Whether rebuilding an instance of ``cls`` only sets attributes (no ``__setstate__`` of its
    own, or scikit-learn's, which checks the version and updates ``__dict__``)."""
    from sklearn.base import BaseEstimator

    setstate = getattr(cls, "__setstate__", None)
    return setstate is None or setstate is BaseEstimator.__setstate__


def _trusted_by_default(name, loaders):
    """Whether a type or function a file names is one of this library's building blocks.

    ``loaders`` are the ways the file uses the name (skops's node kinds). Trusted:

    - as an instance (``ObjectNode``): estimators and helper classes of this library and
      imbalanced-learn, and skorch callbacks, whose rebuilding sets attributes only;
    - as a class reference (``TypeNode``): those, and the networks, losses, nets and
      optimizers of this library, skorch and torch (naming a class builds nothing);
    - as a function (``FunctionNode``): the helpers and network factories registered as safe to
      load (``sklearn_asd.utils._persistence.safe_to_load``).

    Never a test module's name, and no other kind of node (reduce, method, partial). A skorch
    net or a torch module as an instance is refused: skorch's ``__setstate__`` unpickles.
    """
    import torch
    from sklearn.base import BaseEstimator
    from skorch import NeuralNet
    from skorch.callbacks import Callback

    from ..utils._persistence import SAFE_TO_LOAD

    if not name.startswith(_PACKAGES) or ".tests." in name:
        return False
    obj = _resolve(name)
    if obj is None:
        return False
    for loader in set(loaders):
        if loader == "FunctionNode":
            ok = obj in SAFE_TO_LOAD and not isinstance(obj, type)
        elif loader == "ObjectNode":
            ok = (
                isinstance(obj, type)
                and name.startswith(_INSTANCE_PACKAGES)
                and (obj in SAFE_TO_LOAD or issubclass(obj, (BaseEstimator, Callback)))
                and not issubclass(obj, (NeuralNet, torch.nn.Module, torch.optim.Optimizer))
                and _plain_setstate(obj)
            )
        elif loader == "TypeNode":
            ok = isinstance(obj, type) and (
                obj in SAFE_TO_LOAD
                or issubclass(
                    obj, (BaseEstimator, torch.nn.Module, NeuralNet, Callback, torch.optim.Optimizer)
                )
            )
        else:
            ok = False
        if not ok:
            return False
    return True


def _damaged(path, member, what):
    return ValueError(f"{path} is damaged: member {member!r} {what}")


def _check_sizes(archive, path, where=""):
    """Refuse members that inflate beyond ``MAX_INFLATION`` times their stored size (zip bombs),
    before any is read; ``where`` names the enclosing member."""
    for info in archive.infolist():
        if info.file_size > _SLACK + MAX_INFLATION * max(info.compress_size, 1):
            raise _damaged(
                path,
                where + info.filename,
                f"declares {info.file_size} bytes stored in {info.compress_size}: refused as a "
                f"decompression bomb (more than {MAX_INFLATION}x).",
            )


def _read(archive, path, member, where=""):
    try:
        return archive.read(member)
    except KeyError:
        raise _damaged(path, where + member, "is missing.") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _damaged(path, where + member, f"cannot be read ({exc}).") from None


def _nodes(node):
    """Every skops node in a schema (dicts with a ``__loader__``), depth first."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__loader__" in node:
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _audit_body(body, path):
    """(skops's untrusted names, {name: loaders}) of ``model.skops``, with every array's declared
    size checked against the bytes that hold it, before skops builds (or reads) anything."""
    import skops.io as sio

    try:
        inner = zipfile.ZipFile(io.BytesIO(body))
        _check_sizes(inner, path, "model.skops:")
        schema = json.loads(_read(inner, path, "schema.json", "model.skops:"))
        for info in inner.infolist():
            if info.filename.endswith(".npy"):
                _check_array(inner, info, path)
        loaders = {}
        for node in _nodes(schema):
            name = f"{node.get('__module__')}.{node.get('__class__')}"
            loaders.setdefault(name, set()).add(node["__loader__"])
        untrusted = sio.get_untrusted_types(data=body)
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise _damaged(path, "model.skops", f"is not a readable skops archive ({exc}).") from None
    except (zipfile.BadZipFile, KeyError, TypeError, AttributeError, OSError, EOFError) as exc:
        raise _damaged(
            path, "model.skops", f"is not a readable skops archive ({type(exc).__name__}: {exc})."
        ) from None
    return untrusted, loaders


def _check_array(inner, info, path):
    """An ``.npy`` member must hold as many bytes as its header declares (numpy allocates that)."""
    member = f"model.skops:{info.filename}"
    with inner.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            header = read_header(f)
        except ValueError as exc:
            raise _damaged(path, member, f"is not a numpy array ({exc}).") from None
        shape, _, dtype = header
        offset = f.tell()
    if dtype.hasobject:
        raise _damaged(path, member, "holds Python objects: refused (arrays of objects need pickle).")
    nbytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if nbytes > info.file_size - offset:
        raise _damaged(
            path,
            member,
            f"declares an array of {shape} {dtype} ({nbytes} bytes) but holds {info.file_size - offset}.",
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
        what rebuilds them); every other object must be one :mod:`skops.io` can write. It is
        not modified.
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
    for i, net in enumerate(nets):
        for part, state in (("params", net.module_), ("criterion", net.criterion_)):
            buf = io.BytesIO()
            torch.save({k: v.detach().cpu() for k, v in state.state_dict().items()}, buf)
            buffers[f"net_{i}/{part}.pt"] = buf.getvalue()
        buffers[f"net_{i}/history.json"] = json.dumps(net.history.to_list()).encode()
    # a copy with every network replaced by a placeholder (deepcopy's memo maps each net to it),
    # so that the caller's model is never touched, not even for a moment
    stripped = copy.deepcopy(model, {id(net): _PLACEHOLDER for net in nets})
    _swap_none_keys(stripped, None, _NONE_KEY)
    body = sio.dumps(stripped)
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
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ValueError(
            f"{path} is not a readable safe model file ({type(exc).__name__}: {exc}); was it written by "
            "sklearn_asd.io.dump (or 'sklearn-asd fit') and copied whole?"
        ) from None
    _check_sizes(archive, path)
    if "format.json" not in archive.namelist():
        raise ValueError(
            f"{path} is not a readable safe model file (it has no format.json); was it written by "
            "sklearn_asd.io.dump (or 'sklearn-asd fit') and copied whole?"
        )
    try:
        header = json.loads(_read(archive, path, "format.json"))
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise _damaged(path, "format.json", f"is not JSON ({exc}).") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(
            f"{path} is not a safe model file of sklearn-asd (format.json names another format)."
        )
    for key in ("format_version", "n_nets"):
        value = header.get(key)
        if type(value) is not int or value < 0:
            raise _damaged(path, "format.json", f"has {key}={value!r}; a non-negative integer is expected.")
    if header["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"{path} is in version {header['format_version']} of the format; this sklearn-asd reads up to "
            f"version {FORMAT_VERSION}: upgrade sklearn-asd."
        )
    if not isinstance(header.get("metadata", {}), dict):
        raise _damaged(path, "format.json", "has a metadata entry that is not a JSON object.")
    return header, archive


def _untrusted(untrusted, loaders):
    # a name the schema does not show (it cannot be told how it is used) is never trusted
    return sorted(t for t in untrusted if not _trusted_by_default(t, loaders.get(t) or ("unknown",)))


def get_untrusted_types(file):
    """The types and functions in ``file`` that :func:`load` does not trust by default.

    Trusted by default: what :mod:`skops.io` trusts (numpy, scipy, scikit-learn) and this
    library's building blocks: instances of its estimators and helpers (and imbalanced-learn's
    and skorch's callbacks), references to its networks, losses and optimizers (and
    skorch's and torch's), and its registered network factories. Check what this returns
    before passing it to ``load(..., trusted=...)``.
    """
    path = Path(file)
    _, archive = _open(path)
    with archive:
        return _untrusted(*_audit_body(_read(archive, path, "model.skops"), path))


def load(file, *, trusted=None, device="auto", with_metadata=False):
    """Read a model written by :func:`dump`, running no code from the file.

    What is checked before anything is built (each refusal is a ``ValueError`` naming the file
    and the member): every member's declared size against its stored size; every array's
    declared shape against its bytes; every type and function the file names (see
    :func:`get_untrusted_types`); every network's spec (a network of this library, plain
    settings) and its parameter shapes, built without memory first, against the weights in
    the file. See the deployment guide's threat model.

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
    from skorch.history import History

    path = Path(file)
    if isinstance(trusted, str):
        trusted = [trusted]
    trusted = set(trusted or ())
    header, archive = _open(path)
    with archive:
        body = _read(archive, path, "model.skops")
        untrusted, loaders = _audit_body(body, path)
        refused = sorted(set(_untrusted(untrusted, loaders)) - trusted)
        if refused:
            raise ValueError(
                f"{path} holds types this loader does not trust: {refused}. Loading them could run code "
                "from the file; if you trust its author, pass them as trusted=[...]."
            )
        try:
            model = sio.loads(body, trusted=untrusted)
        except Exception as exc:  # skops raises what its nodes raise
            raise _damaged(path, "model.skops", f"cannot be rebuilt ({type(exc).__name__}: {exc}).") from None
        _swap_none_keys(model, _NONE_KEY, None)
        holders = list(_holders(model))
        if len(holders) != header["n_nets"]:
            raise ValueError(f"{path} is damaged: {header['n_nets']} networks listed, {len(holders)} found.")
        for i, holder in enumerate(holders):
            spec = getattr(holder, "_net_spec", None)
            _check_spec(spec, path, f"net_{i}", trusted)
            weights = {
                part: _read_weights(archive, path, f"net_{i}/{part}.pt") for part in ("params", "criterion")
            }
            _check_shapes(spec, weights["params"], path, f"net_{i}/params.pt")
            net = _rebuild(spec, device, weights, path, i)
            try:
                history = json.loads(_read(archive, path, f"net_{i}/history.json"))
                net.history = History(history)
            except (ValueError, TypeError) as exc:
                if str(exc).startswith(str(path)):
                    raise
                raise _damaged(path, f"net_{i}/history.json", f"is not a training history ({exc}).") from None
            holder.net_ = net
    return (model, header["metadata"]) if with_metadata else model


def _read_weights(archive, path, member):
    import torch

    try:
        weights = torch.load(io.BytesIO(_read(archive, path, member)), map_location="cpu", weights_only=True)
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise _damaged(path, member, f"is not a torch weights file ({exc}).") from None
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError, ...
        raise _damaged(path, member, f"is not a torch weights file ({type(exc).__name__}: {exc}).") from None
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise _damaged(path, member, "is not a dict of tensors.")
    return weights


_PLAIN = (bool, int, float, str, type(None))


def _allowed_class(obj, trusted, base):
    """A class a network spec may name: this library's subclass of ``base``, or one the caller trusts."""
    from ..utils._persistence import SAFE_TO_LOAD

    if not isinstance(obj, type):
        return False
    name = f"{obj.__module__}.{obj.__qualname__}"
    if name in trusted:
        return True
    ours = obj.__module__.startswith("sklearn_asd.") and ".tests." not in obj.__module__
    return issubclass(obj, base) and (ours or obj in SAFE_TO_LOAD)


def _check_spec(spec, path, where, trusted):
    """A network spec names only this library's networks (or trusted ones) and plain settings."""
    import torch
    from skorch import NeuralNet

    from ..utils._persistence import SAFE_TO_LOAD

    def refuse(what):
        raise _damaged(path, "model.skops", f"has a network spec ({where}) that {what}: refused.")

    keys = {"net_class", "factory", "module_kwargs", "criterion", "params"}
    if not isinstance(spec, dict) or set(spec) - {"mixed_precision"} != keys:
        refuse("is not one this library writes")
    if not _allowed_class(spec["net_class"], trusted, NeuralNet):
        refuse(f"names the net class {spec['net_class']!r}, not one of this library's")
    factory = spec["factory"]
    if not (
        (factory in SAFE_TO_LOAD and not isinstance(factory, type))
        or _allowed_class(factory, trusted, torch.nn.Module)
        or (callable(factory) and f"{factory.__module__}.{factory.__qualname__}" in trusted)
    ):
        refuse(f"names the network factory {factory!r}, not one this library registers")
    criterion = spec["criterion"]
    if not (
        _allowed_class(criterion, trusted, torch.nn.Module)
        or (isinstance(criterion, type) and criterion.__module__ == "torch.nn.modules.loss")
    ):
        refuse(f"names the loss {criterion!r}, not one of this library's or torch's")

    def plain(value, allow_classes):
        if isinstance(value, _PLAIN):
            return True
        if isinstance(value, (list, tuple)):
            return all(plain(v, allow_classes) for v in value)
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v, allow_classes) for k, v in value.items())
        return allow_classes and _allowed_class(value, trusted, torch.nn.Module)

    if not isinstance(spec["module_kwargs"], dict) or not plain(spec["module_kwargs"], True):
        refuse("passes the network something other than plain settings and this library's modules")
    params = spec["params"]
    if not isinstance(params, dict) or not plain(params, False):
        refuse("gives the net settings that are not plain values")
    for key in params:
        if key != "batch_size" and not key.startswith("criterion__"):
            refuse(f"sets the net's {key!r}, which scoring does not need")
    if type(params.get("batch_size", 1)) is not int or params.get("batch_size", 1) < 1:
        refuse("has a batch size that is not a positive integer")


def _check_shapes(spec, weights, path, member):
    """Build the module on torch's meta device (no memory) and compare its state with the weights:
    the loader allocates no more than the file holds."""
    import torch

    try:
        with torch.device("meta"):
            module = spec["factory"](**spec["module_kwargs"])
    except Exception as exc:  # the spec's settings do not build its network
        raise _damaged(path, "model.skops", f"has a network spec that does not build ({exc}).") from None
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in weights.items()}
    if expected != found:
        missing = sorted(set(expected) - set(found))[:3]
        extra = sorted(set(found) - set(expected))[:3]
        wrong = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])[:3]
        raise _damaged(
            path,
            member,
            f"does not match its network spec (missing {missing}, unexpected {extra}, other shapes {wrong}).",
        )


def _rebuild(spec, device, weights, path, i):
    from ..nn._training import rebuild_net

    net = rebuild_net(spec, device)
    for part, state in (("params", net.module_), ("criterion", net.criterion_)):
        try:
            state.load_state_dict({k: v.to(net.device) for k, v in weights[part].items()})
        except (RuntimeError, ValueError) as exc:
            raise _damaged(path, f"net_{i}/{part}.pt", f"does not fit its network ({exc}).") from None
    return net
