"""Input checks and parameters shared by the transformers that take waveforms."""

import functools
from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ..datasets import ClipFiles
from ._spectral import check_batching, map_clips, resolve_device


def as_float_waveforms(X):
    """Return ``X`` as a float array, with integer PCM scaled to [-1, 1).

    Integer input is taken to be PCM samples, as read from a WAV file without
    conversion, and divided by ``2 ** (bits - 1)`` (32768 for int16), the
    convention of soundfile and librosa. Floats pass through unchanged.
    """
    if sparse.issparse(X):
        return X  # validate_data rejects it with scikit-learn's message
    if isinstance(X, (list, tuple)) and X and all(np.ndim(x) == 1 for x in X):
        lengths = sorted({len(x) for x in X})
        if len(lengths) > 1:
            raise ValueError(
                f"the clips differ in length ({lengths[0]} to {lengths[-1]} samples): crop or pad them "
                "to one length, e.g. load_dcase(..., duration=10.0) or read_audio(..., duration=10.0)."
            )
    X = np.asarray(X)
    if X.dtype.kind in "iu":
        bits = X.dtype.itemsize * 8
        scale = 2.0 ** (bits - 1)
        offset = scale if X.dtype.kind == "u" else 0.0  # unsigned PCM is centred on 2**(bits-1)
        return ((X.astype(np.float64) - offset) / scale).astype(np.float32)
    if X.dtype.kind == "b":
        raise ValueError("waveforms must be numbers, got a boolean array.")
    return X


class ClipTransformer(TransformerMixin, BaseEstimator):
    """Base of the transformers whose input is one waveform per row.

    ``X`` is an array (n_clips, n_samples) or the :class:`ClipFiles` of a lazy
    :class:`AudioReader`; the clip length is fixed at ``fit``. Subclasses
    declare ``device``, ``batch_size``, ``n_jobs`` and ``verbose`` and process clips in
    chunks with :func:`map_clips`.
    """

    _clip_constraints = {
        "device": [StrOptions({"auto", "cpu"}), str],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def _min_samples(self):
        # without centring, a clip must hold one whole frame
        return self.n_fft if getattr(self, "center", True) is False else 1

    def _validate_clips(self, X, reset):
        if isinstance(X, ClipFiles):
            if reset:
                self.n_features_in_ = X.n_samples
            elif X.n_samples != self.n_features_in_:
                raise ValueError(
                    f"X has {X.n_samples} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
        else:
            X = validate_data(
                self,
                as_float_waveforms(X),
                reset=reset,
                dtype=(np.float32, np.float64),
                ensure_min_features=1,
            )
        if X.shape[1] < self._min_samples():
            raise ValueError(
                f"clips of {X.shape[1]} samples are shorter than n_fft={self.n_fft}; with center=False no "
                "frame fits. Use longer clips, a smaller n_fft, or center=True."
            )
        return X

    def _engine(self):
        check_batching(self.batch_size, self.n_jobs)
        return resolve_device(self.device)

    def _map(self, X, shape, dtype=np.float32, post=None):
        """Run ``_compute_numpy`` (CPU) or ``_compute_torch`` (CUDA) over chunks into one output.

        ``shape`` is the output shape of one clip; ``post`` maps each chunk's result (e.g. pools
        it over time) before it is stored, so that only the stored part is kept.
        """
        device = self._engine()
        out = np.empty((X.shape[0], *shape), dtype=dtype)
        fn = self._compute_numpy if device == "cpu" else functools.partial(self._compute_torch, device=device)
        if post is not None:
            compute = fn

            def fn(x):
                return post(compute(x))

        return map_clips(
            fn,
            X,
            out,
            batch_size=self.batch_size,
            n_jobs=self.n_jobs,
            device=device,
            progress=type(self).__name__ if self.verbose else None,
        )
