"""The one registry of the recipes: names, one-line summaries, who trains on outlier rows, options.

It imports no torch (nor any estimator): the command line lists, checks and documents the
recipes from it without waiting for the networks' libraries, and :func:`make_recipe` imports
the recipe functions only when one is built.
"""

from dataclasses import dataclass

# Giri et al. (DCASE 2020), best settings per machine type: mixup space, spectral warping, epochs.
GIRI_MACHINE_TABLE = {
    "ToyCar": ("post_log", True, 20),
    "ToyConveyor": ("pre_log", False, 10),
    "fan": ("pre_log", False, 10),
    "pump": ("post_log", True, 20),
    "slider": ("pre_log", False, 10),
    "valve": ("post_log", False, 10),
}


@dataclass(frozen=True)
class RecipeInfo:
    """What is known of a recipe without building it.

    Attributes
    ----------
    name : str
        The recipe function's name in :mod:`sklearn_asd.recipes`.
    summary : str
        The first line of its docstring (a test keeps them equal).
    uses_outliers : bool
        Whether it trains on rows marked ``outlier=True`` (clips of other machine types); every
        other recipe leaves them out.
    options : tuple of str
        Its own keyword options beyond ``fast``, ``random_state`` and :data:`COMMON_OPTIONS` (a
        test keeps them equal to the function's signature). ``machine_type`` takes the machine
        type being modelled.
    """

    name: str
    summary: str
    uses_outliers: bool = False
    options: tuple = ()


REGISTRY = {
    info.name: info
    for info in (
        RecipeInfo("dcase_autoencoder", "The official DCASE autoencoder baseline (2020-2023)."),
        RecipeInfo(
            "dcase_mobilenetv2",
            "The DCASE 2021-2022 MobileNetV2 baseline: section classification, log-odds score.",
        ),
        RecipeInfo(
            "giri2020",
            "Giri et al. (DCASE 2020): self-supervised section classification with mixup and warping.",
            options=("machine_type", "ensemble", "combine"),
        ),
        RecipeInfo(
            "morita2021",
            "Morita et al. (DCASE 2021): self-supervised CNN features + ArcFace, LOF for "
            "source, kNN for target.",
            options=("backbone", "aggregate"),
        ),
        RecipeInfo(
            "team42_sepstgram",
            "Team 42's SepSTgramNet: log-mel and Tgram through separate ResNet-18s, "
            "machine-ID classification.",
        ),
        RecipeInfo(
            "kazakova2022",
            "Kazakova et al. (DCASE 2022): the autoencoder baseline trained with outlier exposure.",
            uses_outliers=True,
        ),
        RecipeInfo(
            "kazakova2022_classifier",
            "Kazakova et al. (DCASE 2022): MobileNetV2 telling this machine's STFT images "
            "from other machines'.",
            uses_outliers=True,
        ),
        RecipeInfo(
            "hai2024",
            "Hai et al. (DCASE 2024): models A and B, each standardized per section, averaged.",
            uses_outliers=True,
        ),
        RecipeInfo(
            "hai2024_dual_branch",
            "Hai et al. (DCASE 2024), model A: dual-branch (+ phase) embeddings, sub-cluster AdaCos, "
            "k-means/cosine.",
        ),
        RecipeInfo(
            "hai2024_oevae",
            "Hai et al. (DCASE 2024), model B: OEVAE with outlier exposure and the split-latent VAE.",
            uses_outliers=True,
        ),
        RecipeInfo(
            "wilkinghoff2024_featex",
            "Wilkinghoff (ICASSP 2024): feature exchange between the spectrum and spectrogram branches.",
        ),
        RecipeInfo(
            "fujimura2025_multires",
            "Fujimura et al. (ICASSP 2025): a spectrum branch and STFTs at three resolutions, "
            "sub-cluster AdaCos.",
        ),
    )
}
"""Every recipe by name, in the order the command line and the docs list them."""

COMMON_OPTIONS = ("verbose", "device")
"""The options every recipe takes beside ``fast`` and ``random_state``: set on every step that has them."""

RECIPE_NAMES = tuple(REGISTRY)
USES_OUTLIERS = tuple(name for name, info in REGISTRY.items() if info.uses_outliers)
"""Recipes that train with outlier exposure when rows marked ``outlier=True`` are passed to fit."""


def make_recipe(name, *, fast=False, random_state=0, verbose=0, device="auto", **options):
    """Build the recipe ``name`` (a key of ``REGISTRY``): one way for the CLI, benchmarks and users.

    Parameters
    ----------
    name : str
    fast : bool, default=False
        The CPU setting (``True``) or the paper's (``False``, for GPUs).
    random_state : int, default=0
    verbose : int, default=0
        ``1``: each network prints its epoch table as it trains (skorch's); ``0``: silent.
    device : str, default="auto"
        Where the networks (and GPU features) run: ``"auto"`` is CUDA when present, else the CPU.
    **options
        The recipe's own options (``REGISTRY[name].options``).
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown recipe {name!r}; the recipes are {sorted(REGISTRY)}.")
    unknown = sorted(set(options) - set(REGISTRY[name].options))
    if unknown:
        takes = ", ".join(REGISTRY[name].options) or "none"
        raise TypeError(f"recipe {name!r} takes no option {unknown}; its options: {takes}.")
    from . import _recipes

    return getattr(_recipes, name)(
        fast=fast, random_state=random_state, verbose=verbose, device=device, **options
    )
