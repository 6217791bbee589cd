import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_asd.detectors import KNNDetector
from sklearn_asd.utils import anomaly_score, check_metadata


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    section = np.array(["a"] * 40 + ["b"] * 20)
    return X, section


def test_our_pipeline_routes_section(data, routing):
    X, section = data
    pipe = make_pipeline(StandardScaler(), KNNDetector(per_section=True)).fit(X, section, section=section)
    expected = pipe[-1].anomaly_score(pipe[0].transform(X), section=section)
    np.testing.assert_array_equal(anomaly_score(pipe, X, section=section, domain=["source"] * 60), expected)
    # the DCASE sign is the opposite of decision_function, up to the threshold
    np.testing.assert_allclose(
        anomaly_score(pipe, X, section=section),
        -pipe.decision_function(X, section=section) - pipe[-1].offset_,
    )


def test_imblearn_pipeline_skips_samplers(data, routing):
    X, section = data
    pipe = ImbPipeline(
        [("scale", StandardScaler()), ("balance", RandomOverSampler(random_state=0)), ("knn", KNNDetector())]
    ).fit(X, section)
    # the oversampler duplicated section b's clips for fit; scoring sees X unchanged
    assert pipe[-1].n_features_in_ == 4
    expected = pipe[-1].anomaly_score(pipe[0].transform(X))
    np.testing.assert_array_equal(anomaly_score(pipe, X, section=section), expected)


@pytest.mark.parametrize(
    "detector", [IsolationForest(random_state=0), LocalOutlierFactor(novelty=True, n_neighbors=5)]
)
def test_plain_sklearn_detectors_use_minus_score_samples(data, detector):
    X, section = data
    fitted = make_pipeline(StandardScaler(), detector).fit(X)
    np.testing.assert_array_equal(anomaly_score(fitted, X), -fitted.score_samples(X))
    # metadata that no step requests is an error, as in scikit-learn's routing; None is no metadata
    with pytest.raises(TypeError, match=r"no step of Pipeline requests: \['section'\] \(requested: \[\]\)"):
        anomaly_score(fitted, X, section=section)
    np.testing.assert_array_equal(anomaly_score(fitted, X, domain=None), -fitted.score_samples(X))


def test_a_misspelt_metadata_name_is_an_error(data, routing):
    X, section = data
    pipe = make_pipeline(StandardScaler(), KNNDetector(per_section=True)).fit(X, section=section)
    with pytest.raises(TypeError, match=r"requests: \['domian'\] \(requested: \['domain', 'section'\]\)"):
        anomaly_score(pipe, X, section=section, domian=section)
    with pytest.raises(TypeError, match=r"no step of KNNDetector requests: \['sektion'\]"):
        anomaly_score(pipe[-1], X, sektion=section)


def test_rejects_non_detectors(data):
    X, _ = data
    with pytest.raises(TypeError, match="not an outlier detector"):
        anomaly_score(StandardScaler().fit(X), X)


def test_check_metadata():
    np.testing.assert_array_equal(check_metadata("a", 3, "section", caller="X"), ["a", "a", "a"])
    with pytest.raises(ValueError, match="X needs the domain of each clip: pass domain="):
        check_metadata(None, 3, "domain", caller="X")
    with pytest.raises(ValueError, match="must be among"):
        check_metadata(["source", "tgt"], 2, "domain", caller="X", allowed=("source", "target"))


def test_one_device_rule_for_every_torch_estimator():
    import torch

    from sklearn_asd.embedders import ClassifierEmbedder
    from sklearn_asd.utils import resolve_device

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu' or 'cuda"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        # the embedder's training net resolves its device with the same rule, before training
        X = np.zeros((4, 8, 16), np.float32)
        with pytest.raises(ValueError, match="torch sees no CUDA device"):
            ClassifierEmbedder(device="cuda", patch_frames=8, max_epochs=1).fit(X, ["a", "b"] * 2)
