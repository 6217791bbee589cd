import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sklearn_asd.datasets import ANOMALY_KINDS, make_machine_sounds, parse_filename
from sklearn_asd.datasets._synthetic import _harmonic_sum
from sklearn_asd.detectors import KNNDetector
from sklearn_asd.features import LogMel, Pool
from sklearn_asd.metrics import roc_auc
from sklearn_asd.utils import anomaly_score

SMALL = dict(duration=0.5, sr=8000)


def test_shapes_counts_and_bunch_fields():
    data = make_machine_sounds(n_sections=2, n_normal=3, n_anomalous=2, random_state=0, **SMALL)
    n = 2 * 2 * (3 + 2)
    assert data.X.shape == (n, 4000) and data.X.dtype == np.float32
    for field in ("y", "section", "domain", "anomaly", "attributes", "split", "filenames", "anomaly_kind"):
        assert len(data[field]) == n
    assert data.sr == 8000
    assert data.anomaly.sum() == 2 * 2 * 2
    assert set(data.section) == {"section_00", "section_01"}
    assert np.array_equal(data.y, data.section)
    assert set(data.anomaly_kind[data.anomaly == 1]) <= set(ANOMALY_KINDS)
    assert set(data.anomaly_kind[data.anomaly == 0]) == {""}
    assert np.all(np.abs(data.X) <= 1.0) and np.all(np.isfinite(data.X))


def test_filenames_follow_the_dcase_scheme():
    data = make_machine_sounds(n_sections=2, n_normal=2, random_state=0, **SMALL)
    for i, name in enumerate(data.filenames):
        record = parse_filename(name)
        assert record["section"] == data.section[i]
        assert record["domain"] == data.domain[i]
        assert record["anomaly"] == data.anomaly[i]
        assert record["attributes"] == data.attributes[i]
        assert record["split"] == "test"


def test_deterministic_and_train_test_differ():
    a = make_machine_sounds(n_normal=2, random_state=3, **SMALL)
    b = make_machine_sounds(n_normal=2, random_state=3, **SMALL)
    np.testing.assert_array_equal(a.X, b.X)
    train = make_machine_sounds(n_normal=2, split="train", random_state=3, **SMALL)
    assert train.anomaly.sum() == 0 and set(train.split) == {"train"}
    # same machine (same target speed attribute), other clips
    assert set(a.attributes[a.domain == "target"][0].values()) == set(
        train.attributes[train.domain == "target"][0].values()
    )
    assert not np.allclose(train.X[0], a.X[0])
    other = make_machine_sounds(n_normal=2, random_state=4, **SMALL)
    assert not np.allclose(other.X, a.X)


def test_imbalanced_domains_and_single_domain():
    data = make_machine_sounds(n_normal={"source": 5, "target": 1}, split="train", random_state=0, **SMALL)
    assert (data.domain == "source").sum() == 15 and (data.domain == "target").sum() == 3
    src = make_machine_sounds(n_normal=2, domains=("source",), random_state=0, **SMALL)
    assert set(src.domain) == {"source"}


def test_target_domain_is_shifted_in_speed():
    data = make_machine_sounds(n_sections=1, n_normal=2, n_anomalous=0, random_state=0, **SMALL)
    speeds = {d: float(a["spd"]) for d, a in zip(data.domain, data.attributes)}
    assert speeds["source"] == 1.0 and 0.05 < abs(speeds["target"] - 1.0) < 0.13


@pytest.mark.parametrize("kind", ANOMALY_KINDS)
def test_each_anomaly_kind_is_detectable_and_severity_sets_the_difficulty(kind):
    """A plain log-mel + kNN detector finds every kind at severity 1, and finds it less well at 0.1."""

    def auc(severity):
        kw = dict(
            n_sections=1,
            domains=("source",),
            anomaly_kinds=[kind],
            severity=severity,
            random_state=0,
            duration=1.0,
        )
        train = make_machine_sounds(n_normal=20, split="train", **kw)
        test = make_machine_sounds(n_normal=10, n_anomalous=10, **kw)
        model = make_pipeline(LogMel(n_mels=64), Pool("mean+max"), KNNDetector(metric="euclidean"))
        model.fit(train.X)
        return roc_auc(test.anomaly, anomaly_score(model, test.X))

    strong, faint = auc(1.0), auc(0.1)
    assert strong >= 0.95
    assert faint < strong - 0.15


def test_harmonic_sum_equals_direct_sum():
    rng = np.random.default_rng(0)
    phase = np.cumsum(rng.uniform(0.01, 0.05, 2000))
    coefs = rng.normal(size=12) + 1j * rng.normal(size=12)
    k = np.arange(1, 13)[:, None]
    direct = (np.abs(coefs)[:, None] * np.sin(k * phase + np.angle(coefs)[:, None])).sum(0)
    np.testing.assert_allclose(_harmonic_sum(coefs, phase), direct, atol=1e-10)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(split="train", n_anomalous=3), "normal clips only"),
        (dict(split="eval"), "split must be"),
        (dict(severity=0.0), "severity"),
        (dict(anomaly_kinds=["rattle"]), "anomaly_kinds"),
        (dict(domains=("source", "other")), "domains"),
        (dict(n_normal={"sauce": 3}), "unknown domain"),
        (dict(n_normal=-1), "non-negative"),
        (dict(n_sections=0), "n_sections"),
        (dict(duration=0.001), "duration"),
        (dict(n_normal=0, n_anomalous=0), "no clip"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_machine_sounds(**{"random_state": 0, **SMALL, **kwargs})
