"""Feature transformers: one clip in, one row out.

Waveform transformers (``LogMel``, ``STFT``, ``Spectrum``) take an array of clips or the
``ClipFiles`` of a lazy ``AudioReader``; ``FrameStack`` and ``Pool`` reshape spectrograms.
"""

from ._framing import FrameStack
from ._logmel import LogMel
from ._pool import Pool
from ._stft import STFT, Spectrum

__all__ = ["STFT", "FrameStack", "LogMel", "Pool", "Spectrum"]
