"""Training plumbing shared by every skorch-trained estimator (embedders and neural detectors)."""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import clone
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
        skorch callbacks (``EarlyStopping``, ``Checkpoint``, ``LRScheduler``...), or
        ``(name, callback)`` pairs. Each fit trains with unfitted copies of them (the
        parameter is left as given); the fitted ones are the net's, ``net_.callbacks_``.""",
    "verbose": """verbose : int, default=0
        ``1``: skorch's table of one line per epoch (loss, duration); ``0``: silent.""",
}
# all six in their order, for a docstring's ``{training}``
TRAINING_DOCS["training"] = "\n    ".join(TRAINING_DOCS[k] for k in tuple(TRAINING_DOCS))


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


class BatchIterator:
    """The training and inference loops' batches, each gathered at once by its indices.

    A drop-in for ``torch.utils.data.DataLoader`` (what skorch's ``iterator_train`` is by
    default) that yields the very same batches in the same order and leaves ``generator`` where
    the DataLoader does: per epoch one int64 draw (its base seed) and, with ``shuffle``,
    ``torch.randperm(n, generator=generator)`` (its ``RandomSampler``, which draws one more when
    run to its end); but a batch is
    ``X[idx]`` in one call, not ``len(idx)`` calls of ``dataset[i]`` and a collate (about 93,000
    Python calls per 3 epochs of the autoencoder on 30,900 frame vectors). It gathers
    :class:`PatchDataset` (its :meth:`PatchDataset.batch`) and skorch's ``Dataset`` of arrays;
    any other dataset falls back to the item-by-item DataLoader path.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, generator=None, drop_last=False):
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.generator, self.drop_last = shuffle, generator, drop_last

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        torch.empty((), dtype=torch.int64).random_(generator=self.generator)  # as DataLoader draws
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            if self.drop_last and len(idx) < self.batch_size:
                break
            yield _gather(self.dataset, idx)
        if self.shuffle:  # RandomSampler, run to its end, draws one more (empty) permutation
            torch.randperm(n, generator=self.generator)


def _gather(dataset, idx):
    """The batch of ``dataset`` at ``idx`` as the DataLoader's default collate would make it."""
    from skorch.dataset import Dataset

    if hasattr(dataset, "batch"):
        return dataset.batch(idx)
    if type(dataset) is Dataset and all(
        v is None or isinstance(v, (np.ndarray, torch.Tensor)) for v in (dataset.X, dataset.y)
    ):
        rows = idx.numpy()
        X = torch.as_tensor(dataset.X[rows])
        # skorch's placeholder for a missing y is one 0 per row, collated to (n, 1)
        y = torch.zeros(len(rows), 1) if dataset.y is None else torch.as_tensor(dataset.y[rows])
        return X, y
    return torch.utils.data.default_collate([dataset[i] for i in idx.tolist()])


def fresh_callbacks(callbacks):
    """Unfitted copies of an estimator's ``callbacks`` parameter, for one fit.

    skorch initializes and fills the callback objects it is given (an ``LRScheduler`` keeps its
    torch scheduler, bound to the optimizer); given the parameter's own objects, ``fit`` would
    change the estimator's parameters, as scikit-learn's estimators must not, and the fitted
    model could not be written by ``sklearn_asd.io``. The fitted callbacks are the net's
    (``net_.callbacks_``).
    """
    if callbacks is None:
        return None
    return [clone(cb, safe=False) for cb in callbacks]


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
        iterator_train=BatchIterator,
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


def as_tensor(X):
    """``torch.as_tensor(X)``, sharing the memory of a read-only array too (a joblib memmap in a
    ``GridSearchCV(n_jobs=2)`` worker, an array loaded with ``mmap_mode``) without torch's warning
    that writing to it is undefined: the training and scoring here only read their inputs (every
    batch is a new tensor, cut by indexing)."""
    if isinstance(X, np.ndarray) and not X.flags.writeable:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The given NumPy array is not writable", UserWarning)
            return torch.as_tensor(X)
    return torch.as_tensor(X)


def predict_batches(net, X, batch_size=None):
    """``net.module_`` over the rows of ``X`` in eval mode, as a numpy array; what skorch's
    ``predict`` returns (the first output of a tuple), with batches sliced from one tensor
    instead of skorch's per-row dataset indexing and collation, which cost the autoencoder's
    scoring more than its forward passes (benchmarks/bench_scoring.py)."""
    module, device = net.module_, net.device
    X = as_tensor(X)
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
        self.X = as_tensor(X)
        self.y = None if y is None else as_tensor(y)
        self.patch_frames, self.patch_hop = patch_frames, patch_hop
        if patch_frames is None:
            self.n_patches = 1
        else:
            self.n_patches = 1 + (self.X.shape[-1] - patch_frames) // patch_hop

    def __len__(self):
        return self.X.shape[0] * self.n_patches

    def batch(self, idx):
        """Items ``idx`` at once, as the default collate of ``[self[i] for i in idx]`` would stack them."""
        clip = idx // self.n_patches
        if self.patch_frames is None:
            x = self.X[clip]
        else:
            windows = self.X.unfold(-1, self.patch_frames, self.patch_hop)  # a view: (..., n_patches, frames)
            x = windows[clip, ..., idx % self.n_patches, :]
        y = torch.empty(len(idx), 0) if self.y is None else self.y[clip]
        return x, y

    def __getitem__(self, i):
        clip, k = divmod(i, self.n_patches)
        x = self.X[clip]
        if self.patch_frames is not None:
            start = k * self.patch_hop
            x = x[..., start : start + self.patch_frames]
        return (x, torch.empty(0)) if self.y is None else (x, self.y[clip])
