"""Augmentations of waveforms: time stretching and pitch shifting (librosa.effects)."""

from numbers import Integral

import librosa
import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import BaseAugmenter, derived_label


def _fit_length(x, n):
    """Crop or zero-pad the last axis to ``n`` samples."""
    if x.shape[-1] >= n:
        return x[..., :n]
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n - x.shape[-1])])


class _WaveformEffect(BaseAugmenter):
    _input = "waveform"

    def _copies(self, X, y, values, effect, tag):
        copies, labels = [], []
        for value in values:
            copies.append(_fit_length(effect(X, value), X.shape[1]))
            if self.new_classes:
                if y.ndim == 2:
                    raise ValueError(f"{type(self).__name__}(new_classes=True) needs hard labels.")
                labels.append(np.array([derived_label(c, f"{tag}={value:g}") for c in y], dtype=object))
            else:
                labels.append(y)
        return np.concatenate(copies), np.concatenate(labels), np.tile(np.arange(X.shape[0]), len(values))


class TimeStretch(_WaveformEffect):
    """Time-stretched copies of waveforms (``librosa.effects.time_stretch``), cropped or padded back.

    Parameters
    ----------
    rates : sequence of float, default=(0.9, 1.1)
        Stretch factors (above 1: faster); one copy per rate.
    new_classes : bool, default=False
        Label copies ``"<class>|stretch=<rate>"``.
    keep_original : bool, default=True

    See Also
    --------
    PitchShift : the other waveform effect.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.augment import TimeStretch
    >>> X = np.sin(np.linspace(0, 200, 8000))[None].astype(np.float32)
    >>> Xs, y = TimeStretch(rates=(0.8, 1.25)).fit_resample(X, ["id_00"])
    >>> Xs.shape, list(y)
    ((3, 8000), ['id_00', 'id_00', 'id_00'])
    """

    _parameter_constraints = {
        "rates": ["array-like"],
        "new_classes": ["boolean"],
        "keep_original": ["boolean"],
    }

    def __init__(self, rates=(0.9, 1.1), *, new_classes=False, keep_original=True):
        self.rates = rates
        self.new_classes = new_classes
        self.keep_original = keep_original

    def _augment(self, X, y, rng):
        rates = np.asarray(self.rates, dtype=float).ravel()
        if rates.size == 0 or np.any(rates <= 0):
            raise ValueError(f"rates must be positive numbers, got {self.rates!r}.")
        return self._copies(X, y, rates, lambda x, r: librosa.effects.time_stretch(x, rate=r), "stretch")


class PitchShift(_WaveformEffect):
    """Pitch-shifted copies of waveforms (``librosa.effects.pitch_shift``), same length.

    Kazakova et al. (DCASE 2022) augment with pitch shift, then time stretch.

    Parameters
    ----------
    n_steps : sequence of float, default=(-1.0, 1.0)
        Shifts in fractions of an octave (``bins_per_octave`` steps per octave).
    sr : int, default=16000
        Sampling rate of the clips.
    bins_per_octave : int, default=12
    new_classes : bool, default=False
        Label copies ``"<class>|pitch=<steps>"``.
    keep_original : bool, default=True

    See Also
    --------
    TimeStretch : the other waveform effect.
    SpectralWarp : a warp of the spectrogram's frequency axis.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.augment import PitchShift
    >>> X = np.sin(2 * np.pi * 440 * np.arange(8000) / 16000)[None]
    >>> Xs, y = PitchShift(n_steps=(12,), new_classes=True).fit_resample(X, ["id_00"])
    >>> list(y), round(float(np.abs(np.fft.rfft(Xs[1])).argmax() * 16000 / 8000))   # one octave up
    (['id_00', 'id_00|pitch=12'], 880)
    """

    _parameter_constraints = {
        "n_steps": ["array-like"],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "bins_per_octave": [Interval(Integral, 1, None, closed="left")],
        "new_classes": ["boolean"],
        "keep_original": ["boolean"],
    }

    def __init__(
        self, n_steps=(-1.0, 1.0), *, sr=16000, bins_per_octave=12, new_classes=False, keep_original=True
    ):
        self.n_steps = n_steps
        self.sr = sr
        self.bins_per_octave = bins_per_octave
        self.new_classes = new_classes
        self.keep_original = keep_original

    def _augment(self, X, y, rng):
        steps = np.asarray(self.n_steps, dtype=float).ravel()
        if steps.size == 0:
            raise ValueError("n_steps must hold at least one shift.")

        def shift(x, s):
            return librosa.effects.pitch_shift(x, sr=self.sr, n_steps=s, bins_per_octave=self.bins_per_octave)

        return self._copies(X, y, steps, shift, "pitch")
