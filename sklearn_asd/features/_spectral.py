"""The spectral engine behind the feature transformers: chunked, threaded, CPU or CUDA.

CPU path: strided framing, a float32 real FFT (scipy's pocketfft; numpy's runs
in float64) and BLAS products, over chunks of clips on a thread pool.
CUDA path: the same steps in torch. Both write into one preallocated output, so
peak memory is the output plus a few chunks of intermediates.
"""

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral

import librosa
import numpy as np
import scipy.fft
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from ..datasets import ClipFiles
from ..utils import resolve_device  # noqa: F401  (re-exported for the feature steps)
from ..utils._persistence import safe_to_load


@functools.lru_cache(maxsize=32)
def _window(window, win_length, n_fft):
    win = librosa.filters.get_window(window, win_length, fftbins=True)
    return librosa.util.pad_center(win, size=n_fft).astype(np.float32)


def stft_window(window, win_length, n_fft):
    """librosa's analysis window, centred and zero-padded to ``n_fft`` (cached)."""
    window = tuple(window) if isinstance(window, list) else window
    return _window(window, n_fft if win_length is None else win_length, n_fft)


def n_frames(n_samples, n_fft, hop_length, center):
    """Frames of librosa.stft for a clip of ``n_samples``."""
    if center:
        return 1 + n_samples // hop_length
    return 1 + (n_samples - n_fft) // hop_length


def frame_spectra_numpy(x, n_fft, hop_length, window, center):
    """Complex64 spectra of the frames of float32 clips ``x`` (b, n) -> (b, frames, n_fft // 2 + 1)."""
    if center:
        x = np.pad(x, ((0, 0), (n_fft // 2, n_fft // 2)))
    x = np.ascontiguousarray(x, dtype=np.float32)
    count = 1 + (x.shape[1] - n_fft) // hop_length
    s0, s1 = x.strides
    frames = np.lib.stride_tricks.as_strided(x, (x.shape[0], count, n_fft), (s0, s1 * hop_length, s1))
    return scipy.fft.rfft(frames * window, axis=-1)


def frame_spectra_torch(x, n_fft, hop_length, window, center, device):
    """The same as :func:`frame_spectra_numpy`, as a torch tensor on ``device``."""
    import torch

    x = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32), device=device)
    if center:
        x = torch.nn.functional.pad(x, (n_fft // 2, n_fft // 2))
    frames = x.unfold(-1, n_fft, hop_length) * torch.as_tensor(window, device=device)
    return torch.fft.rfft(frames, dim=-1)


@safe_to_load
class BandedProduct:
    """``P @ W.T`` for a filterbank ``W`` (n_out, n_in) whose rows cover narrow ranges of ``n_in``.

    A mel filterbank is almost all zeros: each triangle spans a few FFT bins. The
    rows are cut into ``n_groups`` consecutive groups and each group multiplies
    only the columns where it is non-zero: about a tenth of the dense product's
    work, with the same result up to float rounding (sums in another order).
    """

    def __init__(self, W, n_groups=8):
        W = np.asarray(W, dtype=np.float32)
        self.n_out = W.shape[0]
        self.groups = []
        for rows in np.array_split(np.arange(self.n_out), min(n_groups, self.n_out)):
            cols = np.flatnonzero(np.any(W[rows] != 0, axis=0))
            if cols.size:  # all-zero rows (empty mel filters) stay zero
                lo, hi = int(cols[0]), int(cols[-1]) + 1
                self.groups.append(
                    (int(rows[0]), int(rows[-1]) + 1, lo, hi, np.ascontiguousarray(W[rows, lo:hi].T))
                )

    def __call__(self, P):
        out = np.zeros(P.shape[:-1] + (self.n_out,), dtype=np.float32)
        for r0, r1, lo, hi, block in self.groups:
            np.matmul(P[..., lo:hi], block, out=out[..., r0:r1])
        return out


def magnitude_power(z, power):
    """``|z| ** power`` for numpy or torch complex arrays, without a square root when power is 2."""
    if power == 2.0:
        return z.real * z.real + z.imag * z.imag
    return abs(z) ** power


def _chunks(n, batch_size):
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def map_clips(fn, X, out, *, batch_size, n_jobs, device, progress=None):
    """Fill ``out[i]`` with ``fn(waveforms of clips i)`` chunk by chunk.

    ``progress``: a description for a tqdm bar over the clips (``None``: no bar).

    ``X`` is a float array (n_clips, n_samples) or a :class:`ClipFiles`; a
    chunk of files is read only when it is processed. On CPU the chunks run on
    ``n_jobs`` threads and BLAS is held to one thread: no oversubscription, and
    results that do not depend on ``n_jobs``, ``batch_size`` or the number of
    cores (a multi-threaded float32 GEMM sums in another order). On CUDA the
    chunks run one after another, the GPU being the parallel part.
    """
    slices = _chunks(len(X), batch_size)
    bar = tqdm(total=len(X), desc=progress, unit="clip", disable=progress is None, leave=False)

    def run(sl):
        waves = X.read(sl) if isinstance(X, ClipFiles) else X[sl]
        out[sl] = fn(np.asarray(waves, dtype=np.float32))
        bar.update(sl.stop - sl.start)

    try:
        return _map_chunks(run, slices, out, n_jobs, device)
    finally:
        bar.close()


def _map_chunks(run, slices, out, n_jobs, device):
    if device != "cpu":
        for sl in slices:
            run(sl)
        return out
    threads = min(n_threads(n_jobs), len(slices))
    with threadpool_limits(limits=1, user_api="blas"):
        if threads == 1:
            for sl in slices:
                run(sl)
        else:
            # The chunks write into ``out``: they need shared memory, i.e. threads of this
            # process whatever joblib backend is active (under dask's or loky's, a joblib
            # ``prefer="threads"`` would send them to other processes and lose the writes).
            # A plain thread pool: joblib's sharedmem Parallel polls its results with 10 ms
            # sleeps, a quarter of the time of 32 clips (benchmarks/bench_features.py).
            with ThreadPoolExecutor(max_workers=threads) as pool:
                for _ in pool.map(run, slices):
                    pass
    return out


def n_threads(n_jobs):
    """Threads for ``n_jobs`` in joblib's convention (None = 1, -1 = all cores, -2 = all but one)."""
    cores = os.cpu_count() or 1
    if n_jobs is None:
        return 1
    return max(1, min(n_jobs, cores) if n_jobs > 0 else cores + 1 + n_jobs)


def check_batching(batch_size, n_jobs):
    if not isinstance(batch_size, Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if n_jobs is not None and (not isinstance(n_jobs, Integral) or n_jobs == 0):
        raise ValueError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}.")
