"""Neural embedders (skorch + PyTorch): clips in, one embedding per clip out."""

from ._classifier import OUTLIER_CLASS, ClassifierEmbedder, ClassifierModule, PatchDataset

__all__ = ["OUTLIER_CLASS", "ClassifierEmbedder", "ClassifierModule", "PatchDataset"]
