"""The published systems and the official baselines, as unfitted pipelines (``fast=True`` for demos)."""

from ._recipes import (
    GIRI_MACHINE_TABLE,
    RECIPES,
    USES_OUTLIERS,
    dcase_autoencoder,
    dcase_mobilenetv2,
    giri2020,
    hai2024,
    hai2024_dual_branch,
    hai2024_oevae,
    kazakova2022,
    kazakova2022_classifier,
    make_recipe,
    morita2021,
    team42_sepstgram,
)

__all__ = [
    "GIRI_MACHINE_TABLE",
    "RECIPES",
    "USES_OUTLIERS",
    "dcase_autoencoder",
    "dcase_mobilenetv2",
    "giri2020",
    "hai2024",
    "hai2024_dual_branch",
    "hai2024_oevae",
    "kazakova2022",
    "kazakova2022_classifier",
    "make_recipe",
    "morita2021",
    "team42_sepstgram",
]
