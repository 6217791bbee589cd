"""Reading audio clips: files -> one float32 waveform per row."""

import os
import struct
import warnings
from numbers import Integral, Real

import numpy as np
import soundfile as sf
import soxr
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm


class AudioReadError(ValueError):
    """An audio file could not be read; the message names the file."""


def _check_wav_complete(path):
    """Raise ``AudioReadError`` if a RIFF/WAVE file holds less data than it declares.

    libsndfile silently returns the frames that are present when a WAV file is
    truncated, so a cut-off download would load as a shorter clip. We walk the
    RIFF chunks to find the declared size of the ``data`` chunk and compare it
    with the bytes actually on disk.
    """
    file_size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return  # not a WAV file: libsndfile validates other formats itself
        fmt = "<I" if head[:4] == b"RIFF" else ">I"
        offset = 12
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return  # no data chunk: libsndfile reports that itself
            chunk_id = chunk[:4]
            (size,) = struct.unpack(fmt, chunk[4:])
            offset += 8
            if chunk_id == b"data":
                if size in (0, 0xFFFFFFFF):
                    return  # streamed or RF64-style placeholder sizes
                available = file_size - offset
                if available < size:
                    raise AudioReadError(
                        f"{path}: truncated WAV file, its header declares {size} bytes "
                        f"of audio but only {available} are present."
                    )
                return
            offset += size + (size & 1)  # chunks are word aligned
            f.seek(offset)


def _read_one(path, sr, n_samples, channel):
    """Read one file as a 1-D float32 waveform at ``sr`` Hz."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise AudioReadError(f"{path}: no such audio file.")
    _check_wav_complete(path)
    try:
        data, file_sr = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioReadError(f"{path}: cannot be read as audio ({exc}).") from exc
    n_channels = data.shape[1]
    if channel == "mean":
        wave = data.mean(axis=1)
    else:
        if not -n_channels <= channel < n_channels:
            raise AudioReadError(
                f"{path}: channel={channel} requested but the file has {n_channels} channel(s)."
            )
        wave = data[:, channel]
    if wave.size == 0:
        raise AudioReadError(f"{path}: the file holds no samples.")
    if not np.isfinite(wave).all():
        raise AudioReadError(f"{path}: the file holds NaN or infinite samples.")
    if sr is not None and file_sr != sr:
        wave = soxr.resample(wave, file_sr, sr, quality="HQ")
    if n_samples is not None:
        if wave.shape[0] >= n_samples:
            wave = wave[:n_samples]
        else:
            wave = np.pad(wave, (0, n_samples - wave.shape[0]))
    return np.ascontiguousarray(wave, dtype=np.float32), (file_sr if sr is None else sr)


def _check_channel(channel):
    if isinstance(channel, str):
        if channel != "mean":
            raise ValueError(f"channel must be an integer index or 'mean', got {channel!r}.")
    elif not isinstance(channel, Integral) or isinstance(channel, bool):
        raise ValueError(f"channel must be an integer index or 'mean', got {channel!r}.")


def read_audio(
    paths,
    *,
    sr=16000,
    duration=None,
    channel=0,
    n_jobs=None,
    on_error="raise",
    return_kept=False,
    progress=None,
):
    """Read audio files into a 2-D float32 array, one clip per row.

    Parameters
    ----------
    paths : sequence of str or path-like, shape (n_clips,)
        The audio files (anything libsndfile reads: WAV, WAVE_FORMAT_EXTENSIBLE,
        FLAC, OGG...).
    sr : int or None, default=16000
        Target sampling rate. Files at another rate are resampled with soxr
        (high quality). ``None`` keeps the files' rate, which must then be the
        same for all files.
    duration : float or None, default=None
        Length in seconds of every output clip: longer clips are cropped at the
        end, shorter ones zero-padded. Without it all clips must have the same
        length.
    channel : int or "mean", default=0
        Channel to keep from multi-channel files (e.g. the 8-channel MIMII
        recordings), or ``"mean"`` for the average of all channels.
    n_jobs : int or None, default=None
        Number of threads reading files in parallel (joblib semantics).
    on_error : {"raise", "skip"}, default="raise"
        ``"raise"`` stops at the first unreadable, truncated or empty file with
        an :class:`AudioReadError` naming it. ``"skip"`` leaves such files out
        and issues one warning that lists all of them.
    return_kept : bool, default=False
        Also return the indices (into ``paths``) of the files that were read;
        useful with ``on_error="skip"``.
    progress : bool or None, default=None
        Show a tqdm progress bar; ``None`` shows it only on a terminal.

    Returns
    -------
    X : ndarray of shape (n_clips, n_samples), dtype float32
        The waveforms.
    sr : int
        Their sampling rate.
    kept : ndarray of shape (n_kept,), dtype int
        Only with ``return_kept=True``.

    Examples
    --------
    >>> from sklearn_asd.datasets import read_audio
    >>> X, sr = read_audio(["a.wav", "b.wav"], duration=10.0)  # doctest: +SKIP
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}.")
    _check_channel(channel)
    if sr is not None and (not isinstance(sr, Integral) or sr <= 0):
        raise ValueError(f"sr must be a positive integer or None, got {sr!r}.")
    if duration is not None and (not isinstance(duration, Real) or duration <= 0):
        raise ValueError(f"duration must be a positive number of seconds, got {duration!r}.")
    paths = [os.fspath(p) for p in np.asarray(paths, dtype=object).ravel()]
    if not paths:
        raise ValueError("read_audio got no file to read.")
    if duration is not None and sr is None:
        # The length in samples depends on the rate: read the first file's rate.
        sr = sf.info(paths[0]).samplerate
    n_samples = None if duration is None else int(round(duration * sr))

    def guarded(path):
        try:
            return _read_one(path, sr, n_samples, channel)
        except AudioReadError as exc:
            if on_error == "raise":
                raise
            return exc

    # threads of this process, whatever joblib backend is active (reading is I/O)
    jobs = Parallel(n_jobs=n_jobs, require="sharedmem", return_as="generator")(
        delayed(guarded)(p) for p in paths
    )
    disable = None if progress is None else not progress
    # Fill one array as the files arrive: never a list of clips plus a stacked copy.
    X, first, failed, kept = None, None, [], []
    for i, result in enumerate(
        tqdm(jobs, total=len(paths), desc="reading audio", unit="file", disable=disable)
    ):
        if isinstance(result, Exception):
            failed.append(result)
            continue
        wave, rate = result
        if X is None:
            first = (os.path.basename(paths[i]), wave.shape[0], rate)
            X = np.empty((len(paths), wave.shape[0]), dtype=np.float32)
        elif rate != first[2]:
            raise ValueError(
                f"files have different sampling rates ({first[0]}: {first[2]} Hz, "
                f"{os.path.basename(paths[i])}: {rate} Hz); pass sr= to resample them."
            )
        elif wave.shape[0] != first[1]:
            raise ValueError(
                f"clips have unequal lengths ({first[0]}: {first[1]} samples, "
                f"{os.path.basename(paths[i])}: {wave.shape[0]} samples); pass duration= (seconds) "
                "to crop or zero-pad them to one length."
            )
        X[len(kept)] = wave
        kept.append(i)

    if failed:
        listing = "\n".join(f"  {exc}" for exc in failed)
        warnings.warn(
            f"skipped {len(failed)} unreadable audio file(s):\n{listing}", UserWarning, stacklevel=2
        )
    if not kept:
        raise ValueError("none of the audio files could be read.")
    X = X[: len(kept)]
    if return_kept:
        return X, first[2], np.array(kept, dtype=int)
    return X, first[2]


class ClipFiles:
    """Audio files standing in for their waveforms, read a chunk at a time.

    What :class:`AudioReader` returns with ``lazy=True``: an array-like of shape
    ``(n_clips, n_samples)`` whose rows are read from disk only when asked for.
    The feature transformers read it chunk by chunk, so a pipeline that starts
    from thousands of file names never holds all waveforms in memory;
    indexing (as cross-validation does) gives a ``ClipFiles`` of the selected
    files, and ``np.asarray`` reads everything.

    Parameters
    ----------
    paths : sequence of str
        The files.
    sr : int
        Sampling rate of the waveforms.
    n_samples : int
        Length of every clip. Without ``duration`` a file of another length is
        an error when it is read; with it, clips are cropped or zero-padded.
    duration : float or None, default=None
        Passed to :func:`read_audio`.
    channel : int or "mean", default=0
    n_jobs : int or None, default=None
        Threads reading the files of a chunk.
    """

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, paths, *, sr, n_samples, duration=None, channel=0, n_jobs=None):
        self.paths = np.asarray(paths, dtype=object)
        self.sr = sr
        self.n_samples = n_samples
        self.duration = duration
        self.channel = channel
        self.n_jobs = n_jobs

    @property
    def shape(self):
        return (len(self.paths), self.n_samples)

    def __len__(self):
        return len(self.paths)

    def __repr__(self):
        return f"ClipFiles({len(self)} files, {self.n_samples} samples at {self.sr} Hz)"

    def __getitem__(self, index):
        if isinstance(index, tuple):
            raise IndexError("ClipFiles selects whole clips: index it with one index, slice or mask.")
        selected = self.paths[index]
        if np.ndim(selected) == 0:
            return self.read([index])[0]
        return ClipFiles(
            selected,
            sr=self.sr,
            n_samples=self.n_samples,
            duration=self.duration,
            channel=self.channel,
            n_jobs=self.n_jobs,
        )

    def read(self, index=slice(None)):
        """Read the selected clips into a float32 array (n_selected, n_samples)."""
        paths = self.paths[index]
        waves, _ = read_audio(
            paths,
            sr=self.sr,
            duration=self.duration,
            channel=self.channel,
            n_jobs=self.n_jobs,
            progress=False,
        )
        if waves.shape[1] != self.n_samples:
            raise ValueError(
                f"clips have unequal lengths: {os.path.basename(str(paths[0]))} has {waves.shape[1]} "
                f"samples, the first file {self.n_samples}; pass duration= to AudioReader to crop "
                "or zero-pad them to one length."
            )
        return waves

    def __array__(self, dtype=None, copy=None):
        waves = self.read()
        return waves if dtype is None else waves.astype(dtype, copy=False)


class AudioReader(TransformerMixin, BaseEstimator):
    """Transformer from audio file paths to waveforms, the first step of a deployed pipeline.

    A pipeline fitted on waveforms from :func:`load_dcase` can be put behind an
    ``AudioReader`` so that the saved model scores new recordings given by file
    name. Unreadable files always raise (a deployed model must never silently
    drop a clip).

    Parameters
    ----------
    sr : int, default=16000
        Sampling rate of the output; files are resampled with soxr.
    duration : float or None, default=None
        Crop or zero-pad every clip to this many seconds.
    channel : int or "mean", default=0
        Channel of multi-channel files, or their mean.
    n_jobs : int or None, default=None
        Threads reading files in parallel.
    lazy : bool, default=False
        Return a :class:`ClipFiles` that the feature transformers read chunk
        by chunk, instead of an array of every waveform. For large file lists:
        peak memory stays near the size of the features.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_asd.datasets import AudioReader
    >>> from sklearn_asd.features import LogMel
    >>> featurize = make_pipeline(AudioReader(duration=10.0, lazy=True), LogMel())
    >>> featurize.fit_transform(["clip.wav"])  # doctest: +SKIP
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "duration": [Interval(Real, 0, None, closed="neither"), None],
        "channel": [Integral, StrOptions({"mean"})],
        "n_jobs": [Integral, None],
        "lazy": ["boolean"],
    }

    def __init__(self, sr=16000, *, duration=None, channel=0, n_jobs=None, lazy=False):
        self.sr = sr
        self.duration = duration
        self.channel = channel
        self.n_jobs = n_jobs
        self.lazy = lazy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Validate the parameters; nothing is learnt from the files."""
        self.fitted_ = True
        return self

    def transform(self, X):
        """Read the files named in ``X`` (a 1-D sequence, or one column of paths)."""
        check_is_fitted(self)
        paths = np.asarray(X, dtype=object)
        if paths.ndim == 2 and paths.shape[1] == 1:
            paths = paths[:, 0]
        if paths.ndim != 1:
            raise ValueError(
                f"AudioReader expects a 1-D sequence of file paths, got an array of shape {paths.shape}."
            )
        if not self.lazy:
            waves, _ = read_audio(
                paths, sr=self.sr, duration=self.duration, channel=self.channel, n_jobs=self.n_jobs
            )
            return waves
        if self.duration is not None:
            n_samples = int(round(self.duration * self.sr))
        else:  # the first file sets the length that every other must have
            n_samples = read_audio(paths[:1], sr=self.sr, channel=self.channel, progress=False)[0].shape[1]
        return ClipFiles(
            paths,
            sr=self.sr,
            n_samples=n_samples,
            duration=self.duration,
            channel=self.channel,
            n_jobs=self.n_jobs,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags
