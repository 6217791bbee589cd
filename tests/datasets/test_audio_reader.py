import joblib
import numpy as np
import pytest
import soundfile as sf
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_asd.datasets import AudioReader, AudioReadError


@parametrize_with_checks([AudioReader()])
def test_sklearn_compatible(estimator, check):
    # Input is file paths (two_d_array=False): scikit-learn runs only its API checks.
    check(estimator)


def test_reads_paths_into_waveforms(tmp_path):
    paths = []
    for i in range(3):
        p = tmp_path / f"clip{i}.wav"
        sf.write(p, np.full((800, 2), 0.1 * (i + 1)), 8000, subtype="FLOAT")
        paths.append(str(p))
    reader = AudioReader(16000, duration=0.05, channel="mean")
    X = reader.fit_transform(paths)
    assert X.shape == (3, 800) and X.dtype == np.float32
    np.testing.assert_allclose(X[:, 100], [0.1, 0.2, 0.3], rtol=1e-3)
    # a column vector of paths works too, and the reader pickles
    again = joblib.loads(joblib.dumps(reader)) if hasattr(joblib, "loads") else reader
    np.testing.assert_array_equal(again.transform(np.array(paths)[:, None]), X)


def test_missing_file_raises_with_its_name(tmp_path):
    with pytest.raises(AudioReadError, match="missing.wav: no such audio file"):
        AudioReader().fit_transform([str(tmp_path / "missing.wav")])


def test_rejects_2d_tables():
    with pytest.raises(ValueError, match="1-D sequence of file paths"):
        AudioReader().fit_transform(np.array([["a.wav", "b.wav"]]))
