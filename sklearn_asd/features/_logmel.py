"""Log-mel spectrograms of clips."""

import sys
from numbers import Integral, Real

import librosa
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import as_float_waveforms


class LogMel(TransformerMixin, BaseEstimator):
    """Log-mel spectrogram of each clip: (n_clips, n_samples) -> (n_clips, n_mels, n_frames).

    With ``log="db"`` the output equals, clip for clip,
    ``librosa.power_to_db(librosa.feature.melspectrogram(y=clip, sr=sr, n_fft=n_fft,
    hop_length=hop_length, win_length=win_length, window=window, center=center,
    power=power, n_mels=n_mels, fmin=fmin, fmax=fmax), ref=1.0, amin=amin, top_db=None)``.

    Parameters
    ----------
    sr : int, default=16000
        Sampling rate of the clips.
    n_fft : int, default=1024
        FFT length (64 ms at 16 kHz, as the DCASE baselines).
    hop_length : int, default=512
        Hop between frames in samples.
    win_length : int or None, default=None
        Window length; ``None`` means ``n_fft``.
    window : str, default="hann"
        Window function (any that ``scipy.signal.get_window`` knows).
    n_mels : int, default=128
        Number of mel bands.
    fmin : float, default=0.0
        Lowest frequency of the filterbank.
    fmax : float or None, default=None
        Highest frequency; ``None`` means ``sr / 2``.
    power : float, default=2.0
        Exponent of the magnitude spectrogram (2 = power, 1 = magnitude).
    log : {"db", "dcase"} or None, default="db"
        ``"db"``: ``10 * log10(max(mel, amin))`` (librosa's ``power_to_db`` with
        ``ref=1``, no ``top_db``); ``"dcase"``: the DCASE baseline form
        ``20 / power * log10(mel + eps)``; ``None``: mel power, no log.
    amin : float, default=1e-10
        Floor of ``"db"``.
    center : bool, default=True
        Pad the clip by ``n_fft // 2`` zeros on both sides so that frame ``t`` is
        centred on sample ``t * hop_length``.

    Attributes
    ----------
    n_features_in_ : int
        Samples per clip seen in ``fit``.
    n_frames_ : int
        Frames per output spectrogram.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.features import LogMel
    >>> X = np.random.RandomState(0).normal(size=(2, 16000)).astype(np.float32)
    >>> LogMel(n_mels=64).fit_transform(X).shape
    (2, 64, 32)
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "win_length": [Interval(Integral, 1, None, closed="left"), None],
        "window": [str, tuple],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "power": [Interval(Real, 0, None, closed="neither")],
        "log": [StrOptions({"db", "dcase"}), None],
        "amin": [Interval(Real, 0, None, closed="neither")],
        "center": ["boolean"],
    }

    def __init__(
        self,
        sr=16000,
        *,
        n_fft=1024,
        hop_length=512,
        win_length=None,
        window="hann",
        n_mels=128,
        fmin=0.0,
        fmax=None,
        power=2.0,
        log="db",
        amin=1e-10,
        center=True,
    ):
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.power = power
        self.log = log
        self.amin = amin
        self.center = center

    def _check_waveforms(self, X, reset):
        X = validate_data(
            self, as_float_waveforms(X), reset=reset, dtype=(np.float32, np.float64), ensure_min_features=1
        )
        n_samples = X.shape[1]
        if not self.center and n_samples < self.n_fft:
            raise ValueError(
                f"clips of {n_samples} samples are shorter than n_fft={self.n_fft}; with "
                "center=False no frame fits. Use longer clips, a smaller n_fft, or center=True."
            )
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the clips and parameters; a spectrogram learns nothing.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Waveforms; integer PCM is scaled to [-1, 1).
        y : None
            Ignored.
        """
        X = self._check_waveforms(X, reset=True)
        fmax = self.sr / 2 if self.fmax is None else self.fmax
        if not self.fmin < fmax <= self.sr / 2:
            raise ValueError(f"need fmin < fmax <= sr / 2, got fmin={self.fmin}, fmax={fmax}, sr={self.sr}.")
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ValueError(f"win_length={self.win_length} exceeds n_fft={self.n_fft}.")
        n = X.shape[1]
        self.n_frames_ = 1 + (n if self.center else n - self.n_fft) // self.hop_length
        return self

    def transform(self, X):
        """Log-mel spectrograms of the clips.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)

        Returns
        -------
        S : ndarray of shape (n_clips, n_mels, n_frames), float32
        """
        check_is_fitted(self)
        X = self._check_waveforms(X, reset=False)
        mel = librosa.feature.melspectrogram(
            y=np.asarray(X, dtype=np.float32),
            sr=self.sr,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            center=self.center,
            pad_mode="constant",
            power=self.power,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
        )
        if self.log == "db":
            mel = librosa.power_to_db(mel, ref=1.0, amin=self.amin, top_db=None)
        elif self.log == "dcase":
            mel = 20.0 / self.power * np.log10(mel + sys.float_info.epsilon)
        return np.ascontiguousarray(mel, dtype=np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
