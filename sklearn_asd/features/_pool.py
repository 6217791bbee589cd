"""Pooling of frame-wise features into one vector per clip."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

_STATS = {
    "mean": (np.mean,),
    "std": (np.std,),
    "max": (np.max,),
    "mean+std": (np.mean, np.std),
    "mean+max": (np.mean, np.max),
}


class Pool(TransformerMixin, BaseEstimator):
    """Pool features over time: (n_clips, ..., n_frames) -> (n_clips, n_features).

    Turns a spectrogram per clip into a vector per clip for the classic
    detectors: the statistic over the last (time) axis, the other axes
    flattened. ``"mean+std"`` concatenates both.

    Parameters
    ----------
    stat : {"mean", "std", "max", "mean+std", "mean+max"}, default="mean"
        The statistic(s) over time.

    Attributes
    ----------
    n_features_in_ : int
        Size of the second axis seen in ``fit``.

    See Also
    --------
    FrameStack : keeps the frames, stacked into vectors.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.features import Pool
    >>> S = np.arange(12, dtype=float).reshape(1, 2, 6)
    >>> Pool("mean+max").fit_transform(S)
    array([[ 2.5,  8.5,  5. , 11. ]])
    """

    _parameter_constraints = {"stat": [StrOptions(set(_STATS))]}

    def __init__(self, stat="mean"):
        self.stat = stat

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the input shape."""
        X = validate_data(self, X, allow_nd=True, dtype=(np.float64, np.float32))
        self.input_shape_ = X.shape[1:]
        return self

    def transform(self, X):
        """Pool each clip's features over the last axis."""
        check_is_fitted(self)
        X = validate_data(self, X, allow_nd=True, reset=False, dtype=(np.float64, np.float32))
        if X.shape[1:-1] != self.input_shape_[:-1]:
            raise ValueError(
                f"Pool was fitted on clips of shape {self.input_shape_} (features x time), "
                f"got {X.shape[1:]}; only the time axis may change."
            )
        flat = X.reshape(X.shape[0], -1, X.shape[-1]) if X.ndim > 2 else X[:, None, :]
        return np.concatenate([f(flat, axis=-1) for f in _STATS[self.stat]], axis=1)

    def get_feature_names_out(self, input_features=None):
        """``mean0``, ``mean1``, ..., then ``std0``, ...: statistic and feature index."""
        check_is_fitted(self)
        n = int(np.prod(self.input_shape_[:-1])) if len(self.input_shape_) > 1 else 1
        names = [f"{stat}{i}" for stat in self.stat.split("+") for i in range(n)]
        return np.array(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
