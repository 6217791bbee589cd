"""PyTorch modules of the embedders: backbones (patches -> embeddings) and heads (embeddings -> logits).

Plain ``torch.nn`` modules, written here (torchvision is not a dependency), so that any
backbone combines with any head in :mod:`sklearn_asd.embedders`.
"""

from ._dualbranch import DualBranchNet
from ._heads import (
    AdaCos,
    ArcFace,
    FeatEx,
    LinearHead,
    SubClusterAdaCos,
    kl_divergence,
    soft_cross_entropy,
)
from ._image import STFTImageNet
from ._mobilefacenet import MOBILEFACENET_SETTING, MobileFaceNet
from ._mobilenet import MOBILENETV2_SETTING, MobileNetV2
from ._multires import MultiResNet, SEBlock
from ._resnet import ResNet
from ._stgram import LogMelLayer, SepSTgramNet, STgramNet, TgramNet

__all__ = [
    "MOBILEFACENET_SETTING",
    "MOBILENETV2_SETTING",
    "AdaCos",
    "DualBranchNet",
    "FeatEx",
    "ArcFace",
    "LinearHead",
    "LogMelLayer",
    "MobileFaceNet",
    "MobileNetV2",
    "MultiResNet",
    "ResNet",
    "SEBlock",
    "STFTImageNet",
    "STgramNet",
    "SepSTgramNet",
    "SubClusterAdaCos",
    "TgramNet",
    "kl_divergence",
    "soft_cross_entropy",
]
