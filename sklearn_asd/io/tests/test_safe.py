import json
import zipfile
from io import BytesIO as io_bytes

import joblib
import numpy as np
import pytest
import torch
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_asd import io
from sklearn_asd.datasets import make_machine_sounds, with_outliers
from sklearn_asd.detectors import (
    OEVAE,
    AutoEncoderDetector,
    KNNDetector,
    SoftmaxScore,
    StandardizedEnsemble,
)
from sklearn_asd.embedders import ClassifierEmbedder
from sklearn_asd.features import LogMel, Pool
from sklearn_asd.utils import anomaly_score


def _data():
    kw = dict(n_sections=2, duration=1.0, random_state=0)
    train = make_machine_sounds(n_normal={"source": 6, "target": 2}, split="train", **kw)
    other = make_machine_sounds(n_normal=3, split="train", n_sections=1, duration=1.0, random_state=7)
    test = make_machine_sounds(n_normal=2, n_anomalous=2, split="test", **kw)
    return with_outliers(train, other), test


def _models():
    ae = AutoEncoderDetector(
        n_frames=2, hidden=8, n_hidden=1, bottleneck=4, max_epochs=2, outlier_exposure=True, random_state=0
    )
    emb = ClassifierEmbedder(
        module_params={"width_mult": 0.25}, head="arcface", patch_frames=16, max_epochs=1, random_state=0
    )
    oevae = OEVAE(segment_frames=8, latent_dim=8, max_epochs=1, random_state=0)
    return {
        "autoencoder": Pipeline([("logmel", LogMel(n_mels=16)), ("ae", ae)]),
        "classifier": Pipeline([("logmel", LogMel(n_mels=16)), ("score", SoftmaxScore(emb))]),
        # one model of all sections: state keyed by None, which skops cannot write as is
        "ensemble": Pipeline(
            [
                ("logmel", LogMel(n_mels=16)),
                (
                    "ens",
                    StandardizedEnsemble(
                        [
                            ("oevae", oevae),
                            ("ae", AutoEncoderDetector(n_frames=2, max_epochs=1, random_state=0)),
                        ],
                        per_section=False,
                    ),
                ),
            ]
        ),
        "pooled": Pipeline([("logmel", LogMel(n_mels=16)), ("pool", Pool()), ("knn", KNNDetector())]),
    }


@pytest.mark.parametrize("name", list(_models()))
def test_safe_file_scores_as_the_model_and_as_joblib(name, tmp_path, routing):
    train, test = _data()
    model = _models()[name]
    model.fit(train.X, train.y, section=train.section, domain=train.domain, outlier=train.outlier)
    expected = anomaly_score(model, test.X, section=test.section, domain=test.domain)
    io.dump(model, tmp_path / "m.asd", metadata={"machine": "toy"})
    # writing leaves the model as it was
    np.testing.assert_array_equal(
        anomaly_score(model, test.X, section=test.section, domain=test.domain), expected
    )
    loaded, metadata = io.load(tmp_path / "m.asd", with_metadata=True)
    assert metadata == {"machine": "toy"}
    np.testing.assert_array_equal(
        anomaly_score(loaded, test.X, section=test.section, domain=test.domain), expected
    )
    joblib.dump(model, tmp_path / "m.joblib")
    via_joblib = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(
        anomaly_score(via_joblib, test.X, section=test.section, domain=test.domain), expected
    )
    # the networks are stored as tensors only, and their training history survives
    with zipfile.ZipFile(tmp_path / "m.asd") as archive:
        header = json.loads(archive.read("format.json"))
        for i in range(header["n_nets"]):
            torch.load(archive.open(f"net_{i}/params.pt"), weights_only=True)
    if name == "classifier":
        before, after = model[-1].estimator_.net_.history, loaded[-1].estimator_.net_.history
        assert after[:, "train_loss"] == pytest.approx(before[:, "train_loss"])
        np.testing.assert_array_equal(
            loaded.predict(test.X, section=test.section), model.predict(test.X, section=test.section)
        )


def _double(X):
    return 2 * X


def test_untrusted_types_are_refused_and_named(tmp_path, routing):
    train, test = _data()
    model = Pipeline(
        [
            ("logmel", LogMel(n_mels=16)),
            ("pool", Pool()),
            ("double", FunctionTransformer(_double)),
            ("knn", KNNDetector()),
        ]
    ).fit(train.X[~train.outlier], section=train.section[~train.outlier])
    io.dump(model, tmp_path / "m.asd")
    name = f"{__name__}._double"
    assert io.get_untrusted_types(tmp_path / "m.asd") == [name]
    with pytest.raises(ValueError, match=f"does not trust: \\['{name}'\\].*trusted="):
        io.load(tmp_path / "m.asd")
    loaded = io.load(tmp_path / "m.asd", trusted=[name])
    np.testing.assert_array_equal(
        anomaly_score(loaded, test.X, section=test.section),
        anomaly_score(model, test.X, section=test.section),
    )


def test_a_file_naming_a_dangerous_function_is_refused(tmp_path):
    # a hand-made file whose estimator calls os.system: refused before anything is built
    import skops.io as sio

    with zipfile.ZipFile(io_bytes(sio.dumps(FunctionTransformer(print)))) as inner:
        schema = inner.read("schema.json").replace(b'"builtins"', b'"os"').replace(b'"print"', b'"system"')
    body = io_bytes()
    with zipfile.ZipFile(body, "w") as inner:
        inner.writestr("schema.json", schema)
    body = body.getvalue()
    path = tmp_path / "evil.asd"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "format.json", json.dumps({"format": io._safe.FORMAT, "format_version": 1, "n_nets": 0})
        )
        archive.writestr("model.skops", body)
    with pytest.raises(ValueError, match="does not trust"):
        io.load(path)


def test_files_that_are_not_safe_models_say_so(tmp_path):
    (tmp_path / "empty.asd").write_bytes(b"")
    (tmp_path / "text.asd").write_text("hello\n")
    joblib.dump([1, 2], tmp_path / "pickle.asd")
    with zipfile.ZipFile(tmp_path / "other.asd", "w") as archive:
        archive.writestr("format.json", json.dumps({"format": "something else"}))
    for name in ("empty", "text", "pickle"):
        with pytest.raises(ValueError, match=f"{name}.asd is not a readable safe model file"):
            io.load(tmp_path / f"{name}.asd")
    with pytest.raises(ValueError, match="names another format"):
        io.load(tmp_path / "other.asd")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        io.load(tmp_path / "missing.asd")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_trained_on_gpu_scores_on_cpu(tmp_path, routing):  # pragma: no cover - GPU only
    train, test = _data()
    model = _models()["classifier"].set_params(score__estimator__device="cuda")
    model.fit(train.X, train.y, section=train.section)
    io.dump(model, tmp_path / "m.asd")
    loaded = io.load(tmp_path / "m.asd", device="cpu")
    assert str(next(loaded[-1].estimator_.net_.module_.parameters()).device) == "cpu"
    np.testing.assert_allclose(
        anomaly_score(loaded, test.X, section=test.section),
        anomaly_score(model, test.X, section=test.section),
        rtol=1e-3,
    )
