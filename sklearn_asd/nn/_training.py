"""Training plumbing shared by every skorch-trained estimator (embedders and neural detectors)."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils import resolve_device

TRAINING_CONSTRAINTS = {
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "optimizer": [type],
    "device": [str],
    "mixed_precision": ["boolean", StrOptions({"auto"})],
    "random_state": [Interval(Integral, 0, None, closed="left"), None],
    "callbacks": [list, None],
    "verbose": ["verbose"],
}
"""The parameters every skorch-trained estimator takes, validated alike (embedders, neural detectors)."""

# Their shared descriptions, for ``utils._docstring.Substitution`` (``{optimizer}`` ... in a docstring).
TRAINING_DOCS = {
    "optimizer": """optimizer : torch optimizer class, default=torch.optim.Adam
        Built on the network's parameters with learning rate ``lr``.""",
    "device": """device : str, default="auto"
        Where the network trains and runs: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; ``"auto"``:
        CUDA if available, else the CPU. A model trained on a GPU scores on a CPU-only machine.""",
    "mixed_precision": """mixed_precision : bool or "auto", default="auto"
        bfloat16 autocast of the forward passes (training and scoring alike); ``"auto"``: on CUDA
        only. The setting is kept with the model, so a loaded model scores as it was trained.""",
    "random_state": """random_state : int or None, default=None
        Seeds the weights and the batch order; CPU training is then repeatable for a fixed
        number of threads.""",
    "callbacks": """callbacks : list or None, default=None
        skorch callbacks (``EarlyStopping``, ``Checkpoint``, ``LRScheduler``...), passed through.""",
    "verbose": """verbose : int, default=0
        ``1``: skorch's table of one line per epoch (loss, duration); ``0``: silent.""",
}


class AutocastMixin:
    """For skorch nets: ``mixed_precision`` runs forward passes under bfloat16 autocast.

    bfloat16 keeps float32's range, so no gradient scaling is needed (unlike float16).
    """

    def __init__(self, *args, mixed_precision=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.mixed_precision = mixed_precision

    def autocast(self):
        device_type = "cuda" if str(self.device).startswith("cuda") else "cpu"
        return torch.autocast(device_type, dtype=torch.bfloat16, enabled=bool(self.mixed_precision))

    def infer(self, x, **fit_params):
        with self.autocast():
            return super().infer(x, **fit_params).float()


def net_spec(net_class, factory, module_kwargs, criterion, **params):
    """What rebuilds a trained net for inference: plain data and importable names, no tensors.

    ``factory(**module_kwargs)`` makes the module (a top-level class or function, so that the
    safe model format of :mod:`sklearn_asd.io` can name it); ``params`` are the net's
    settings that scoring needs (``batch_size``, ``criterion__*``). Estimators keep it as
    ``_net_spec`` beside ``net_``.
    """
    return {
        "net_class": net_class,
        "factory": factory,
        "module_kwargs": dict(module_kwargs),
        "criterion": criterion,
        "params": dict(params),
    }


def build_net(spec, *, random_state, device, mixed_precision="auto", **params):
    """A skorch net from a :func:`net_spec`, built after seeding torch; ``params``: training settings.

    The weights and the shuffle of the training batches follow ``random_state``.

    ``mixed_precision="auto"`` turns bfloat16 autocast on for CUDA only; no validation split
    (anomaly detection has no labels to early-stop on unless a callback brings its own).
    """
    if random_state is not None:
        torch.manual_seed(random_state)
    module = spec["factory"](**spec["module_kwargs"])
    generator = torch.Generator()
    if random_state is not None:
        generator.manual_seed(random_state)
    device = resolve_device(device)
    if mixed_precision == "auto":
        mixed_precision = device.startswith("cuda")
    # scoring after io.load must run as training did: the spec keeps the resolved setting
    spec["mixed_precision"] = bool(mixed_precision)
    return spec["net_class"](
        module=module,
        criterion=spec["criterion"],
        device=device,
        mixed_precision=mixed_precision,
        train_split=None,
        iterator_train__shuffle=True,
        iterator_train__generator=generator,
        **spec["params"],
        **params,
    )


def rebuild_net(spec, device="auto"):
    """An initialized net of a :func:`net_spec` with fresh weights, on ``device``: to load state into.

    Mixed precision as the net was trained (the spec's ``mixed_precision``; specs written
    before it was kept: on for CUDA, as ``build_net``'s ``"auto"``).
    """
    device = resolve_device(device)
    net = spec["net_class"](
        module=spec["factory"](**spec["module_kwargs"]),
        criterion=spec["criterion"],
        device=device,
        mixed_precision=spec.get("mixed_precision", device.startswith("cuda")),
        train_split=None,
        **spec["params"],
    )
    return net.initialize()


def predict_batches(net, X, batch_size=None):
    """``net.module_`` over the rows of ``X`` in eval mode, as a numpy array; what skorch's
    ``predict`` returns (the first output of a tuple), with batches sliced from one tensor
    instead of skorch's per-row dataset indexing and collation, which cost the autoencoder's
    scoring more than its forward passes (benchmarks/bench_scoring.py)."""
    module, device = net.module_, net.device
    X = torch.as_tensor(X)
    batch_size = batch_size or net.batch_size
    was_training = module.training
    module.eval()
    outputs = []
    try:
        with torch.no_grad(), net.autocast():
            for start in range(0, len(X), batch_size):
                out = module(X[start : start + batch_size].to(device))
                outputs.append((out[0] if isinstance(out, tuple) else out).float().cpu())
    finally:
        module.train(was_training)
    return torch.cat(outputs).numpy() if outputs else np.empty((0,), dtype=np.float32)


class PatchDataset(torch.utils.data.Dataset):
    """Patches of ``patch_frames`` frames every ``patch_hop`` frames, cut on access from the clip tensor.

    Item ``i`` is patch ``i % n_patches`` of clip ``i // n_patches`` (a view of the clip, no
    copy of the whole set) with its clip's target. ``patch_frames=None``: one item per clip.
    """

    def __init__(self, X, y=None, patch_frames=None, patch_hop=1):
        self.X = torch.as_tensor(X)
        self.y = None if y is None else torch.as_tensor(y)
        self.patch_frames, self.patch_hop = patch_frames, patch_hop
        if patch_frames is None:
            self.n_patches = 1
        else:
            self.n_patches = 1 + (self.X.shape[-1] - patch_frames) // patch_hop

    def __len__(self):
        return self.X.shape[0] * self.n_patches

    def __getitem__(self, i):
        clip, k = divmod(i, self.n_patches)
        x = self.X[clip]
        if self.patch_frames is not None:
            start = k * self.patch_hop
            x = x[..., start : start + self.patch_frames]
        return (x, torch.empty(0)) if self.y is None else (x, self.y[clip])
