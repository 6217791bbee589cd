"""Fit-time augmentations as samplers (``fit_resample``), for imbalanced-learn pipelines and embedders.

In anomalous sound detection augmentations make the self-supervised task harder rather than
teach invariance: warped and mixed clips become new (or soft) classes. They change the number
of clips and the labels, so they act in ``fit`` only.
"""

from ._base import BaseAugmenter, SamplerPipeline, as_sampler
from ._mixup import Mixup
from ._smote import SMOTE
from ._spectral import SpecMask, SpectralWarp, warp_positions
from ._waveform import PitchShift, TimeStretch

__all__ = [
    "SMOTE",
    "BaseAugmenter",
    "Mixup",
    "PitchShift",
    "SamplerPipeline",
    "SpecMask",
    "SpectralWarp",
    "TimeStretch",
    "as_sampler",
    "warp_positions",
]
