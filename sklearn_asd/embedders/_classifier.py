"""Self-supervised classifier embedders: train a network to tell sections apart, embed clips with it."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from skorch.utils import to_tensor
from torch import nn
from tqdm.auto import tqdm

from ..nn import (
    AdaCos,
    ArcFace,
    DualBranchNet,
    FeatEx,
    LinearHead,
    MobileFaceNet,
    MobileNetV2,
    MultiResNet,
    ResNet,
    SepSTgramNet,
    STFTImageNet,
    STgramNet,
    SubClusterAdaCos,
    kl_divergence,
    soft_cross_entropy,
)
from ..nn._training import (
    TRAINING_CONSTRAINTS,
    TRAINING_DOCS,
    AutocastMixin,
    BatchIterator,
    PatchDataset,
    build_net,
    fresh_callbacks,
    net_spec,
)
from ..utils import check_outlier_mask, split_outliers
from ..utils._docstring import Substitution
from ..utils._persistence import safe_to_load
from ..utils._threads import uses_torch_threads
from ._targets import (
    auxiliary_task,
    class_structure,
    encode,
    split_validation,
    training_targets,
)

_BACKBONES = {
    "mobilenetv2": MobileNetV2,
    "resnet": ResNet,
    "mobilefacenet": MobileFaceNet,
    "stgramnet": STgramNet,
    "sepstgramnet": SepSTgramNet,
    "stftimage": STFTImageNet,
    "dualbranch": DualBranchNet,
    "multires": MultiResNet,
}
_WAVEFORM_BACKBONES = (STgramNet, SepSTgramNet, STFTImageNet, DualBranchNet, MultiResNet)
_HEADS = {
    "softmax": LinearHead,
    "arcface": ArcFace,
    "adacos": AdaCos,
    "subcluster_adacos": SubClusterAdaCos,
    "featex": FeatEx,
}


def patch_outputs(net, X, fn, patch_frames, patch_hop, batch_size, progress=None):
    """``fn(module, batch)`` over every patch of ``X`` in eval mode, as (n_clips, n_patches, ...).

    ``progress``: a description for a tqdm bar over the batches (``None``: no bar).
    """
    dataset = PatchDataset(X, None, patch_frames, patch_hop)
    batches = BatchIterator(dataset, batch_size=batch_size)
    loader = tqdm(batches, desc=progress, unit="batch", disable=progress is None, leave=False)
    module, device = net.module_, net.device
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), net.autocast():
            outputs = [fn(module, xb.to(device)).float().cpu() for xb, _ in loader]
    finally:
        module.train(was_training)
    out = torch.cat(outputs).numpy()
    return out.reshape(X.shape[0], dataset.n_patches, *out.shape[1:])


class ClipAccuracy(Callback):
    """Clip-level accuracy on held-out clips after every epoch, recorded as ``valid_acc``.

    A clip's class is the argmax of its patches' mean probability, as ``predict`` does. The
    clips are dropped when training ends, so the fitted model does not carry them.
    """

    def __init__(self, X, targets, embedder):
        self.X, self.targets, self.embedder = X, np.asarray(targets), embedder

    def on_epoch_end(self, net, **kwargs):
        e = self.embedder
        proba = patch_outputs(
            net,
            self.X,
            lambda m, xb: torch.softmax(m(xb), dim=1),
            e._patch_frames(),
            e._patch_hop(),
            e.batch_size,
        ).mean(axis=1)
        net.history.record("valid_acc", float(np.mean(proba.argmax(axis=1) == self.targets)))

    def on_train_end(self, net, **kwargs):
        self.X = self.targets = self.embedder = None


class ClassifierModule(nn.Module):
    """A backbone (patches -> embeddings) and a head (embeddings -> class logits)."""

    def __init__(self, backbone, head):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, x, target=None):
        return self.head(self.backbone(x), target)

    def embed(self, x):
        return self.backbone(x)


@safe_to_load
def classifier_module(backbone, backbone_params, head, head_params, n_classes):
    """``ClassifierModule(backbone(**backbone_params), <head>(embedding_dim, n_classes, **head_params))``.

    A head that works on the backbone's branches (``branch_aware``: :class:`~sklearn_asd.nn.FeatEx`)
    is also given their sizes, ``branch_dims``, which the backbone must publish.
    """
    backbone = backbone(**backbone_params)
    head_class = _HEADS[head]
    if getattr(head_class, "branch_aware", False):
        if not hasattr(backbone, "branch_dims"):
            raise ValueError(
                f"head={head!r} exchanges the parts of a multi-branch embedding, but the backbone "
                f"{type(backbone).__name__} has no branches (branch_dims): use module='multires'."
            )
        head_params = {"branch_dims": backbone.branch_dims, **head_params}
    return ClassifierModule(backbone, head_class(backbone.embedding_dim, n_classes, **head_params))


class SoftTargetLoss(nn.Module):
    """Cross-entropy (``"ce"``) or KL divergence (``"kl"``) of class indices or class proportions."""

    def __init__(self, kind="ce"):
        super().__init__()
        self.kind = kind

    def forward(self, logits, target):
        return (kl_divergence if self.kind == "kl" else soft_cross_entropy)(logits, target)


class PatchNet(AutocastMixin, NeuralNet):
    """skorch's NeuralNet, passing the targets to the head in training (margin and adaptive-scale
    heads use them), and adding a head's own ``auxiliary_loss(z, target)`` when it has one
    (:class:`~sklearn_asd.nn.FeatEx`)."""

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi, yi = to_tensor(Xi, device=self.device), to_tensor(yi, device=self.device)
        head = self.module_.head
        with self.autocast():
            z = self.module_.embed(Xi)
            # every head gets the targets: hard or soft (Mixup's proportions), which the heads
            # without a margin train on and ArcFace refuses (its margin needs a class)
            y_pred = head(z, yi).float()
            extra = head.auxiliary_loss(z.float(), yi) if hasattr(head, "auxiliary_loss") else None
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        if extra is not None:
            loss = loss + extra
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}


@Substitution(**TRAINING_DOCS)
class ClassifierEmbedder(TransformerMixin, BaseEstimator):
    """Embed clips with a network trained to classify their sections (self-supervised ASD).

    The heart of the self-supervised systems (Giri et al. 2020, Morita et al. 2021, the
    STgram systems): a network learns to tell the sections (machine IDs, or section x
    attribute) of **normal** clips apart; a clip whose embedding, or class probability,
    looks unlike its section's is anomalous. Clips are cut into overlapping patches of
    ``patch_frames`` frames every ``patch_hop`` frames (64 and 8 in Giri et al.), each with its
    clip's target, cut on the fly; ``transform`` aggregates the patch embeddings of each clip
    (one row per clip) and ``predict_proba`` averages the patch probabilities. Training is
    skorch's (callbacks such as ``EarlyStopping``, ``Checkpoint``, ``LRScheduler`` pass
    through), on CUDA when ``device="auto"`` finds it; a fitted embedder pickles and, trained
    on a GPU, loads on a CPU-only machine.

    Outlier exposure: rows marked by the fit-time metadata ``outlier=True`` (clips of other
    machine types, featurized by the same pipeline) are trained as one extra class,
    ``"__outlier__"`` (not augmented, not held out) when ``outlier_exposure`` says so; otherwise
    they are left out.

    Parameters
    ----------
    module : str or nn.Module class, default="mobilenetv2"
        ``"mobilenetv2"``, ``"resnet"``, ``"mobilefacenet"`` (spectrogram patches),
        ``"stgramnet"``, ``"sepstgramnet"``, ``"stftimage"`` (waveforms, whole clips: the
        STFT image classifier of Kazakova et al.), ``"dualbranch"`` (waveforms: Hai et al.'s
        spectrum + log-mel + phase network), ``"multires"`` (waveforms: Fujimura et al.'s
        spectrum + multi-resolution STFT network), or a backbone class
        whose instances map a batch of patches to (batch, ``embedding_dim``).
    head : {"softmax", "arcface", "adacos", "subcluster_adacos", "featex"}, default="softmax"
        The classifier on the embeddings: ``"featex"`` is sub-cluster AdaCos with Wilkinghoff's
        feature exchange between the branches of a multi-branch backbone
        (:class:`~sklearn_asd.nn.FeatEx`; ``module="multires"``). The heads without a margin
        (the AdaCos family, the softmax) train on Mixup's soft targets; ArcFace refuses them
        (its margin needs one class per row).
    loss : {"auto", "ce", "kl"}, default="auto"
        ``"auto"``: KL divergence for soft labels (Mixup), cross-entropy otherwise.
    patch_frames : int or None, default=64
        Frames per patch; ``None``: whole clips. Waveform backbones cut ``segment_samples`` instead.
    patch_hop : int, default=8
    segment_samples : int or None, default=None
        Waveform backbones: cut clips into segments of this many samples (every
        ``segment_hop``), each a training item with its clip's target, as patches are for
        spectrograms; ``transform`` and ``predict_proba`` then aggregate a clip's segments.
        ``None``: whole clips.
    segment_hop : int or None, default=None
        Samples between segment starts; ``None``: ``segment_samples`` (no overlap).
    aggregate : {"mean", "std", "mean+std"}, default="mean"
        How ``transform`` turns patch embeddings into a clip embedding.

    augment : sampler, list of samplers or None, default=None
        Fit-time augmentations (``sklearn_asd.augment``), applied to the training clips only.
    outlier_exposure : bool or "auto", default="auto"
        Train the outlier rows as a class: always (True), never (False), or only when the normal
        clips hold a single class (``"auto"``: first-shot, where the other machines give the
        classifier something to tell this machine from).
    target : {"y", "machine"}, default="y"
        The auxiliary task: ``"y"`` tells the classes of ``y`` apart; ``"machine"`` makes every
        normal clip one class, ``"machine"``, to be told from the outlier rows (Kazakova et al.'s
        target-machine-vs-other-machines classifier; without outlier rows, the pseudo-classes
        below).
    pseudo_classes : int, default=4
        First-shot fitting: when the normal training clips hold a single class and no outlier
        rows are given, they are split into this many classes by quantiles of their average
        level (the mean of the spectrogram's dB values, or the waveform's power), as Hai et al.
        (DCASE 2024) use "the average power of the clip as the attribute"; the classes are
        ``"<class>|power=<q>"``. ``base_classes_`` lists them.
    validation_fraction : float in [0, 0.5) or None, default=0.1
        Share of each class's normal clips held out (before augmentation, never trained on) to
        measure the auxiliary task: the clip-level accuracy on them is ``valid_acc`` in
        ``net_.history`` after every epoch, and ``validation_accuracy_`` after the last. Classes
        with fewer than 5 clips keep them all; ``None`` or 0: nothing is held out.
    max_epochs : int, default=10
    lr : float, default=1e-4
        Adam's learning rate (Giri et al.).
    batch_size : int, default=64
        Patches per batch.
    {training}
    **kwargs
        The backbone's and the head's own parameters, named as skorch names them:
        ``module__<name>`` (e.g. ``module__width_mult=0.5``; MobileFaceNet's input shape and the
        waveform networks' clip length are filled in from the data) and ``head__<name>``
        (e.g. ``head__s=30.0, head__m=0.5`` for ArcFace). They are parameters like the others:
        ``get_params`` lists them and ``GridSearchCV`` tunes them
        (``{"embedder__module__width_mult": [0.25, 0.5]}``).

    Attributes
    ----------
    net_ : skorch NeuralNet
        The trained network (``net_.module_`` is a :class:`ClassifierModule`).
    classes_ : ndarray
        The classes, in the order of ``predict_proba``'s columns.
    base_classes_ : ndarray
        The classes of the normal training clips themselves (``y``, or its power pseudo-classes),
        without those made by augmentation and without the outlier class: the classes a clip can
        truly belong to.
    class_kind_ : ndarray of str
        What each class of ``classes_`` is: ``"normal"`` (a class of ``y``), ``"power"`` (a level
        pseudo-class), ``"augmented"`` (made by ``augment``) or ``"outlier"``.
    class_origin_ : ndarray
        The label of ``y`` that each normal or power class stands for (``None`` for the others).
        :class:`~sklearn_asd.detectors.SoftmaxScore` reads these two, never the labels' spelling.
    validation_accuracy_ : float or None
        Clip-level accuracy of the auxiliary classification on the held-out normal clips after
        the last epoch (``None`` when nothing was held out).
    n_validation_clips_ : int
    outlier_exposure_ : bool
        Whether outlier rows were trained on.
    embedding_dim_ : int
        Size of one patch embedding (``transform`` gives twice that for ``"mean+std"``).

    See Also
    --------
    sklearn_asd.detectors.SoftmaxScore : scores clips by the probability of their own class.
    sklearn_asd.detectors.KNNDetector : scores clips by the distance of their embeddings.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.embedders import ClassifierEmbedder
    >>> S = np.random.RandomState(0).normal(size=(8, 32, 40)).astype(np.float32)
    >>> y = ["id_00"] * 4 + ["id_02"] * 4
    >>> emb = ClassifierEmbedder(module__width_mult=0.25, patch_frames=16, patch_hop=8,
    ...                          max_epochs=1, random_state=0).fit(S, y)
    >>> emb.transform(S).shape, emb.predict_proba(S).shape
    ((8, 1280), (8, 2))
    """

    __metadata_request__fit = {"outlier": True}

    _parameter_constraints = {
        "module": [StrOptions(set(_BACKBONES)), type],
        "head": [StrOptions(set(_HEADS))],
        "loss": [StrOptions({"auto", "ce", "kl"})],
        "patch_frames": [Interval(Integral, 1, None, closed="left"), None],
        "patch_hop": [Interval(Integral, 1, None, closed="left")],
        "segment_samples": [Interval(Integral, 1, None, closed="left"), None],
        "segment_hop": [Interval(Integral, 1, None, closed="left"), None],
        "aggregate": [StrOptions({"mean", "std", "mean+std"})],
        "augment": "no_validation",
        "outlier_exposure": ["boolean", StrOptions({"auto"})],
        "target": [StrOptions({"y", "machine"})],
        "pseudo_classes": [Interval(Integral, 2, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 0.5, closed="left"), None],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        module="mobilenetv2",
        *,
        head="softmax",
        loss="auto",
        patch_frames=64,
        patch_hop=8,
        segment_samples=None,
        segment_hop=None,
        aggregate="mean",
        augment=None,
        outlier_exposure="auto",
        target="y",
        pseudo_classes=4,
        validation_fraction=0.1,
        max_epochs=10,
        lr=1e-4,
        batch_size=64,
        optimizer=torch.optim.Adam,
        device="auto",
        mixed_precision="auto",
        random_state=None,
        callbacks=None,
        verbose=0,
        **kwargs,
    ):
        self.module = module
        self.head = head
        self.loss = loss
        self.patch_frames = patch_frames
        self.patch_hop = patch_hop
        self.segment_samples = segment_samples
        self.segment_hop = segment_hop
        self.aggregate = aggregate
        self.augment = augment
        self.outlier_exposure = outlier_exposure
        self.target = target
        self.pseudo_classes = pseudo_classes
        self.validation_fraction = validation_fraction
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.callbacks = callbacks
        self.verbose = verbose
        # module__* and head__* (skorch's convention); any other name is Python's TypeError
        unexpected = sorted(k for k in kwargs if not k.startswith(self._PREFIXES))
        if unexpected:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword arguments {unexpected}; the backbone's and "
                "the head's parameters are named module__<name> and head__<name>."
            )
        vars(self).update(kwargs)

    # ------------------------------------------------------- module__* / head__*

    _PREFIXES = ("module__", "head__")

    def _prefixed(self, prefix):
        """The ``prefix<name>`` parameters, as ``{name: value}``."""
        return {k[len(prefix) :]: v for k, v in vars(self).items() if k.startswith(prefix)}

    def get_params(self, deep=True):
        """Parameters, with the backbone's and head's as ``module__<name>`` and ``head__<name>``."""
        params = super().get_params(deep=deep)
        params.update({k: v for k, v in vars(self).items() if k.startswith(self._PREFIXES)})
        return params

    def set_params(self, **params):
        """Set parameters; ``module__<name>`` and ``head__<name>`` set the backbone's and head's."""
        for key in [k for k in params if k.startswith(self._PREFIXES)]:
            setattr(self, key, params.pop(key))
        return super().set_params(**params)

    # ------------------------------------------------------------------ input

    def _backbone_class(self):
        return _BACKBONES[self.module] if isinstance(self.module, str) else self.module

    def _takes_waveforms(self):
        return issubclass(self._backbone_class(), _WAVEFORM_BACKBONES)

    def _patch_frames(self):
        """The length of a training item along the last axis: frames, or samples of a waveform."""
        return self.segment_samples if self._takes_waveforms() else self.patch_frames

    def _patch_hop(self):
        if self._takes_waveforms():
            return self.segment_hop or self.segment_samples or 1
        return self.patch_hop

    def _check_clips(self, X, reset):
        X = check_array(X, allow_nd=True, dtype=np.float32)
        name = type(self).__name__
        if self._takes_waveforms():
            if X.ndim != 2:
                raise ValueError(
                    f"{name}(module={self.module!r}) takes waveforms (n_clips, n_samples), got {X.shape}."
                )
            if self.segment_samples is not None and X.shape[1] < self.segment_samples:
                raise ValueError(
                    f"clips have {X.shape[1]} samples, fewer than segment_samples={self.segment_samples}."
                )
        elif X.ndim != 3:
            raise ValueError(
                f"{name}(module={self.module!r}) takes spectrograms (n_clips, n_freqs, n_frames), got shape "
                f"{X.shape}: put a feature step such as LogMel before it."
            )
        elif self.patch_frames is not None and X.shape[2] < self.patch_frames:
            raise ValueError(
                f"clips have {X.shape[2]} frames, fewer than patch_frames={self.patch_frames}: use longer "
                "clips, a smaller hop in the features, or a smaller patch_frames."
            )
        if reset:
            self.clip_shape_ = X.shape[1:]
            self.n_features_in_ = X.shape[1]
        elif X.shape[1:] != self.clip_shape_:
            raise ValueError(f"{name} was fitted on clips of shape {self.clip_shape_}, got {X.shape[1:]}.")
        return X

    # ------------------------------------------------------------------ training

    def _level(self, X):
        """Average level of each clip: mean dB of a spectrogram, or the waveform's power in dB."""
        if self._takes_waveforms():
            return 10.0 * np.log10(np.mean(np.square(X, dtype=np.float64), axis=1) + 1e-20)
        return X.mean(axis=(1, 2), dtype=np.float64)

    def _module_kwargs(self, X, n_classes):
        """The keyword arguments of :func:`classifier_module` for clips ``X`` and ``n_classes``."""
        params = self._prefixed("module__")
        backbone_class = self._backbone_class()
        if backbone_class is MobileFaceNet:
            params.setdefault("input_shape", (X.shape[1], self._patch_frames() or X.shape[2]))
        if issubclass(backbone_class, _WAVEFORM_BACKBONES):
            params.setdefault("n_samples", self.segment_samples or X.shape[1])
        return {
            "backbone": backbone_class,
            "backbone_params": params,
            "head": self.head,
            "head_params": self._prefixed("head__"),
            "n_classes": n_classes,
        }

    # False: members of meta-detectors (and an embedder's samplers) validate their own parameters,
    # as in scikit-learn's meta-estimators; an invalid member must not fit silently.
    @uses_torch_threads
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, outlier=None):
        """Train the network to classify the training clips' classes ``y``.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_freqs, n_frames), or (n_clips, n_samples) for the
            STgram networks
        y : array-like of shape (n_clips,)
            Class (section, or section x attribute) of each clip.
        outlier : array-like of bool of shape (n_clips,), default=None
            Rows that are clips of other machine types (routed fit-time metadata): trained as
            the class ``"__outlier__"``; their ``y`` is ignored.
        """
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        X = self._check_clips(X, reset=True)
        mask = check_outlier_mask(outlier, X.shape[0], caller=type(self).__name__)
        normal, outliers = split_outliers(mask, X, y=np.asarray(y, dtype=object))
        X, y = normal.X, normal.y
        if y.ndim != 1:
            raise ValueError(f"{type(self).__name__} takes one class per clip, y of shape {y.shape}.")
        given = y
        y, use_outliers, pseudo = auxiliary_task(
            given,
            len(outliers),
            lambda: self._level(X),
            target=self.target,
            outlier_exposure=self.outlier_exposure,
            pseudo_classes=self.pseudo_classes,
        )
        if not use_outliers:
            outliers = outliers[:0]
        self.outlier_exposure_ = use_outliers
        self.base_classes_ = np.unique(y)
        if len(self.base_classes_) < 2 and not len(outliers):
            raise ValueError(
                f"{type(self).__name__} learns to tell classes apart, but the training clips have a single "
                f"class ({self.base_classes_[0]!r}): mark clips of other machine types with outlier=True, "
                "or use pseudo_classes >= 2."
            )
        train, valid = split_validation(y, self.validation_fraction, self.random_state)
        self.n_validation_clips_ = len(valid)
        X_train, targets, self.classes_ = training_targets(X[train], y[train], outliers, self.augment)
        self.class_kind_, self.class_origin_ = class_structure(
            self.classes_,
            y,
            given,
            pseudo=pseudo,
            outlier_exposure=self.outlier_exposure_,
        )
        callbacks = fresh_callbacks(self.callbacks) or []
        if len(valid):
            callbacks.append(("valid_acc", ClipAccuracy(X[valid], encode(self.classes_, y[valid]), self)))
        loss = self.loss if self.loss != "auto" else ("kl" if targets.dim() == 2 else "ce")
        self._net_spec = net_spec(
            PatchNet,
            classifier_module,
            self._module_kwargs(X_train, len(self.classes_)),
            SoftTargetLoss,
            criterion__kind=loss,
            batch_size=self.batch_size,
        )
        self.net_ = build_net(
            self._net_spec,
            random_state=self.random_state,
            device=self.device,
            mixed_precision=self.mixed_precision,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            callbacks=callbacks or None,
            verbose=self.verbose,
        )
        self.embedding_dim_ = self.net_.module.backbone.embedding_dim
        dataset = PatchDataset(X_train, targets, self._patch_frames(), self._patch_hop())
        # a last batch of one patch cannot train batch normalization: leave it out of that epoch
        self.net_.set_params(iterator_train__drop_last=len(dataset) % self.batch_size == 1)
        self.net_.fit(dataset, y=None)
        self.validation_accuracy_ = self.net_.history[-1, "valid_acc"] if len(valid) else None
        return self

    # ------------------------------------------------------------------ inference

    @uses_torch_threads
    def _patch_outputs(self, X, fn):
        """``fn(module, batch)`` over every patch, as (n_clips, n_patches, ...)."""
        check_is_fitted(self)
        X = self._check_clips(X, reset=False)
        progress = f"{type(self).__name__} scoring" if self.verbose else None
        frames, hop = self._patch_frames(), self._patch_hop()
        return patch_outputs(self.net_, X, fn, frames, hop, self.batch_size, progress)

    def transform(self, X):
        """Clip embeddings: the patch embeddings of each clip, aggregated (``aggregate``)."""
        Z = self._patch_outputs(X, lambda m, xb: m.embed(xb))
        if self.aggregate == "mean":
            return Z.mean(axis=1)
        if self.aggregate == "std":
            return Z.std(axis=1)
        return np.concatenate([Z.mean(axis=1), Z.std(axis=1)], axis=1)

    def predict_proba(self, X):
        """Class probabilities of each clip: the mean of its patches' softmax (columns ``classes_``)."""
        return self._patch_outputs(X, lambda m, xb: torch.softmax(m(xb), dim=1)).mean(axis=1)

    def predict(self, X):
        """The most probable class of each clip."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        if not self._takes_waveforms():
            # spectrogram clips are 3-D, which scikit-learn's checks do not generate
            tags.input_tags.two_d_array = False
            tags.input_tags.three_d_array = True
        return tags
