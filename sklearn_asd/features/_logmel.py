"""Log-mel spectrograms of clips."""

import sys
from numbers import Integral, Real

import librosa
import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import ClipTransformer
from ._pool import _STATS
from ._spectral import (
    BandedProduct,
    frame_spectra_numpy,
    frame_spectra_torch,
    magnitude_power,
    n_frames,
    stft_window,
)


class LogMel(ClipTransformer):
    """Log-mel spectrogram of each clip: (n_clips, n_samples) -> (n_clips, n_mels, n_frames).

    With ``pool``, each clip's spectrogram is pooled over time as soon as it is computed
    (what :class:`Pool` after it gives, to the bit), so that no more than a chunk of
    spectrograms is ever held: the memory of featurizing a lazy :class:`AudioReader`'s files
    is then flat in their number.

    With ``log="db"`` the output equals, clip for clip,
    ``librosa.power_to_db(librosa.feature.melspectrogram(y=clip, sr=sr, n_fft=n_fft,
    hop_length=hop_length, win_length=win_length, window=window, center=center,
    power=power, n_mels=n_mels, fmin=fmin, fmax=fmax), ref=1.0, amin=amin, top_db=None)``
    (``pad_mode="constant"``, librosa's default) within 1e-3 dB wherever that value is within
    80 dB of the clip's maximum, and it is several times faster:
    frames are transformed in float32, chunks of ``batch_size`` clips run on ``n_jobs``
    threads, and on a GPU (``device="auto"`` finds it) the work runs in torch.
    ``benchmarks/bench_features.py`` measures both claims.

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
    window : str or tuple, default="hann"
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
    device : {"auto", "cpu"} or str, default="auto"
        ``"auto"`` uses CUDA when torch sees a GPU; ``"cuda:1"`` picks one.
    batch_size : int, default=8
        Clips per chunk: peak memory is the output plus a few chunks.
    n_jobs : int or None, default=-1
        Threads working on chunks on the CPU (-1: all cores; ``None``: one).
    verbose : int, default=0
        ``1``: a tqdm bar over the clips while featurizing; ``0``: silent.
    pool : {"mean", "std", "max", "mean+std", "mean+max"} or None, default=None
        Pool each spectrogram over time, chunk by chunk: the output is then
        (n_clips, n_mels x n_statistics), equal to ``Pool(pool)`` applied after, without the
        spectrograms of every clip in memory. ``None``: the spectrograms.

    Attributes
    ----------
    n_features_in_ : int
        Samples per clip seen in ``fit``.
    n_frames_ : int
        Frames per output spectrogram.
    mel_basis_ : ndarray of shape (n_mels, n_fft // 2 + 1)
        librosa's mel filterbank, built once in ``fit``.

    See Also
    --------
    STFT : the linear-frequency spectrogram.
    Pool : one vector per clip from the frames.
    FrameStack : vectors of consecutive frames.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.features import LogMel
    >>> X = np.random.RandomState(0).normal(size=(2, 16000)).astype(np.float32)
    >>> LogMel(n_mels=64).fit_transform(X).shape
    (2, 64, 32)
    """

    _parameter_constraints = {
        **ClipTransformer._clip_constraints,
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
        "pool": [StrOptions(set(_STATS)), None],
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
        device="auto",
        batch_size=8,
        n_jobs=-1,
        verbose=0,
        pool=None,
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
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.pool = pool

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the clips and parameters and build the mel filterbank.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples) or ClipFiles
            Waveforms; integer PCM is scaled to [-1, 1).
        y : None
            Ignored.
        """
        X = self._validate_clips(X, reset=True)
        fmax = self.sr / 2 if self.fmax is None else self.fmax
        if not self.fmin < fmax <= self.sr / 2:
            raise ValueError(f"need fmin < fmax <= sr / 2, got fmin={self.fmin}, fmax={fmax}, sr={self.sr}.")
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ValueError(f"win_length={self.win_length} exceeds n_fft={self.n_fft}.")
        self.n_frames_ = n_frames(X.shape[1], self.n_fft, self.hop_length, self.center)
        self.mel_basis_ = librosa.filters.mel(
            sr=self.sr, n_fft=self.n_fft, n_mels=self.n_mels, fmin=self.fmin, fmax=self.fmax, dtype=np.float32
        )
        # the same product, skipping the zeros of the filterbank (CPU path)
        self._mel_product = BandedProduct(self.mel_basis_)
        self._engine()
        return self

    def _log(self, mel, xp):
        if self.log == "db":
            return 10.0 * xp.log10(xp.maximum(mel, self.amin) if xp is np else mel.clamp(min=self.amin))
        if self.log == "dcase":
            return 20.0 / self.power * xp.log10(mel + sys.float_info.epsilon)
        return mel

    def _log_inplace(self, mel):
        """``_log`` of a float32 numpy array in its own memory, through the natural log.

        float32 ``np.log`` runs 3x faster than ``np.log10`` here; ``10 log10 x = (10 / ln 10) ln x``
        differs from it by < 1e-5 dB (benchmarks/bench_features.py checks librosa equality).
        """
        if self.log == "db":
            np.maximum(mel, self.amin, out=mel)
            scale = 10.0
        elif self.log == "dcase":
            mel += sys.float_info.epsilon
            scale = 20.0 / self.power
        else:
            return mel
        np.log(mel, out=mel)
        mel *= np.float32(scale / np.log(10.0))
        return mel

    def _compute_numpy(self, x):
        z = frame_spectra_numpy(x, self.n_fft, self.hop_length, self._window(), self.center)
        mel = self._mel_product(magnitude_power(z, self.power))  # (b, frames, n_mels)
        return self._log_inplace(mel).transpose(0, 2, 1)

    def _compute_torch(self, x, device):
        import torch

        with torch.inference_mode():
            z = frame_spectra_torch(x, self.n_fft, self.hop_length, self._window(), self.center, device)
            mel = magnitude_power(z, self.power) @ torch.as_tensor(self.mel_basis_.T, device=device)
            return self._log(mel, torch).transpose(1, 2).cpu().numpy()

    def _window(self):
        return stft_window(self.window, self.win_length, self.n_fft)

    def transform(self, X):
        """Log-mel spectrograms of the clips.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples) or ClipFiles

        Returns
        -------
        S : ndarray of shape (n_clips, n_mels, n_frames), float32
            Or, with ``pool``, of shape (n_clips, n_mels x n_statistics).
        """
        check_is_fitted(self)
        X = self._validate_clips(X, reset=False)
        if self.pool is None:
            return self._map(X, (self.n_mels, self.n_frames_))
        stats = _STATS[self.pool]
        return self._map(
            X,
            (self.n_mels * len(stats),),
            # on the stored layout (contiguous frames), as Pool sees it: the same sums, to the bit
            post=lambda S: np.concatenate([f(np.ascontiguousarray(S), axis=-1) for f in stats], axis=1),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
