"""Neural embedders (skorch + PyTorch): clips in, one embedding per clip out."""

from ._classifier import ClassifierEmbedder, ClassifierModule, PatchDataset
from ._targets import OUTLIER_CLASS

__all__ = ["OUTLIER_CLASS", "ClassifierEmbedder", "ClassifierModule", "PatchDataset"]
