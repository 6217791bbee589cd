"""Input checks shared by the feature transformers."""

import numpy as np
from scipy import sparse


def as_float_waveforms(X):
    """Return ``X`` as a float array, with integer PCM scaled to [-1, 1).

    Integer input is taken to be PCM samples, as read from a WAV file without
    conversion, and divided by ``2 ** (bits - 1)`` (32768 for int16), the
    convention of soundfile and librosa. Floats pass through unchanged.
    """
    if sparse.issparse(X):
        return X  # validate_data rejects it with scikit-learn's message
    X = np.asarray(X)
    if X.dtype.kind in "iu":
        bits = X.dtype.itemsize * 8
        scale = 2.0 ** (bits - 1)
        offset = scale if X.dtype.kind == "u" else 0.0  # unsigned PCM is centred on 2**(bits-1)
        return ((X.astype(np.float64) - offset) / scale).astype(np.float32)
    if X.dtype.kind == "b":
        raise ValueError("waveforms must be numbers, got a boolean array.")
    return X
