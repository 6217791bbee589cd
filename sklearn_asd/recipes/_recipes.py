"""The published systems and the official baselines as unfitted pipelines of public estimators.

Every recipe has one signature, ``recipe(*, fast=False, random_state=0, verbose=0,
device="auto", **options)``, builds instantly (no data, no computation), and is fitted as
``model.fit(X, y, section=..., domain=..., outlier=...)`` with metadata routing enabled:
``outlier`` marks the rows that are clips of other machine types (outlier exposure), which the
recipes that use them train on and every other step leaves out. ``fast=True`` is the CPU
setting: it trains to a plateau on 2 cores in minutes for 3 sections x 100 ten-second clips
(``benchmarks/run_accuracy.py`` measures it); ``fast=False`` is the paper's setting, for GPUs.
``verbose`` and ``device`` reach every step that takes them (:data:`COMMON_OPTIONS`).
"""

import functools
import inspect

from sklearn.pipeline import Pipeline
from skorch.callbacks import LRScheduler

from ..augment import SMOTE, Mixup, PitchShift, SpectralWarp, TimeStretch
from ..detectors import (
    OEVAE,
    AutoEncoderDetector,
    DomainAwareDetector,
    DomainKNNDetector,
    GroupMADEDetector,
    KMeansCosineDetector,
    KNNDetector,
    LOFDetector,
    SoftmaxScore,
    StandardizedEnsemble,
)
from ..embedders import ClassifierEmbedder
from ..features import STFT, LogMel
from ._registry import GIRI_MACHINE_TABLE, REGISTRY


def _steps(estimator):
    """``estimator`` and every estimator among its parameters, however deep (members, wrapped ones)."""
    yield estimator
    for value in estimator.get_params(deep=False).values():
        if hasattr(value, "get_params") and not isinstance(value, type):
            yield from _steps(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                item = item[1] if isinstance(item, tuple) and len(item) == 2 else item
                if hasattr(item, "get_params") and not isinstance(item, type):
                    yield from _steps(item)


def configure(model, **settings):
    """Set each of ``settings`` (``verbose``, ``device``) on every step of ``model`` that takes it.

    A Pipeline's own ``verbose`` is a bool (scikit-learn's: each step's time once it is fitted).
    """
    for step in _steps(model):
        params = step.get_params(deep=False)
        values = {k: v for k, v in settings.items() if k in params}
        if isinstance(step, Pipeline) and "verbose" in values:
            values["verbose"] = bool(values["verbose"])
        step.set_params(**values)
    return model


def _common_options(function):
    """The recipe with the options every recipe takes (``COMMON_OPTIONS``), set on its steps."""

    @functools.wraps(function)
    def recipe(*, verbose=0, device="auto", **kwargs):
        return configure(function(**kwargs), verbose=verbose, device=device)

    signature = inspect.signature(function)
    common = [
        inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=0),
        inspect.Parameter("device", inspect.Parameter.KEYWORD_ONLY, default="auto"),
    ]
    recipe.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *common])
    recipe.__doc__ = (function.__doc__ or "").rstrip() + "\n\n    " + _COMMON_DOC + "\n"
    del recipe.__wrapped__  # the signature is the recipe's, with the common options
    return recipe


_COMMON_DOC = (
    "Every recipe also takes ``verbose`` (``1``: each network's epoch table, as skorch prints it; "
    '``0``: silent) and ``device`` (``"auto"``: CUDA when present, else the CPU), set on every '
    "step that has them."
)


def _logmel(**kw):
    return LogMel(**{"sr": 16000, "n_fft": 1024, "hop_length": 512, "n_mels": 128, **kw})


@_common_options
def dcase_autoencoder(*, fast=False, random_state=0):
    """The official DCASE autoencoder baseline (2020-2023).

    Log-mel (64 ms frames, 50 % hop, 128 bands, the baseline's ``20 / power * log10`` form), 5
    frames stacked into 640-d vectors, the dense 128 x 4 / 8 / 128 x 4 autoencoder trained with the
    mean squared error (Adam 1e-3, batch 512, 100 epochs); score = the clip's mean reconstruction
    error, threshold from a gamma fit. Published (DCASE 2020 dev, AUC %): ToyCar 78.77, ToyConveyor
    72.53, fan 65.83, pump 72.89, slider 84.76, valve 66.28. ``fast=True``: 20 epochs.
    """
    return Pipeline(
        [
            ("logmel", _logmel(log="dcase")),
            ("ae", AutoEncoderDetector(max_epochs=20 if fast else 100, random_state=random_state)),
        ]
    )


def _cpu(fast, paper, cpu):
    return cpu if fast else paper


@_common_options
def dcase_mobilenetv2(*, fast=False, random_state=0):
    """The DCASE 2021-2022 MobileNetV2 baseline: section classification, log-odds score.

    Log-mel 128 bands, 64-frame patches every 8 frames, MobileNetV2 (width 0.5), softmax over the
    sections (or section x attribute classes), Adam 1e-4, 20 epochs; score =
    ``log(1 - p) - log(p)`` of the clip's own class, averaged. ``fast=True`` (CPU): patches every
    32 frames (the 8-frame hop repeats each frame 8 times), Adam 1e-3, 12 epochs (fewer leave the
    auxiliary task unlearned on real recordings: benchmarks/README).
    """
    embedder = ClassifierEmbedder(
        "mobilenetv2",
        module__width_mult=0.5,
        patch_hop=_cpu(fast, 8, 32),
        max_epochs=_cpu(fast, 20, 12),
        lr=_cpu(fast, 1e-4, 1e-3),
        random_state=random_state,
    )
    return Pipeline([("logmel", _logmel()), ("score", SoftmaxScore(embedder, kind="log_odds"))])


@_common_options
def giri2020(*, fast=False, random_state=0, machine_type="valve", ensemble=True, combine="mean"):
    """Giri et al. (DCASE 2020): self-supervised section classification with mixup and warping.

    Log-mel 128 bands (64 ms / 32 ms), 64-frame images every 8 frames; MobileNetV2 (width 0.5) and
    ResNet-50 from scratch, Adam 1e-4, KL divergence on mixup proportions; per machine type the
    paper's augmentation (``GIRI_MACHINE_TABLE``: pre- or post-log mixup across IDs, spectral
    warping with alpha 0.95 / 1.05 as new classes) and epochs; score = minus the softmax
    probability of the clip's **true** class (a clip that looks warped is suspect: the warped
    classes never count as its own). ``ensemble=True``: the two networks and a Group MADE
    combined by :class:`StandardizedEnsemble` (scores standardized per ID on the training
    clips, then their ``combine``: ``"mean"`` or ``"max"``, the paper's two forms; each member's
    scores: ``model[-1].member_anomaly_scores(model[:-1].transform(X), section=...)``).
    ``fast=True`` (CPU): patches every 64 frames, Adam 1e-3, 8 epochs, ResNet-18, Group MADE 10
    epochs.

    Table (AUC % on DCASE 2020 dev, MobileNetV2 with augmentation / ensemble incl. Group MADE):
    ToyCar 88.60 / 95.57, ToyConveyor 78.36 / 81.46, fan 80.61 / 82.39, pump 83.23 / 87.64,
    slider 96.26 / 97.28, valve 91.26 / 98.46.
    """
    if machine_type not in GIRI_MACHINE_TABLE:
        raise ValueError(f"machine_type must be one of {sorted(GIRI_MACHINE_TABLE)}, got {machine_type!r}.")
    space, warp, epochs = GIRI_MACHINE_TABLE[machine_type]
    augment = ([SpectralWarp(alphas=(0.95, 1.05))] if warp else []) + [
        Mixup(space=space, random_state=random_state)
    ]

    def classifier(module, params):
        embedder = ClassifierEmbedder(
            module,
            **{f"module__{k}": v for k, v in params.items()},
            augment=augment,
            patch_hop=_cpu(fast, 8, 64),
            max_epochs=_cpu(fast, epochs, 8),
            lr=_cpu(fast, 1e-4, 1e-3),
            random_state=random_state,
        )
        return SoftmaxScore(embedder, kind="prob")

    mobilenet = classifier("mobilenetv2", {"width_mult": 0.5})
    if not ensemble:
        return Pipeline([("logmel", _logmel()), ("score", mobilenet)])
    members = [
        ("mobilenetv2", mobilenet),
        ("resnet50", classifier("resnet", {"depth": _cpu(fast, 50, 18)})),
        ("groupmade", GroupMADEDetector(max_epochs=_cpu(fast, 50, 10), random_state=random_state)),
    ]
    return Pipeline([("logmel", _logmel()), ("ensemble", StandardizedEnsemble(members, combine=combine))])


@_common_options
def morita2021(*, fast=False, random_state=0, backbone="mobilefacenet", aggregate="mean"):
    """Morita et al. (DCASE 2021): self-supervised CNN features + ArcFace, LOF for source, kNN for target.

    STFT power in dB, 128 ms frames / 32 ms hop (n_fft 2048, hop 512: 1025 bins); units of 32
    frames every 16; a CNN with a 128-d embedding trained with ArcFace on the sections: MobileFaceNet
    (``backbone="mobilefacenet"``) or MobileNetV2 whose 1280 channels are projected to 128
    (``backbone="mobilenetv2"``; on the pooled map the paper's 1x1 convolution is this linear
    projection); clip embedding = ``aggregate`` (``"mean"`` or ``"std"``) of the units'; per
    section, LOF (4 neighbours) on source clips and kNN (1 neighbour) on source + target clips,
    both on cosine distances (ArcFace embeddings are compared by angle); the two members'
    scores are z-scored by their training scores so that source and target clips share one
    scale (the 2022-2024 scores rank them together). Best total, dev: AUC 87.42 (source) /
    70.50 (target). ``fast=True`` (CPU): 32 ms frames (n_fft 512: 257 bins), units every 64
    frames, 8 epochs (a MobileFaceNet batch of 1025-bin units costs 6x that of 257-bin units;
    the paper's setting takes over 40 min on 2 cores).
    """
    backbones = {
        "mobilefacenet": ("mobilefacenet", None),
        "mobilenetv2": ("mobilenetv2", {"width_mult": 1.0, "embedding_dim": 128}),
    }
    if backbone not in backbones:
        raise ValueError(f"backbone must be one of {sorted(backbones)}, got {backbone!r}.")
    if aggregate not in ("mean", "std"):
        raise ValueError(f"aggregate must be 'mean' or 'std', got {aggregate!r}.")
    module, params = backbones[backbone]
    embedder = ClassifierEmbedder(
        module,
        **{f"module__{k}": v for k, v in (params or {}).items()},
        head="arcface",
        patch_frames=32,
        patch_hop=_cpu(fast, 16, 64),
        aggregate=aggregate,
        max_epochs=_cpu(fast, 20, 8),
        lr=1e-3,
        random_state=random_state,
    )
    # ArcFace compares embeddings by angle (its head normalizes them), so both members measure
    # cosine distances: the norms carry no trained meaning, and the training clips' are 2-3x
    # those of unseen clips, which turned the LOF's ranking on a real machine ID below chance
    detector = DomainAwareDetector(
        LOFDetector(n_neighbors=4, metric="cosine", per_section=True),
        KNNDetector(n_neighbors=1, metric="cosine", per_section=True),
    )
    stft = STFT(n_fft=_cpu(fast, 2048, 512), hop_length=512, kind="power", log="db")
    return Pipeline([("stft", stft), ("embed", embedder), ("detect", detector)])


@_common_options
def team42_sepstgram(*, fast=False, random_state=0):
    """Team 42's SepSTgramNet: log-mel and Tgram through separate ResNet-18s, machine-ID classification.

    Takes waveforms (the network computes both branches); cross-entropy, Adam; score =
    ``1 - softmax(z)[true ID]`` (the same ranking as ``-p``). Slider (DCASE 2020) AUC dev / eval:
    0.991 / 0.918. ``fast=True`` (CPU): 64 mel bands, 2-s segments every second (each a
    training item; a clip's probabilities are the mean of its segments': whole 10-s clips give
    a CPU's few epochs too few steps to learn the IDs), 5 epochs with the learning rate
    annealed on a cosine to a tenth of ``lr`` in the last epoch (skorch's ``LRScheduler``): at a
    constant ``lr`` the held-out ID accuracy swung 0.43-1.00 from epoch to epoch and the last
    epoch's network was kept (benchmarks/README).
    """
    epochs = _cpu(fast, 20, 5)
    embedder = ClassifierEmbedder(
        "sepstgramnet",
        **({"module__n_mels": 64} if fast else {}),
        segment_samples=_cpu(fast, None, 32000),
        segment_hop=_cpu(fast, None, 16000),
        max_epochs=epochs,
        lr=1e-3,
        batch_size=16,
        callbacks=_cpu(fast, None, [("lr", LRScheduler(policy="CosineAnnealingLR", T_max=epochs))]),
        random_state=random_state,
    )
    return Pipeline([("score", SoftmaxScore(embedder, kind="prob"))])


@_common_options
def kazakova2022(*, fast=False, random_state=0):
    """Kazakova et al. (DCASE 2022): the autoencoder baseline trained with outlier exposure.

    Fit with the clips of another machine type as rows marked ``outlier=True`` (the paper: 3,000
    normal + 3,000 outlier clips); they are featurized by the same log-mel step. Without outlier
    rows it trains as the plain baseline. Fan: plain AE AUC 49.19 -> with outlier exposure 57-60.
    ``fast=True``: 20 epochs.
    """
    return Pipeline(
        [
            ("logmel", _logmel(log="dcase")),
            (
                "ae",
                AutoEncoderDetector(
                    outlier_exposure=True, max_epochs=_cpu(fast, 100, 20), random_state=random_state
                ),
            ),
        ]
    )


@_common_options
def kazakova2022_classifier(*, fast=False, random_state=0):
    """Kazakova et al. (DCASE 2022): MobileNetV2 telling this machine's STFT images from other machines'.

    The clip's STFT image (256 ms windows, 50 % overlap, power in dB) resized to 320 x 320 goes
    through MobileNetV2; the network learns this machine (one class) against the clips of other
    machine types, passed as rows marked ``outlier=True``; the training clips are augmented by
    pitch shift (+-1 semitone) then time stretch (0.9, 1.1), added background noise having hurt
    in the paper. Score: ``-p`` of the machine class; decision threshold ``(1 - 0.04)`` x the
    mean ``p`` of the training clips (``SoftmaxScore(threshold="mean_probability")``). Without
    outlier rows the classes are average-power pseudo-classes (first-shot). Paper: 500
    training clips for the threshold, 3,000 + 3,000 for training. ``fast=True`` (CPU):
    width 0.5, 160 x 160 images, 3 epochs, no time stretch.
    """
    augment = [PitchShift(n_steps=(-1.0, 1.0))] + ([] if fast else [TimeStretch(rates=(0.9, 1.1))])
    embedder = ClassifierEmbedder(
        "stftimage",
        module__width_mult=_cpu(fast, 1.0, 0.5),
        module__size=_cpu(fast, (320, 320), (160, 160)),
        target="machine",
        outlier_exposure=True,
        augment=augment,
        max_epochs=_cpu(fast, 20, 3),
        lr=1e-3 if fast else 1e-4,
        batch_size=16,
        random_state=random_state,
    )
    score = SoftmaxScore(embedder, kind="prob", per_section=False, threshold="mean_probability", margin=0.04)
    return Pipeline([("score", score)])


@_common_options
def hai2024_dual_branch(*, fast=False, random_state=0):
    """Hai et al. (DCASE 2024), model A: dual-branch (+ phase) embeddings, sub-cluster AdaCos, k-means/cosine.

    :class:`~sklearn_asd.nn.DualBranchNet` on the standardized waveform (log-magnitude FFT of
    the clip, log-mel, STFT phase; PReLU) trained to tell the classes ``y`` apart (section x
    attributes in the paper: ``datasets.class_labels``) with a sub-cluster AdaCos head and
    Adamax; SMOTE rebalances the classes first (the 10 target against the 990 source clips of a
    section fall in their own attribute classes). Score: the smallest cosine distance to the
    k-means centres of a section's source embeddings and to each of its target embeddings
    (:class:`~sklearn_asd.detectors.KMeansCosineDetector`). Paper: 20 epochs, batch 64, 16
    centres; the paper gives no figure for model A alone. ``fast=True``
    (CPU): 64 mel bands, batch 16, 5 epochs.
    """
    import torch

    embedder = ClassifierEmbedder(
        "dualbranch",
        module__n_mels=_cpu(fast, 128, 64),
        head="subcluster_adacos",
        optimizer=torch.optim.Adamax,
        lr=_cpu(fast, 1e-3, 2e-3),
        max_epochs=_cpu(fast, 20, 5),
        batch_size=_cpu(fast, 64, 16),
        augment=[SMOTE(random_state=random_state)],
        random_state=random_state,
    )
    detector = KMeansCosineDetector(n_clusters=16, per_section=True, random_state=random_state)
    return Pipeline([("embed", embedder), ("detect", detector)])


@_common_options
def hai2024_oevae(*, fast=False, random_state=0):
    """Hai et al. (DCASE 2024), model B: OEVAE with outlier exposure and the split-latent VAE.

    Log-mel 224 bands, 64 ms window, 16 ms hop, 50-7800 Hz; 2-s segments (125 frames); ResNet-18 +
    binary outlier head + VAE (z_d 8 of 64 dims), lambda 1e-7, Adam 1e-3, batch 128, 20 epochs;
    score = 0.5 * alpha + 0.5 * beta standardized per section. Fit with clips of other machine
    types as rows marked ``outlier=True`` (1:1 in the paper); without them, warped copies of the
    normal clips stand in (see :class:`~sklearn_asd.detectors.OEVAE`). ``fast=True`` (CPU): 64
    bands, 3 epochs.
    """
    logmel = LogMel(
        n_fft=1024, hop_length=256, n_mels=_cpu(fast, 224, 64), fmin=50.0, fmax=7800.0, batch_size=8
    )
    detector = OEVAE(segment_frames=125, max_epochs=_cpu(fast, 20, 3), random_state=random_state)
    return Pipeline([("logmel", logmel), ("oevae", detector)])


@_common_options
def hai2024(*, fast=False, random_state=0):
    """Hai et al. (DCASE 2024): models A and B, each standardized per section, averaged.

    Model A (:func:`hai2024_dual_branch`: dual-branch + phase embeddings, sub-cluster AdaCos,
    k-means/cosine scores, SMOTE rebalancing) and model B (:func:`hai2024_oevae`: OEVAE with
    outlier exposure) are fitted on the same waveforms; each one's scores are standardized by
    its training scores of the section (:class:`~sklearn_asd.detectors.StandardizedEnsemble`)
    and averaged. Fit with section x attribute classes as ``y`` and other machine types' clips
    as rows marked ``outlier=True`` (model B trains on them, model A only when a section has a
    single class). ``fast=True``: both parts at their CPU settings.
    """
    parts = [
        ("dual_branch", hai2024_dual_branch(fast=fast, random_state=random_state)),
        ("oevae", hai2024_oevae(fast=fast, random_state=random_state)),
    ]
    return Pipeline([("ensemble", StandardizedEnsemble(parts, per_section=True))])


def _asdkit_embedder(fast, random_state, n_ffts, head, head_params, cpu):
    """The discriminative training of ASDKit's recipes: a :class:`~sklearn_asd.nn.MultiResNet` on
    the waveform, sub-cluster AdaCos (16 centres per class, fixed scale), mixup of any two clips
    (lam ~ U(0, 1)) for half the training rows, AdamW 1e-3, batch 64, 16 epochs on whole clips;
    ``cpu``: the CPU setting's ``(branch_dim, epochs)``, on 2-s segments every second."""
    import torch

    branch_dim, epochs = cpu
    return ClassifierEmbedder(
        "multires",
        module__n_ffts=n_ffts,
        module__branch_dim=_cpu(fast, 128, branch_dim),
        head=head,
        **{f"head__{k}": v for k, v in head_params.items()},
        # offline mixup: as many mixed clips as clips, so half of every epoch's rows are mixed,
        # as ASDKit's on-the-fly mixup with probability 0.5 mixes half of every batch
        augment=[Mixup(pairs="any", random_state=random_state)],
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=_cpu(fast, 16, epochs),
        batch_size=_cpu(fast, 64, 32),
        segment_samples=_cpu(fast, None, 32000),
        segment_hop=_cpu(fast, None, 16000),
        random_state=random_state,
    )


def _asdkit_backend(random_state):
    """ASDKit's ``Knn`` back-end: cosine 1-NN per section, the minimum over the source clips and
    the target clips augmented by SMOTE to 0.2 of the source clips (2 neighbours)."""
    return DomainKNNDetector(
        n_neighbors=1,
        metric="cosine",
        smote_ratio=0.2,
        smote_neighbors=2,
        per_section=True,
        random_state=random_state,
    )


@_common_options
def wilkinghoff2024_featex(*, fast=False, random_state=0):
    """Wilkinghoff (ICASSP 2024): feature exchange between the spectrum and spectrogram branches.

    Self-supervised learning on top of the classes ``y`` (section x attribute in the paper):
    :class:`~sklearn_asd.nn.MultiResNet` with a spectrum branch and one STFT branch (n_fft 1024,
    the dual-branch network as ASDKit re-implements it), trained with
    :class:`~sklearn_asd.nn.FeatEx` (sub-cluster AdaCos with 16 fixed centres per class, plus a
    head that tells which classes the two branch embeddings of a row came from, half the rows
    having theirs exchanged with another row's), mixup of half the rows, AdamW 1e-3, batch 64,
    16 epochs (ASDKit's ``dis_spec_featex``); scored by ASDKit's ``Knn`` back-end on the clip
    embeddings (:class:`~sklearn_asd.detectors.DomainKNNDetector`: cosine 1-NN per section, the
    minimum over source and SMOTE-augmented target references). ASDKit's re-run, official
    score on the DCASE dev sets (mean of 4 seeds): 2020 89.9, 2021 69.2, 2022 71.6, 2023 64.3,
    2024 62.1. ``fast=True`` (CPU): 2-s segments every second (each a training item; a clip's
    embedding is the mean of its segments'), batch 32, 8 epochs.
    """
    embedder = _asdkit_embedder(
        fast, random_state, (1024,), "featex", {"n_subclusters": 16, "prob": 0.5}, cpu=(128, 8)
    )
    return Pipeline([("embed", embedder), ("detect", _asdkit_backend(random_state))])


@_common_options
def fujimura2025_multires(*, fast=False, random_state=0):
    """Fujimura et al. (ICASSP 2025): a spectrum branch and STFTs at three resolutions, sub-cluster AdaCos.

    :class:`~sklearn_asd.nn.MultiResNet` on the waveform: the magnitude FFT of the clip and
    STFTs at n_fft 256 / 1024 / 4096 (200-8000 Hz), each through its own network with
    squeeze-and-excitation, 128 features each; trained to tell the classes ``y`` apart with
    sub-cluster AdaCos (16 trainable centres per class, fixed scale), mixup of half the rows,
    AdamW 1e-3, batch 64, 16 epochs (ASDKit's ``dis_multispec_scac_trainable``); scored by
    ASDKit's ``Knn`` back-end (:class:`~sklearn_asd.detectors.DomainKNNDetector`). ASDKit's
    re-run, official score on the DCASE dev sets (mean of 4 seeds): 2020 91.7, 2021 69.8, 2022
    71.7, 2023 66.1, 2024 63.1, the best of its from-scratch systems. ``fast=True`` (CPU): 64
    features per branch, 2-s segments every second, batch 32, 6 epochs.
    """
    embedder = _asdkit_embedder(
        fast,
        random_state,
        (256, 1024, 4096),
        "subcluster_adacos",
        {"n_subclusters": 16, "trainable": True, "dynamic": False},
        cpu=(64, 6),
    )
    return Pipeline([("embed", embedder), ("detect", _asdkit_backend(random_state))])


RECIPES = {name: globals()[name] for name in REGISTRY}
"""Every recipe function by name (``REGISTRY`` says what each one is without importing this)."""
