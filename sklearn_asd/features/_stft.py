"""Short-time Fourier transforms and whole-clip spectra."""

from numbers import Integral, Real

import numpy as np
import scipy.fft
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import ClipTransformer
from ._spectral import (
    frame_spectra_numpy,
    frame_spectra_torch,
    magnitude_power,
    n_frames,
    stft_window,
)

_KINDS = ("power", "magnitude", "phase", "complex")


def _finish(z, kind, log, amin, xp):
    """Turn complex spectra into the requested kind (numpy or torch)."""
    if kind == "complex":
        return z
    if kind == "phase":
        return xp.angle(z)
    value = magnitude_power(z, 2.0 if kind == "power" else 1.0)
    if log != "db":
        return value
    # dB of the power, floored at amin in the power domain (20 log10 |z| for magnitudes)
    power = value if kind == "power" else value * value
    floored = xp.maximum(power, amin) if xp is np else power.clamp(min=amin)
    return 10.0 * xp.log10(floored)


class STFT(ClipTransformer):
    """Short-time Fourier transform of each clip: (n_clips, n_samples) -> (n_clips, n_fft // 2 + 1, n_frames).

    Equal to ``librosa.stft(clip, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
    window=window, center=center)`` (``pad_mode="constant"``) for ``kind="complex"``, and to its
    power (``|.|**2``), magnitude or phase (``np.angle``) otherwise. These are the spectrogram
    inputs of the seeds: 128 ms frames with a 32 ms hop (``n_fft=2048, hop_length=512`` at
    16 kHz) cut into 32-frame units, and the phase branch of the three-branch systems.

    Parameters
    ----------
    n_fft : int, default=1024
        Frame length and FFT size.
    hop_length : int, default=512
        Hop between frames.
    win_length : int or None, default=None
        Window length (zero-padded to ``n_fft``); ``None`` means ``n_fft``.
    window : str or tuple, default="hann"
        Window function.
    center : bool, default=True
        Pad ``n_fft // 2`` zeros at both ends, as librosa does.
    kind : {"power", "magnitude", "phase", "complex"}, default="power"
        What to return; ``"complex"`` gives complex64, the others float32.
    log : {"db"} or None, default=None
        ``"db"``: ``10 * log10(max(power, amin))`` for ``"power"`` and
        ``"magnitude"`` (the same decibels: ``20 log10`` of the magnitude, i.e.
        ``librosa.amplitude_to_db(mag, ref=1, amin=sqrt(amin), top_db=None)``).
        Not for ``"phase"`` or ``"complex"``.
    amin : float, default=1e-10
        Floor of the power in ``"db"``.
    device, batch_size, n_jobs, verbose
        As in :class:`LogMel`.

    Attributes
    ----------
    n_features_in_ : int
        Samples per clip.
    n_frames_ : int
        Frames per output.

    See Also
    --------
    LogMel : the mel-band spectrogram.
    Spectrum : the whole clip's magnitude spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.features import STFT
    >>> X = np.random.RandomState(0).normal(size=(2, 16000)).astype(np.float32)
    >>> STFT(n_fft=2048, hop_length=512, kind="phase").fit_transform(X).shape
    (2, 1025, 32)
    """

    _parameter_constraints = {
        **ClipTransformer._clip_constraints,
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "win_length": [Interval(Integral, 1, None, closed="left"), None],
        "window": [str, tuple],
        "center": ["boolean"],
        "kind": [StrOptions(set(_KINDS))],
        "log": [StrOptions({"db"}), None],
        "amin": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        n_fft=1024,
        *,
        hop_length=512,
        win_length=None,
        window="hann",
        center=True,
        kind="power",
        log=None,
        amin=1e-10,
        device="auto",
        batch_size=8,
        n_jobs=-1,
        verbose=0,
    ):
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.kind = kind
        self.log = log
        self.amin = amin
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the clips and parameters."""
        X = self._validate_clips(X, reset=True)
        if self.log is not None and self.kind in ("phase", "complex"):
            raise ValueError(f"log={self.log!r} applies to power and magnitude, not to kind={self.kind!r}.")
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ValueError(f"win_length={self.win_length} exceeds n_fft={self.n_fft}.")
        self.n_frames_ = n_frames(X.shape[1], self.n_fft, self.hop_length, self.center)
        self._engine()
        return self

    def _compute_numpy(self, x):
        window = stft_window(self.window, self.win_length, self.n_fft)
        z = frame_spectra_numpy(x, self.n_fft, self.hop_length, window, self.center)
        return _finish(z, self.kind, self.log, self.amin, np).transpose(0, 2, 1)

    def _compute_torch(self, x, device):
        import torch

        window = stft_window(self.window, self.win_length, self.n_fft)
        with torch.inference_mode():
            z = frame_spectra_torch(x, self.n_fft, self.hop_length, window, self.center, device)
            return _finish(z, self.kind, self.log, self.amin, torch).transpose(1, 2).cpu().numpy()

    def transform(self, X):
        """Spectrograms of the clips, shape (n_clips, n_fft // 2 + 1, n_frames)."""
        check_is_fitted(self)
        X = self._validate_clips(X, reset=False)
        dtype = np.complex64 if self.kind == "complex" else np.float32
        return self._map(X, (self.n_fft // 2 + 1, self.n_frames_), dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class Spectrum(ClipTransformer):
    """Spectrum of the whole clip: (n_clips, n_samples) -> (n_clips, n_fft // 2 + 1).

    The FFT-magnitude branch of the dual-branch embedders: ``np.abs(np.fft.rfft(clip, n=n_fft))``
    (or its power, optionally in dB), one vector per clip.

    Parameters
    ----------
    n_fft : int or None, default=None
        FFT length; ``None`` uses the clip length. Shorter clips are
        zero-padded, longer ones cropped, as ``np.fft.rfft(n=...)`` does.
    kind : {"magnitude", "power"}, default="magnitude"
    log : {"db"} or None, default=None
        ``10 * log10(max(power, amin))``, as in :class:`STFT`.
    amin : float, default=1e-10
    window : str, tuple or None, default=None
        Window applied to the clip before the FFT; ``None``: none (rectangular).
    device, batch_size, n_jobs, verbose
        As in :class:`LogMel`.

    See Also
    --------
    STFT : the spectrogram of short windows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.features import Spectrum
    >>> Spectrum().fit_transform(np.ones((1, 8), dtype=np.float32))
    array([[8., 0., 0., 0., 0.]], dtype=float32)
    """

    _parameter_constraints = {
        **ClipTransformer._clip_constraints,
        "n_fft": [Interval(Integral, 2, None, closed="left"), None],
        "kind": [StrOptions({"magnitude", "power"})],
        "log": [StrOptions({"db"}), None],
        "amin": [Interval(Real, 0, None, closed="neither")],
        "window": [str, tuple, None],
    }

    def __init__(
        self,
        n_fft=None,
        *,
        kind="magnitude",
        log=None,
        amin=1e-10,
        window=None,
        device="auto",
        batch_size=8,
        n_jobs=-1,
        verbose=0,
    ):
        self.n_fft = n_fft
        self.kind = kind
        self.log = log
        self.amin = amin
        self.window = window
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the clips; the FFT length defaults to their length."""
        X = self._validate_clips(X, reset=True)
        self.n_fft_ = X.shape[1] if self.n_fft is None else self.n_fft
        self._engine()
        return self

    def _prepare(self, x):
        n = min(x.shape[1], self.n_fft_)
        x = x[:, :n]
        if self.window is not None:
            x = x * stft_window(self.window, n, n)
        return x

    def _compute_numpy(self, x):
        z = scipy.fft.rfft(self._prepare(x), n=self.n_fft_, axis=-1)
        return _finish(z, self.kind, self.log, self.amin, np)

    def _compute_torch(self, x, device):
        import torch

        with torch.inference_mode():
            z = torch.fft.rfft(torch.as_tensor(self._prepare(x), device=device), n=self.n_fft_, dim=-1)
            return _finish(z, self.kind, self.log, self.amin, torch).cpu().numpy()

    def transform(self, X):
        """Spectra of the clips, shape (n_clips, n_fft // 2 + 1), float32."""
        check_is_fitted(self)
        X = self._validate_clips(X, reset=False)
        return self._map(X, (self.n_fft_ // 2 + 1,))

    def get_feature_names_out(self, input_features=None):
        """``spectrum0`` ... one name per frequency bin."""
        check_is_fitted(self)
        return np.array([f"spectrum{k}" for k in range(self.n_fft_ // 2 + 1)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
