import sys

import joblib
import librosa
import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_asd.features import LogMel, Pool


# The checks feed clips of a few samples: librosa warns that n_fft exceeds them (zero padding).
@pytest.mark.filterwarnings("ignore:n_fft=.*is too large:UserWarning")
@parametrize_with_checks(
    [
        LogMel(sr=400, n_fft=16, hop_length=4, n_mels=4),
        LogMel(sr=400, n_fft=16, hop_length=4, n_mels=4, pool="mean+std"),
        Pool(),
        Pool("mean+std"),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def clips(n=3, length=8000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length) / 16000
    tone = np.sin(2 * np.pi * rng.uniform(100, 3000, (n, 1)) * t)
    return (0.3 * tone + 0.05 * rng.normal(size=(n, length))).astype(np.float32)


def assert_db_close(ours, ref, tol=1e-3, top_range=80.0):
    """|diff| <= tol dB wherever librosa's value is within top_range dB of the clip's maximum."""
    assert ours.shape == ref.shape
    near_top = ref >= ref.max() - top_range
    assert near_top.mean() > 0.5
    np.testing.assert_array_less(np.abs(ours - ref)[near_top], tol)
    assert np.all(np.isfinite(ours))


def librosa_db(x, **kw):
    amin = kw.pop("amin", 1e-10)
    mel = librosa.feature.melspectrogram(y=x, pad_mode="constant", **kw)
    return librosa.power_to_db(mel, ref=1.0, amin=amin, top_db=None)


@pytest.mark.parametrize("sr", [16000, 22050])
@pytest.mark.parametrize(
    "n_fft, hop_length, win_length", [(1024, 512, None), (2048, 256, 1024), (512, 160, 400)]
)
@pytest.mark.parametrize("n_mels", [64, 128])
@pytest.mark.parametrize("center", [True, False])
def test_equals_librosa_clip_by_clip(sr, n_fft, hop_length, win_length, n_mels, center):
    X = clips()
    params = dict(
        sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length, n_mels=n_mels, center=center
    )
    S = LogMel(**params).fit_transform(X)
    assert S.dtype == np.float32
    for x, s in zip(X, S):
        assert_db_close(s, librosa_db(x, **params))


@pytest.mark.parametrize("power", [1.0, 2.0])
@pytest.mark.parametrize("fmin, fmax", [(0.0, None), (50.0, 7800.0)])
def test_power_and_band_limits_equal_librosa(power, fmin, fmax):
    X = clips(n=2)
    kw = dict(sr=16000, n_fft=1024, hop_length=512, n_mels=64, power=power, fmin=fmin, fmax=fmax)
    S = LogMel(**kw).fit_transform(X)
    assert_db_close(S[1], librosa_db(X[1], **kw))


def test_mel_power_and_dcase_log():
    X = clips(n=2)
    mel = LogMel(log=None, n_mels=64).fit_transform(X)
    ref = librosa.feature.melspectrogram(
        y=X[0], sr=16000, n_fft=1024, hop_length=512, n_mels=64, pad_mode="constant"
    )
    np.testing.assert_allclose(mel[0], ref, rtol=1e-5)
    dcase = LogMel(log="dcase", n_mels=64, power=2.0).fit_transform(X)
    np.testing.assert_allclose(dcase[0], 10.0 * np.log10(ref + sys.float_info.epsilon), atol=1e-4)


def test_output_shape_and_frames():
    X = clips(n=4, length=16000)
    lm = LogMel().fit(X)
    assert lm.transform(X).shape == (4, 128, 32) and lm.n_frames_ == 32
    assert LogMel(center=False).fit(X).transform(X).shape == (4, 128, 30)


def test_int16_pcm_is_scaled():
    X = clips(n=2)
    pcm = np.round(X * 32767).astype(np.int16)
    np.testing.assert_allclose(
        LogMel().fit_transform(pcm), LogMel().fit_transform(pcm.astype(np.float32) / 32768), atol=1e-5
    )


@pytest.mark.parametrize(
    "X, message",
    [
        (np.full((2, 4096), np.nan, dtype=np.float32), "NaN"),
        (np.full((2, 4096), np.inf, dtype=np.float32), "infinity"),
        (np.zeros(4096, dtype=np.float32), "2D array"),
        (np.zeros((2, 3, 4096), dtype=np.float32), "dim 3"),
        (np.zeros((2, 0), dtype=np.float32), "0 feature"),
    ],
)
def test_bad_input_is_rejected(X, message):
    with pytest.raises(ValueError, match=message):
        LogMel().fit(X)


def test_too_short_without_centering():
    with pytest.raises(ValueError, match="shorter than n_fft=1024.*center=True"):
        LogMel(center=False).fit(np.zeros((2, 500), dtype=np.float32))


def test_bad_parameters():
    with pytest.raises(ValueError, match="fmin < fmax"):
        LogMel(fmin=9000.0).fit(clips())
    with pytest.raises(ValueError, match="win_length=2048 exceeds"):
        LogMel(win_length=2048).fit(clips())
    with pytest.raises(ValueError, match="'log' parameter"):
        LogMel(log="ln").fit(clips())


def test_clip_length_is_fixed_at_fit():
    lm = LogMel().fit(clips(length=8000))
    with pytest.raises(ValueError, match="8000 features"):
        lm.transform(clips(length=9000))


def test_pickles(tmp_path):
    X = clips()
    lm = LogMel(n_mels=32).fit(X)
    joblib.dump(lm, tmp_path / "lm.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "lm.joblib").transform(X), lm.transform(X))


def test_pool_statistics():
    rng = np.random.default_rng(0)
    S = rng.normal(size=(5, 3, 10))
    np.testing.assert_allclose(Pool("mean").fit_transform(S), S.mean(axis=2))
    np.testing.assert_allclose(Pool("std").fit_transform(S), S.std(axis=2))
    np.testing.assert_allclose(Pool("mean+std").fit_transform(S), np.hstack([S.mean(2), S.std(2)]))
    np.testing.assert_allclose(Pool("mean+max").fit_transform(S), np.hstack([S.mean(2), S.max(2)]))
    # more frames at transform time are fine, other feature axes are not
    pool = Pool().fit(S)
    assert pool.transform(rng.normal(size=(2, 3, 20))).shape == (2, 3)
    with pytest.raises(ValueError, match="only the time axis may change"):
        Pool().fit(rng.normal(size=(2, 3, 4, 10))).transform(rng.normal(size=(2, 3, 5, 10)))


@pytest.mark.parametrize("backend", ["loky", "multiprocessing"])
def test_threads_stay_threads_under_a_process_backend(backend):
    # The chunks are written into one output array by threads. Inside
    # ``parallel_backend("loky")`` (or dask's, as in a GridSearchCV on a cluster) joblib
    # would send ``prefer="threads"`` jobs to other processes and lose the writes: zeros.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 8000)).astype(np.float32)
    expected = LogMel(n_mels=32, batch_size=2, n_jobs=1).fit_transform(X)
    with joblib.parallel_backend(backend, n_jobs=2):
        got = LogMel(n_mels=32, batch_size=2, n_jobs=2).fit_transform(X)
    np.testing.assert_array_equal(got, expected)


def test_clips_of_unequal_length_say_how_to_fix_it():
    from sklearn_asd.features import LogMel

    clips = [np.zeros(16000, np.float32), np.zeros(8000, np.float32)]
    with pytest.raises(ValueError, match="clips differ in length \\(8000 to 16000 samples\\).*duration=10.0"):
        LogMel().fit_transform(clips)


def test_verbose_shows_a_bar_over_the_clips_and_changes_nothing(capsys):
    X = np.random.default_rng(0).normal(size=(10, 8000)).astype(np.float32)
    quiet = LogMel(n_mels=16, batch_size=4).fit_transform(X)
    assert capsys.readouterr().err == ""
    shown = LogMel(n_mels=16, batch_size=4, verbose=1).fit_transform(X)
    err = capsys.readouterr().err
    assert "LogMel" in err and "/10 [" in err  # tqdm's bar over the 10 clips
    np.testing.assert_array_equal(shown, quiet)


@pytest.mark.parametrize("stat", ["mean", "std", "max", "mean+std", "mean+max"])
def test_pooling_as_it_goes_is_pool_after_it_to_the_bit(stat, tmp_path):
    import soundfile as sf

    from sklearn_asd.datasets import AudioReader

    X = clips(n=11, length=8000)
    fused = LogMel(n_mels=16, batch_size=3, pool=stat).fit(X)
    expected = Pool(stat).fit_transform(LogMel(n_mels=16).fit_transform(X))
    assert fused.transform(X).shape == (11, 16 * len(stat.split("+")))
    np.testing.assert_array_equal(fused.transform(X), expected)
    # from files read chunk by chunk (a lazy reader): the same numbers
    paths = []
    for i, x in enumerate(X):
        paths.append(str(tmp_path / f"clip_{i}.wav"))
        sf.write(paths[-1], x, 16000, subtype="FLOAT")
    files = AudioReader(lazy=True).fit_transform(paths)
    np.testing.assert_array_equal(fused.transform(files), expected)
