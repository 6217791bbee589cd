"""Stacking consecutive frames, as the DCASE autoencoder baseline does."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data


def _windows(S, n_frames, hop):
    """(n_clips, F, T) -> a view (n_clips, F, T', n_frames) of every window of frames."""
    return np.lib.stride_tricks.sliding_window_view(S, n_frames, axis=2)[:, :, ::hop]


def stack_frames(S, n_frames, hop=1):
    """(n_clips, F, T) -> (n_clips, T', n_frames * F): the DCASE baseline's vectors, one per row.

    The layout the frame-vector detectors train on; :class:`FrameStack` gives the same vectors
    with time last. Element ``t * F + f`` of vector ``v`` is feature ``f`` of frame ``v * hop + t``.
    """
    windows = _windows(S, n_frames, hop)
    n, f, t, _ = windows.shape
    return np.ascontiguousarray(windows.transpose(0, 2, 3, 1)).reshape(n, t, n_frames * f)


class FrameStack(TransformerMixin, BaseEstimator):
    """Concatenate ``n_frames`` consecutive frames: (n_clips, F, T) -> (n_clips, n_frames * F, T').

    The input vectors of the DCASE autoencoder baseline: 5 consecutive 128-band log-mel frames
    make one 640-d vector, for every start frame (``hop=1``). Element ``t * F + f`` of vector
    ``v`` is feature ``f`` of frame ``v * hop + t``, the baseline's order. Each clip stays one
    row; time stays the last axis (``T' = (T - n_frames) // hop + 1``), so :class:`Pool` and the
    frame-level models read it like any spectrogram.

    Parameters
    ----------
    n_frames : int, default=5
        Frames per vector.
    hop : int, default=1
        Frames between the starts of consecutive vectors.

    See Also
    --------
    Pool : one vector per clip instead.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.features import FrameStack
    >>> S = np.arange(12.0).reshape(1, 2, 6)   # 2 features, 6 frames
    >>> FrameStack(n_frames=2, hop=2).fit_transform(S)[0]
    array([[ 0.,  2.,  4.],
           [ 6.,  8., 10.],
           [ 1.,  3.,  5.],
           [ 7.,  9., 11.]])
    """

    _parameter_constraints = {
        "n_frames": [Interval(Integral, 1, None, closed="left")],
        "hop": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_frames=5, *, hop=1):
        self.n_frames = n_frames
        self.hop = hop

    def _check(self, X, reset):
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype=(np.float32, np.float64))
        two_d = X.ndim == 2
        if two_d:
            X = X[:, None, :]  # one feature per frame
        if X.ndim != 3:
            raise ValueError(f"FrameStack expects (n_clips, n_features, n_frames), got shape {X.shape}.")
        if X.shape[2] < self.n_frames:
            detail = f" (a 2-D input has n_features = {X.shape[2]} frames)" if two_d else ""
            raise ValueError(f"clips have {X.shape[2]} frames{detail}, fewer than n_frames={self.n_frames}.")
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the input shape."""
        self._check(X, reset=True)
        return self

    def transform(self, X):
        """Stacked frames, shape (n_clips, n_frames * n_features, n_vectors)."""
        check_is_fitted(self)
        X = self._check(X, reset=False)
        n, f, _ = X.shape
        # (n, F, T', n_frames) -> (n, n_frames, F, T') -> (n, n_frames * F, T'): stack_frames' vectors
        windows = _windows(X, self.n_frames, self.hop).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(windows).reshape(n, self.n_frames * f, -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
