"""Anomaly detectors (OutlierMixin) on clip embeddings."""

from ._base import BaseDetector
from ._knn import KNNDetector

__all__ = ["BaseDetector", "KNNDetector"]
