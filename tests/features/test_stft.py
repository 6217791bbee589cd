import tracemalloc

import joblib
import librosa
import numpy as np
import pytest
import soundfile as sf
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_asd.datasets import AudioReader, ClipFiles
from sklearn_asd.features import STFT, FrameStack, LogMel, Pool, Spectrum
from sklearn_asd.features._spectral import BandedProduct, magnitude_power

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.filterwarnings("ignore:n_fft=.*is too large:UserWarning")
@parametrize_with_checks(
    [
        STFT(n_fft=16, hop_length=4),
        STFT(n_fft=16, hop_length=4, kind="magnitude", log="db"),
        Spectrum(),
        Spectrum(n_fft=32, kind="power", log="db", window="hann"),
        FrameStack(n_frames=2),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def clips(n=3, length=12000, seed=0, sr=16000):
    rng = np.random.default_rng(seed)
    t = np.arange(length) / sr
    tone = np.sin(2 * np.pi * rng.uniform(100, 3000, (n, 1)) * t)
    return (0.3 * tone + 0.05 * rng.normal(size=(n, length))).astype(np.float32)


@pytest.mark.parametrize(
    "n_fft, hop_length, win_length", [(1024, 512, None), (2048, 512, None), (512, 128, 400)]
)
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("window", ["hann", "hamming", ("kaiser", 8.0)])
def test_complex_stft_equals_librosa(n_fft, hop_length, win_length, center, window):
    X = clips()
    params = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, center=center, window=window)
    Z = STFT(kind="complex", **params).fit_transform(X)
    assert Z.dtype == np.complex64
    for x, z in zip(X, Z):
        ref = librosa.stft(x, pad_mode="constant", **params)
        assert z.shape == ref.shape
        np.testing.assert_allclose(z, ref, atol=2e-4 * np.abs(ref).max())


@pytest.mark.parametrize("kind", ["power", "magnitude", "phase"])
def test_kinds_equal_librosa(kind):
    X = clips(n=2)
    S = STFT(n_fft=2048, hop_length=512, kind=kind).fit_transform(X)
    ref = librosa.stft(X[0], n_fft=2048, hop_length=512, pad_mode="constant")
    if kind == "phase":
        strong = np.abs(ref) > 1e-3 * np.abs(ref).max()  # phase is ill-defined where there is no energy
        diff = np.angle(np.exp(1j * (S[0] - np.angle(ref))))
        assert np.abs(diff[strong]).max() < 1e-3
    else:
        expected = np.abs(ref) ** (2 if kind == "power" else 1)
        np.testing.assert_allclose(S[0], expected, rtol=1e-4, atol=1e-6 * expected.max())


@pytest.mark.parametrize("kind", ["power", "magnitude"])
def test_decibels(kind):
    X = clips(n=2)
    S = STFT(kind=kind, log="db").fit_transform(X)
    power = np.abs(librosa.stft(X[1], n_fft=1024, hop_length=512, pad_mode="constant")) ** 2
    expected = librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=None)
    near_top = expected > expected.max() - 80
    np.testing.assert_array_less(np.abs(S[1] - expected)[near_top], 1e-3)
    if kind == "magnitude":
        amp = librosa.amplitude_to_db(np.sqrt(power), ref=1.0, amin=1e-5, top_db=None)
        np.testing.assert_array_less(np.abs(S[1] - amp)[near_top], 1e-3)


def test_log_of_phase_is_an_error():
    with pytest.raises(ValueError, match="not to kind='phase'"):
        STFT(kind="phase", log="db").fit(clips())


@pytest.mark.parametrize("n_fft", [None, 8000, 20000])
@pytest.mark.parametrize("kind", ["magnitude", "power"])
def test_spectrum_equals_numpy(n_fft, kind):
    X = clips(n=2)
    S = Spectrum(n_fft=n_fft, kind=kind).fit_transform(X)
    ref = np.abs(np.fft.rfft(X.astype(np.float64), n=n_fft, axis=1)) ** (2 if kind == "power" else 1)
    np.testing.assert_allclose(S, ref, rtol=2e-3, atol=1e-5 * ref.max())
    names = Spectrum(n_fft=n_fft).fit(X).get_feature_names_out()
    assert len(names) == S.shape[1] and names[0] == "spectrum0"


def test_spectrum_window():
    X = clips(n=1)
    S = Spectrum(window="hann").fit_transform(X)
    ref = np.abs(np.fft.rfft(X[0] * librosa.filters.get_window("hann", X.shape[1], fftbins=True)))
    np.testing.assert_allclose(S[0], ref, rtol=2e-3, atol=1e-5 * ref.max())


def test_frame_stack_equals_dcase_baseline_loop():
    rng = np.random.default_rng(0)
    S = rng.normal(size=(2, 128, 40)).astype(np.float32)
    stacked = FrameStack(n_frames=5).fit_transform(S)
    assert stacked.shape == (2, 640, 36)
    # the DCASE 2020-2023 baseline's file_to_vectors, per clip
    for s, out in zip(S, stacked):
        n_vectors = s.shape[1] - 5 + 1
        vectors = np.zeros((n_vectors, 640))
        for t in range(5):
            vectors[:, 128 * t : 128 * (t + 1)] = s[:, t : t + n_vectors].T
        np.testing.assert_array_equal(out.T, vectors)
    assert FrameStack(n_frames=5, hop=4).fit_transform(S).shape == (2, 640, 9)
    with pytest.raises(ValueError, match="fewer than n_frames=50"):
        FrameStack(n_frames=50).fit(S)


def test_pool_feature_names():
    S = np.zeros((2, 3, 5))
    assert list(Pool("mean+std").fit(S).get_feature_names_out()) == [
        "mean0",
        "mean1",
        "mean2",
        "std0",
        "std1",
        "std2",
    ]


@pytest.mark.parametrize(
    "transformer",
    [
        LogMel(n_mels=40),
        LogMel(n_mels=40, power=1.0, log="dcase"),
        STFT(kind="power", log="db"),
        STFT(kind="complex"),
        STFT(kind="phase"),
        Spectrum(kind="power", log="db"),
    ],
    ids=lambda t: repr(t),
)
def test_torch_path_equals_numpy_path_on_cpu(transformer):
    """The CUDA code path, run on CPU tensors, gives the numbers of the CPU path."""
    X = clips(n=3)
    transformer.set_params(device="cpu").fit(X)
    numpy_out = transformer._compute_numpy(X)
    torch_out = transformer._compute_torch(X, "cpu")
    assert torch_out.shape == numpy_out.shape and torch_out.dtype == numpy_out.dtype
    if getattr(transformer, "kind", None) == "phase":
        mag = np.abs(STFT().fit(X)._compute_numpy(X))
        strong = mag > 1e-3 * mag.max()
        assert np.abs(np.angle(np.exp(1j * (torch_out - numpy_out))))[strong].max() < 1e-3
    else:
        scale = np.abs(numpy_out).max()
        np.testing.assert_allclose(torch_out, numpy_out, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("batch_size, n_jobs", [(1, 1), (2, 2), (64, -1)])
def test_chunking_and_threads_do_not_change_the_result(batch_size, n_jobs):
    X = clips(n=7)
    ref = LogMel(batch_size=64, n_jobs=1).fit_transform(X)
    np.testing.assert_array_equal(LogMel(batch_size=batch_size, n_jobs=n_jobs).fit_transform(X), ref)


def test_bad_engine_parameters():
    with pytest.raises(ValueError, match="device must be"):
        LogMel(device="tpu").fit(clips())
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="torch sees no CUDA device"):
            LogMel(device="cuda").fit(clips())
    with pytest.raises(ValueError, match="n_jobs must be"):
        LogMel(n_jobs=0).fit(clips())


def write_clips(folder, n, length, sr=16000):
    paths = []
    for i, x in enumerate(clips(n=n, length=length, seed=1)):
        paths.append(str(folder / f"clip{i:03d}.wav"))
        sf.write(paths[-1], x, sr, subtype="FLOAT")
    return paths


def test_lazy_files_stream_through_the_features(tmp_path):
    paths = write_clips(tmp_path, 5, 8000)
    files = AudioReader(lazy=True).fit_transform(paths)
    assert isinstance(files, ClipFiles) and files.shape == (5, 8000)
    eager = AudioReader().fit_transform(paths)
    np.testing.assert_array_equal(np.asarray(files), eager)
    for t in (LogMel(n_mels=32, batch_size=2), STFT(batch_size=2), Spectrum(batch_size=2)):
        np.testing.assert_array_equal(t.fit(files).transform(files), t.fit(eager).transform(eager))
    # indexing selects files without reading them (cross-validation does this)
    subset = files[np.array([4, 0])]
    assert isinstance(subset, ClipFiles) and list(subset.paths) == [paths[4], paths[0]]
    np.testing.assert_array_equal(subset.read(), eager[[4, 0]])
    np.testing.assert_array_equal(files[1], eager[1])


def test_lazy_files_of_another_length_are_an_error(tmp_path):
    paths = write_clips(tmp_path, 2, 8000)
    sf.write(tmp_path / "long.wav", np.zeros(9000, dtype=np.float32), 16000)
    files = AudioReader(lazy=True).fit_transform(paths + [str(tmp_path / "long.wav")])
    with pytest.raises(ValueError, match="long.wav has 9000 samples.*pass duration="):
        LogMel(batch_size=1).fit_transform(files)
    cropped = AudioReader(lazy=True, duration=0.5).fit_transform(paths + [str(tmp_path / "long.wav")])
    assert LogMel(batch_size=1).fit_transform(cropped).shape[0] == 3


def test_peak_memory_of_files_stays_near_the_output(tmp_path):
    paths = write_clips(tmp_path, 48, 64000)  # 48 four-second clips: 12 MB of waveforms
    files = AudioReader(lazy=True).fit_transform(paths)
    lm = LogMel(batch_size=2, n_jobs=1).fit(files)
    output_bytes = 48 * 128 * lm.n_frames_ * 4  # 3 MB
    tracemalloc.start()
    out = lm.transform(files)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert out.nbytes == output_bytes
    waveform_bytes = 48 * 64000 * 4
    assert peak < output_bytes + waveform_bytes / 3, (peak, output_bytes)


def test_pickles_and_transforms_identically(tmp_path):
    X = clips()
    for t in (STFT(kind="magnitude").fit(X), Spectrum().fit(X), FrameStack().fit(LogMel().fit_transform(X))):
        joblib.dump(t, tmp_path / "t.joblib")
        again = joblib.load(tmp_path / "t.joblib")
        data = X if not isinstance(t, FrameStack) else LogMel().fit_transform(X)
        np.testing.assert_array_equal(again.transform(data), t.transform(data))


@cuda
@pytest.mark.parametrize("transformer", [LogMel(), STFT(kind="magnitude", log="db"), Spectrum()], ids=repr)
def test_cuda_equals_cpu(transformer):
    X = clips(n=9)
    cpu = transformer.set_params(device="cpu").fit_transform(X)
    gpu = transformer.set_params(device="cuda").fit_transform(X)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-4 * np.abs(cpu).max())


@cuda
def test_fitted_on_cuda_scores_on_cpu(tmp_path):
    X = clips()
    lm = LogMel(device="auto").fit(X)
    gpu = lm.transform(X)
    joblib.dump(lm, tmp_path / "lm.joblib")
    again = joblib.load(tmp_path / "lm.joblib").set_params(device="cpu")
    np.testing.assert_allclose(again.transform(X), gpu, atol=1e-3)


@pytest.mark.filterwarnings("ignore:Empty filters:UserWarning")
@pytest.mark.parametrize("n_fft, n_mels", [(1024, 128), (512, 40), (256, 128), (2048, 224)])
def test_banded_product_equals_dense(n_fft, n_mels):
    W = librosa.filters.mel(sr=16000, n_fft=n_fft, n_mels=n_mels, dtype=np.float32)
    P = np.random.default_rng(0).random((3, 7, n_fft // 2 + 1), dtype=np.float32)
    dense = P @ W.T
    np.testing.assert_allclose(BandedProduct(W)(P), dense, rtol=1e-5, atol=1e-7)


def test_magnitude_power():
    z = (np.random.default_rng(0).normal(size=(2, 5, 9)) + 1j).astype(np.complex64)
    np.testing.assert_allclose(magnitude_power(z, 2.0), np.abs(z) ** 2, rtol=1e-6)
    np.testing.assert_allclose(magnitude_power(z, 1.0), np.abs(z), rtol=1e-6)
