"""The published systems and the official baselines, as unfitted pipelines (``fast=True`` for demos).

The registry (``REGISTRY``, ``RECIPE_NAMES``, ``USES_OUTLIERS``, ``make_recipe``) imports no torch;
the recipe functions and ``RECIPES`` are imported on first use.
"""

from ._registry import (
    COMMON_OPTIONS,
    GIRI_MACHINE_TABLE,
    RECIPE_NAMES,
    REGISTRY,
    USES_OUTLIERS,
    RecipeInfo,
    make_recipe,
)

_FUNCTIONS = (*RECIPE_NAMES, "RECIPES")

__all__ = [
    "COMMON_OPTIONS",
    "GIRI_MACHINE_TABLE",
    "RECIPES",
    "RECIPE_NAMES",
    "REGISTRY",
    "USES_OUTLIERS",
    "RecipeInfo",
    "make_recipe",
    *RECIPE_NAMES,
]


def __getattr__(name):
    # the recipe functions build networks: their modules (and torch) load when one is asked for
    if name in _FUNCTIONS:
        from . import _recipes

        return getattr(_recipes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
