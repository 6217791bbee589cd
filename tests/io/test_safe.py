import json
import zipfile
from io import BytesIO as io_bytes

import joblib
import numpy as np
import pytest
import torch
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from skorch.callbacks import LRScheduler

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


def _cosine(epochs):
    """A learning-rate schedule: skorch fills it with a torch scheduler bound to the optimizer."""
    return [("lr", LRScheduler(policy="CosineAnnealingLR", T_max=epochs))]


def _models():
    ae = AutoEncoderDetector(
        n_frames=2,
        hidden=8,
        n_hidden=1,
        bottleneck=4,
        max_epochs=2,
        outlier_exposure=True,
        callbacks=_cosine(2),
        random_state=0,
    )
    emb = ClassifierEmbedder(
        module__width_mult=0.25,
        head="arcface",
        patch_frames=16,
        max_epochs=2,
        callbacks=_cosine(2),
        random_state=0,
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
        assert after[:, "event_lr"] == pytest.approx([1e-4, 0.5e-4])  # the schedule ran, and is kept
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


# ---- a model file is data: the attacks of issue 20, each refused before anything runs or is allocated


def _ae_file(path, **spec_changes):
    """A small fitted autoencoder written to ``path``, its network spec changed as an attacker would."""
    X = np.random.RandomState(0).randn(6, 16, 20).astype(np.float32)
    model = AutoEncoderDetector(n_frames=2, hidden=8, n_hidden=1, bottleneck=4, max_epochs=1, random_state=0)
    model.fit(X)
    for key, value in spec_changes.items():
        model._net_spec[key] = value
    io.dump(model, path)
    return model, X


def _rewrite(path, out, **members):
    """A copy of the zip ``path`` at ``out`` with some members replaced (None: removed)."""
    with zipfile.ZipFile(path) as archive:
        kept = {n: archive.read(n) for n in archive.namelist()}
    kept.update(members)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in kept.items():
            if data is not None:
                archive.writestr(name, data)
    return out


class _RunsCode:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (eval, (f"open({self.marker!r}, 'w').write('ran')",))


def _with_pickle_in_a_skorch_node(path, out, marker):
    """The exploit of issue 20: a skorch NeuralNet node whose ``__cuda_dependent_attributes__`` is a
    pickle that writes ``marker`` (skorch's ``__setstate__`` unpickles it)."""
    import pickle

    with zipfile.ZipFile(path) as archive:
        body = archive.read("model.skops")
    inner = zipfile.ZipFile(io_bytes(body))
    schema = json.loads(inner.read("schema.json"))

    def plain(value, loader="JsonNode"):
        return {
            "__class__": type(value).__name__,
            "__module__": "builtins",
            "__loader__": loader,
            "content": json.dumps(value),
            "is_json": True,
            "__id__": 1,
        }

    str_type = {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode", "__id__": 3}
    schema["content"]["content"]["evil_"] = {
        "__class__": "NeuralNet",
        "__module__": "skorch.net",
        "__loader__": "ObjectNode",
        "__id__": 6,
        "content": {
            "__class__": "dict",
            "__module__": "builtins",
            "__loader__": "DictNode",
            "__id__": 5,
            "content": {
                "__cuda_dependent_attributes__": {
                    "__class__": "bytes",
                    "__module__": "builtins",
                    "__loader__": "BytesNode",
                    "file": "evil.bin",
                    "__id__": 2,
                },
                "device": plain("cpu"),
            },
            "key_types": {
                "__class__": "list",
                "__module__": "builtins",
                "__loader__": "ListNode",
                "content": [str_type, str_type],
                "__id__": 4,
            },
        },
    }
    schema["content"]["key_types"]["content"].append(str_type)
    buf = io_bytes()
    with zipfile.ZipFile(buf, "w") as new:
        for name in inner.namelist():
            if name != "schema.json":
                new.writestr(name, inner.read(name))
        new.writestr("schema.json", json.dumps(schema))
        new.writestr("evil.bin", pickle.dumps(_RunsCode(marker)))
    return _rewrite(path, out, **{"model.skops": buf.getvalue()})


def test_a_file_whose_skorch_node_unpickles_runs_nothing(tmp_path, capsys):
    from sklearn_asd.cli import main

    _ae_file(tmp_path / "good.asd")
    marker = tmp_path / "ran.txt"
    evil = _with_pickle_in_a_skorch_node(tmp_path / "good.asd", tmp_path / "evil.asd", marker)
    assert io.get_untrusted_types(evil) == ["skorch.net.NeuralNet"]
    with pytest.raises(ValueError, match=r"does not trust: \['skorch.net.NeuralNet'\]"):
        io.load(evil)
    # not even the library's own net classes are rebuilt by skops: their __setstate__ unpickles too
    assert not io._safe._trusted_by_default(
        "sklearn_asd.detectors._autoencoder.ReconstructionNet", {"ObjectNode"}
    )
    assert not marker.exists()
    # the CLI refuses it in one line, and nothing ran there either
    data = tmp_path / "data"
    (data / "fan" / "test").mkdir(parents=True)
    args = ["score", str(evil), "--data", str(data), "--machine", "fan", "--out", str(tmp_path / "out")]
    assert main(args) != 0
    assert "does not trust" in capsys.readouterr().err
    assert not marker.exists()


def test_a_network_spec_naming_an_unregistered_factory_is_refused(tmp_path, monkeypatch, capsys):
    # torch.nn.Linear(20000, 20000) would allocate 1.5 GB: the spec names no network of this library
    _ae_file(
        tmp_path / "m.asd",
        factory=torch.nn.Linear,
        module_kwargs={"in_features": 20000, "out_features": 20000},
    )
    built = []
    monkeypatch.setattr("sklearn_asd.nn._training.rebuild_net", lambda *a, **k: built.append(a))
    with pytest.raises(
        ValueError, match=r"m.asd is damaged: member 'model.skops' has a network spec .*factory"
    ):
        io.load(tmp_path / "m.asd")
    # and the command line, in one line
    from sklearn_asd.cli import main

    (tmp_path / "data" / "fan" / "test").mkdir(parents=True)
    args = ["score", str(tmp_path / "m.asd"), "--data", str(tmp_path / "data"), "--machine", "fan"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    assert "not one this library registers" in capsys.readouterr().err
    assert not built


def test_a_network_spec_larger_than_its_weights_is_refused_unbuilt(tmp_path, monkeypatch):
    # a registered factory with settings far beyond the weights the file holds: built on the meta
    # device only (no memory), compared, refused
    model, _ = _ae_file(tmp_path / "m.asd")
    kwargs = dict(model._net_spec["module_kwargs"], hidden=200_000)
    _ae_file(tmp_path / "big.asd", module_kwargs=kwargs)
    built = []
    monkeypatch.setattr("sklearn_asd.nn._training.rebuild_net", lambda *a, **k: built.append(a))
    with pytest.raises(ValueError, match=r"member 'net_0/params.pt' does not match its network spec"):
        io.load(tmp_path / "big.asd")
    assert not built


@pytest.mark.parametrize(
    "params, what",
    [
        ({"batch_size": 8, "callbacks": None}, "'callbacks'"),
        ({"batch_size": 8, "criterion__weight": KNNDetector}, "not plain"),
        ({"batch_size": -1}, "batch size"),
    ],
)
def test_a_network_spec_with_other_net_settings_is_refused(tmp_path, params, what):
    _ae_file(tmp_path / "m.asd", params=params)
    with pytest.raises(ValueError, match=what):
        io.load(tmp_path / "m.asd")


def test_a_decompression_bomb_is_refused_before_it_is_read(tmp_path, capsys):
    _ae_file(tmp_path / "m.asd")
    bomb = _rewrite(tmp_path / "m.asd", tmp_path / "bomb.asd", **{"net_0/history.json": bytes(150 << 20)})
    assert bomb.stat().st_size < 2 << 20
    for call in (io.load, io.get_untrusted_types):
        with pytest.raises(ValueError, match=r"bomb.asd is damaged: member 'net_0/history.json' declares"):
            call(bomb)
    # the command line refuses it too, in one line
    from sklearn_asd.cli import main

    (tmp_path / "data" / "fan" / "test").mkdir(parents=True)
    args = [
        "score",
        str(bomb),
        "--data",
        str(tmp_path / "data"),
        "--machine",
        "fan",
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(args) == 2
    assert "decompression bomb" in capsys.readouterr().err


def test_an_array_declaring_more_than_it_holds_is_refused(tmp_path):
    model = KNNDetector().fit(np.random.RandomState(0).randn(20, 4))
    io.dump(model, tmp_path / "m.asd")
    with zipfile.ZipFile(tmp_path / "m.asd") as archive:
        body = archive.read("model.skops")
    inner = zipfile.ZipFile(io_bytes(body))
    buf = io_bytes()
    with zipfile.ZipFile(buf, "w") as new:
        for name in inner.namelist():
            data = inner.read(name)
            if name.endswith(".npy"):  # a header claiming 8 GB over the same 640 bytes
                header = io_bytes()
                np.lib.format.write_array_header_1_0(
                    header, {"descr": "<f8", "fortran_order": False, "shape": (1 << 30,)}
                )
                data = header.getvalue() + data[128:]
            new.writestr(name, data)
    path = _rewrite(tmp_path / "m.asd", tmp_path / "liar.asd", **{"model.skops": buf.getvalue()})
    with pytest.raises(
        ValueError, match=r"liar.asd is damaged: member 'model.skops:.*npy' declares an array"
    ):
        io.load(path)


@pytest.mark.parametrize(
    "member, data, message",
    [
        ("model.skops", b"", r"member 'model.skops' is not a readable skops archive"),
        ("net_0/params.pt", b"", r"member 'net_0/params.pt' is not a torch weights file"),
        ("net_0/criterion.pt", None, r"member 'net_0/criterion.pt' is missing"),
        ("net_0/history.json", b"[1, 2", r"member 'net_0/history.json' is not a training history"),
        (
            "format.json",
            b'{"format": "sklearn-asd safe model", "format_version": "1", "n_nets": 1}',
            r"member 'format.json' has format_version='1'",
        ),
        ("format.json", b"{", r"member 'format.json' is not JSON"),
    ],
)
def test_damaged_files_say_which_member_and_what(tmp_path, member, data, message):
    _ae_file(tmp_path / "m.asd")
    path = _rewrite(tmp_path / "m.asd", tmp_path / "damaged.asd", **{member: data})
    with pytest.raises(ValueError, match=r"damaged.asd is damaged: " + message) as info:
        io.load(path)
    assert "\n" not in str(info.value)


def test_dump_leaves_the_model_untouched(tmp_path, monkeypatch):
    model, X = _ae_file(tmp_path / "m.asd")
    net = model.net_
    seen = []
    real = io._safe._swap_none_keys
    # while the file is written, the caller's model keeps its network
    monkeypatch.setattr(io._safe, "_swap_none_keys", lambda *a: (seen.append(model.net_ is net), real(*a)))
    io.dump(model, tmp_path / "again.asd")
    assert seen and all(seen) and model.net_ is net
    assert io.load(tmp_path / "again.asd")._net_spec["mixed_precision"] is False
