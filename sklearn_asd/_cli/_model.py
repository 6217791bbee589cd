"""Model files of the command line: writing, the checks when reading, the recipe and device options."""

from pathlib import Path

import joblib

from .. import __version__

MODEL_FORMAT = "sklearn-asd model"


def _save_model(out, model, pickle=False, **metadata):
    """Write ``model`` with its metadata: the safe format (:mod:`sklearn_asd.io`), or joblib."""
    metadata = {"format": MODEL_FORMAT, "version": __version__, **metadata}
    if pickle:
        joblib.dump({**metadata, "model": model}, out)
    else:
        from .. import io

        io.dump(model, out, metadata=metadata)


def _is_safe_file(path):
    import zipfile

    return zipfile.is_zipfile(path)


def _load_model(path, allow_pickle=False, trusted=None, device=None):
    """The payload written by ``fit`` (``model`` and its metadata); refuses files of another format
    or version, pickles unless ``allow_pickle``, and types outside ``trusted`` in safe files.

    ``device``: where the model runs (``"auto"``: CUDA when present, else the CPU), whatever
    device it was trained on; ``None`` keeps the stored one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist.")
    if _is_safe_file(path):
        from .. import io

        model, payload = io.load(path, trusted=trusted, with_metadata=True, device=device or "auto")
        payload = {**payload, "model": model}
    elif not allow_pickle:
        raise ValueError(
            f"{path} is not a safe model file; if it is a joblib file, loading it runs code stored in it: "
            "pass --allow-pickle only for a file you wrote yourself or fully trust."
        )
    else:
        try:
            payload = joblib.load(path)
        except Exception as exc:  # truncated, empty or foreign files fail in many ways inside pickle
            raise ValueError(
                f"{path} is not a readable model file ({type(exc).__name__}: {exc}); was it written by "
                "'sklearn-asd fit' and copied whole?"
            ) from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path} is not a model written by 'sklearn-asd fit'.")
    if payload.get("version") != __version__:
        raise ValueError(
            f"{path} was written by sklearn-asd {payload.get('version')}; this is {__version__}: refit it "
            "with this version (fitted estimators are not portable across versions)."
        )
    payload.setdefault("duration", None)  # files written before the clip length was kept
    if device is not None:
        from ..utils import resolve_device

        _set_device(payload["model"], resolve_device(device))
    return payload


def _recipe(args, verbose=0):
    """The recipe that ``fit`` trains: its options from the arguments, ``verbose`` and the device."""
    from ..recipes import GIRI_MACHINE_TABLE, REGISTRY, make_recipe

    options = {}
    if "machine_type" in REGISTRY[args.recipe].options:
        settings = args.giri_machine or args.machine
        if settings not in GIRI_MACHINE_TABLE:
            raise ValueError(
                f"{args.recipe} has the paper's settings for {sorted(GIRI_MACHINE_TABLE)}; {settings!r} is "
                "not among them: pass --giri-machine with the one whose settings to use."
            )
        options["machine_type"] = settings
    if args.device is not None:
        _check_device(args.device)
    return make_recipe(
        args.recipe,
        fast=args.fast,
        random_state=args.random_state,
        verbose=verbose,
        device=args.device or "auto",
        **options,
    )


def _check_device(device):
    """``--device``: one that torch can use here, or a one-line error naming it."""
    from ..utils import resolve_device

    try:
        resolve_device(device)
    except ValueError as exc:
        raise ValueError(f"--device {device}: {exc}") from None


def _set_device(model, device):
    """Every ``device`` parameter of the model (features, embedders, neural detectors) to ``device``."""
    if device is None:
        return
    _check_device(device)
    _set_everywhere(model, "device", device)


def _set_everywhere(model, name, value):
    """The parameter ``name`` of every estimator reachable in a fitted ``model`` to ``value``: the
    parameters and the fitted members alike (a SoftmaxScore's fitted embedder is no parameter)."""
    from ..io._safe import _reachable

    for obj in _reachable(model):
        # the class's parameter names, not get_params: an estimator pickled before a parameter
        # was added lacks its attribute, and gets it here
        names = getattr(type(obj), "_get_param_names", None)
        if names is not None and name in names():
            setattr(obj, name, bool(value) if type(obj).__name__ == "Pipeline" else value)
