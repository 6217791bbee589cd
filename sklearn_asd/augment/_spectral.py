"""Augmentations of spectrogram clips: frequency warping and masking."""

from numbers import Integral, Real

import librosa
import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAugmenter, derived_label


def warp_positions(n_bins, alpha, *, scale="mel", sr=16000, fmin=0.0, fmax=None, htk=False):
    """Fractional source bin of each output bin for the warp ``f -> f_max * (f / f_max) ** alpha``.

    Content at frequency ``f`` moves to ``f_max * (f / f_max) ** alpha``, so output bin ``g``
    (centre frequency ``c``) reads the input at ``f_max * (c / f_max) ** (1 / alpha)``.
    ``scale="linear"``: bins equally spaced from 0 to the top bin (an STFT's Nyquist);
    ``scale="mel"``: the centres of librosa's mel filters between ``fmin`` and ``fmax``.
    """
    if scale == "linear":
        centres = np.arange(n_bins, dtype=float)
        f_max = float(n_bins - 1)
    else:
        f_max = sr / 2 if fmax is None else fmax
        centres = librosa.mel_frequencies(n_mels=n_bins + 2, fmin=fmin, fmax=f_max, htk=htk)[1:-1]
    source = f_max * (np.maximum(centres, 0.0) / f_max) ** (1.0 / alpha)
    return np.interp(source, centres, np.arange(n_bins, dtype=float))


def warp_frequency(S, positions):
    """Read ``S`` (n_clips, n_bins, n_frames) at fractional bins by linear interpolation."""
    lo = np.clip(np.floor(positions).astype(int), 0, S.shape[1] - 1)
    hi = np.minimum(lo + 1, S.shape[1] - 1)
    w = (positions - lo)[None, :, None]
    return S[:, lo, :] * (1.0 - w) + S[:, hi, :] * w


class SpectralWarp(BaseAugmenter):
    """Warp the frequency axis of spectrograms, ``f -> f_max * (f / f_max) ** alpha``, as new classes.

    Giri et al. (DCASE 2020) make the self-supervised section classification harder by
    adding, for every section, "perturbed" classes: each clip warped along frequency
    (image warping) with ``alpha = 0.95`` and ``1.05``. A network must then tell a real
    section from a slightly detuned copy of it, which sharpens the features anomalies
    disturb. Each warped copy is labelled ``"<class>|warp=<alpha>"``
    (``new_classes=True``) or keeps its class.

    Parameters
    ----------
    alphas : sequence of float, default=(0.95, 1.05)
        Warp exponents; one copy of every clip per value (1 is the identity).
    new_classes : bool, default=True
        Label copies as new classes derived from their source class.
    scale : {"mel", "linear"}, default="mel"
        Frequency axis of the input: mel bands (``LogMel``) or linear bins (``STFT``).
    sr, fmin, fmax, htk
        The mel axis (as given to ``LogMel``); ignored for ``"linear"``.
    keep_original : bool, default=True
        Keep the unwarped clips in the output.

    Attributes
    ----------
    synthetic_mask_, sample_indices_, classes_
        See :class:`BaseAugmenter`.

    See Also
    --------
    SpecMask : masked copies that keep their class.
    PitchShift : a shift of the waveform's pitch.

    References
    ----------
    R. Giri et al., "Self-supervised classification for detecting anomalous sounds",
    DCASE 2020 Workshop.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.augment import SpectralWarp
    >>> S = np.zeros((1, 64, 4)); S[0, 40] = 1.0          # a tone at linear bin 40
    >>> X, y = SpectralWarp(alphas=(0.9,), scale="linear").fit_resample(S, ["id_00"])
    >>> list(y), int(X[1, :, 0].argmax())                  # 63 * (40 / 63) ** 0.9 = 41.9
    (['id_00', 'id_00|warp=0.9'], 42)
    """

    _input = "spectrogram"
    _parameter_constraints = {
        "alphas": ["array-like"],
        "new_classes": ["boolean"],
        "scale": [StrOptions({"mel", "linear"})],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "htk": ["boolean"],
        "keep_original": ["boolean"],
    }

    def __init__(
        self,
        alphas=(0.95, 1.05),
        *,
        new_classes=True,
        scale="mel",
        sr=16000,
        fmin=0.0,
        fmax=None,
        htk=False,
        keep_original=True,
    ):
        self.alphas = alphas
        self.new_classes = new_classes
        self.scale = scale
        self.sr = sr
        self.fmin = fmin
        self.fmax = fmax
        self.htk = htk
        self.keep_original = keep_original

    def _augment(self, X, y, rng):
        alphas = np.asarray(self.alphas, dtype=float).ravel()
        if alphas.size == 0 or np.any(alphas <= 0):
            raise ValueError(f"alphas must be positive numbers, got {self.alphas!r}.")
        if self.new_classes and y.ndim == 2:
            raise ValueError(
                "SpectralWarp(new_classes=True) names new classes after hard labels; with soft labels "
                "(e.g. after Mixup) put SpectralWarp first, or pass new_classes=False."
            )
        copies, labels = [], []
        for alpha in alphas:
            kw = dict(scale=self.scale, sr=self.sr, fmin=self.fmin, fmax=self.fmax, htk=self.htk)
            copies.append(warp_frequency(X, warp_positions(X.shape[1], alpha, **kw)))
            if self.new_classes:
                labels.append(np.array([derived_label(c, f"warp={alpha:g}") for c in y], dtype=object))
            else:
                labels.append(y)
        parents = np.tile(np.arange(X.shape[0]), len(alphas))
        return np.concatenate(copies), np.concatenate(labels), parents


class SpecMask(BaseAugmenter):
    """Time and frequency masking (SpecAugment-style) as labelled copies.

    Each copy of a clip has ``n_freq_masks`` bands of up to ``max_freq_width`` bins and
    ``n_time_masks`` spans of up to ``max_time_width`` frames set to ``value`` (the
    clip's mean by default). Giri et al. found it did not help ASD; it is here to test
    that on other machines.

    Parameters
    ----------
    n_copies : int, default=1
        Masked copies per clip.
    max_freq_width, max_time_width : int, default=8
        Largest mask widths (0 disables that kind).
    n_freq_masks, n_time_masks : int, default=1
    value : "mean", "min" or float, default="mean"
        What masked cells become.
    new_classes : bool, default=False
        Label copies ``"<class>|mask"``.
    random_state : int, RandomState instance or None, default=None
    keep_original : bool, default=True

    See Also
    --------
    SpectralWarp : warped copies as new classes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.augment import SpecMask
    >>> X, y = SpecMask(n_copies=2, random_state=0).fit_resample(np.ones((3, 20, 30)), ["a", "b", "a"])
    >>> X.shape, list(y)
    ((9, 20, 30), ['a', 'b', 'a', 'a', 'b', 'a', 'a', 'b', 'a'])
    """

    _input = "spectrogram"
    _parameter_constraints = {
        "n_copies": [Interval(Integral, 1, None, closed="left")],
        "max_freq_width": [Interval(Integral, 0, None, closed="left")],
        "max_time_width": [Interval(Integral, 0, None, closed="left")],
        "n_freq_masks": [Interval(Integral, 0, None, closed="left")],
        "n_time_masks": [Interval(Integral, 0, None, closed="left")],
        "value": [StrOptions({"mean", "min"}), Real],
        "new_classes": ["boolean"],
        "random_state": ["random_state"],
        "keep_original": ["boolean"],
    }

    def __init__(
        self,
        n_copies=1,
        *,
        max_freq_width=8,
        max_time_width=8,
        n_freq_masks=1,
        n_time_masks=1,
        value="mean",
        new_classes=False,
        random_state=None,
        keep_original=True,
    ):
        self.n_copies = n_copies
        self.max_freq_width = max_freq_width
        self.max_time_width = max_time_width
        self.n_freq_masks = n_freq_masks
        self.n_time_masks = n_time_masks
        self.value = value
        self.new_classes = new_classes
        self.random_state = random_state
        self.keep_original = keep_original

    def _augment(self, X, y, rng):
        n, n_freq, n_time = X.shape
        out = np.tile(X, (self.n_copies, 1, 1))
        for clip in out:
            if self.value == "mean":
                fill = clip.mean()
            elif self.value == "min":
                fill = clip.min()
            else:
                fill = self.value
            for axis, size, width, count in (
                (0, n_freq, self.max_freq_width, self.n_freq_masks),
                (1, n_time, self.max_time_width, self.n_time_masks),
            ):
                for _ in range(count if width else 0):
                    w = rng.randint(0, min(width, size) + 1)
                    start = rng.randint(0, size - w + 1)
                    if axis == 0:
                        clip[start : start + w, :] = fill
                    else:
                        clip[:, start : start + w] = fill
        labels = np.tile(y, (self.n_copies,) + (1,) * (y.ndim - 1))
        if self.new_classes:
            if y.ndim == 2:
                raise ValueError("SpecMask(new_classes=True) needs hard labels, got class proportions.")
            labels = np.array([derived_label(c, "mask") for c in labels], dtype=object)
        return out, labels, np.tile(np.arange(n), self.n_copies)
