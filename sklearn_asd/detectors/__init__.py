"""Anomaly detectors (OutlierMixin) on clip embeddings (n_clips, n_features).

All follow scikit-learn's signs (``score_samples``/``decision_function`` higher = more
normal, ``predict`` +1/-1) and add ``anomaly_score`` (higher = more anomalous);
``section`` and ``domain`` reach them by metadata routing (docs/design.md).
"""

from ._autoencoder import AutoEncoderDetector, OutlierExposureLoss
from ._base import BaseDetector
from ._domain import DomainAwareDetector
from ._domain_knn import DomainKNNDetector
from ._ensemble import StandardizedEnsemble
from ._kmeans import KMeansCosineDetector
from ._knn import KNNDetector
from ._lof import LOFDetector
from ._made import GroupMADE, GroupMADEDetector
from ._mahalanobis import MahalanobisDetector
from ._oevae import OEVAE
from ._rescaled import RescaledKNNDetector
from ._softmax import SoftmaxScore

__all__ = [
    "AutoEncoderDetector",
    "BaseDetector",
    "DomainAwareDetector",
    "DomainKNNDetector",
    "GroupMADE",
    "GroupMADEDetector",
    "KMeansCosineDetector",
    "KNNDetector",
    "LOFDetector",
    "MahalanobisDetector",
    "OEVAE",
    "OutlierExposureLoss",
    "RescaledKNNDetector",
    "SoftmaxScore",
    "StandardizedEnsemble",
]
