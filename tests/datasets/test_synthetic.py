from pathlib import Path

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


# ------------------------------------------------------------------ realism="factory"

FACTORY = dict(realism="factory", duration=1.0, random_state=0)


def test_factory_clips_carry_per_clip_attributes_with_the_target_a_speed_shift():
    data = make_machine_sounds(n_sections=2, n_normal={"source": 30, "target": 3}, split="train", **FACTORY)
    for name, attrs, dom in zip(data.filenames, data.attributes, data.domain):
        record = parse_filename(name)
        assert record["attributes"] == attrs and set(attrs) == {"spd", "load"}
        assert name.endswith(f"_spd_{attrs['spd']}_load_{attrs['load']}.wav")
        assert attrs["load"] in ("1", "2", "3")
        if dom == "source":
            assert attrs["spd"] in ("0.94", "1.00", "1.06")
    source = data.domain == "source"
    # each clip draws its own condition: several speeds and loads within a section's source clips
    assert len({a["spd"] for a in data.attributes[source]}) == 3
    assert len({a["load"] for a in data.attributes[source]}) == 3
    for s in ("section_00", "section_01"):
        target = {float(a["spd"]) for a in data.attributes[(data.section == s) & ~source]}
        assert len(target) == 1 and 0.12 <= abs(target.pop() - 1.0) <= 0.2


def separation(data):
    """Mean over clips of (nearest clip of another section) / (nearest other clip of its own)."""
    F = make_pipeline(LogMel(sr=16000, n_mels=64), Pool("mean+std")).fit_transform(data.X)
    F = (F - F.mean(axis=0)) / (F.std(axis=0) + 1e-12)
    D = np.linalg.norm(F[:, None] - F[None], axis=2)
    np.fill_diagonal(D, np.inf)
    same = data.section[:, None] == data.section[None, :]
    return float(np.mean(np.where(~same, D, np.inf).min(axis=1) / np.where(same, D, np.inf).min(axis=1)))


def test_factory_units_are_specimens_of_one_model_that_differ_in_build_and_wear():
    from sklearn_asd.datasets._synthetic import _design_factory

    units = _design_factory(np.random.RandomState(0), 4, 16000)["units"]
    f0 = sorted(u["f0"] for u in units)
    # one product model: speeds within a few percent (the attributes' 6 % steps overlap them),
    # resonances near the model's, each unit's own
    assert f0[-1] / f0[0] < 1.05
    res = np.array([u["res_freqs"] for u in units])
    assert np.all(np.ptp(res, axis=0) / res.mean(axis=0) < 0.1)
    assert len({tuple(np.round(r)) for r in res}) == 4
    # wear differs between units by far more than the build: faults are an excess of it
    for key in ("rub_level", "knock_level", "wobble_depth"):
        levels = [u[key] for u in units]
        assert max(levels) / min(levels) > 1.5, (key, levels)
    # clips of a section spread as far as the sections lie apart (benchmarks/realism.py's "ID
    # separation": about 1.5 on real slider IDs; the clean machine's sections stand far apart)
    kw = dict(n_sections=2, n_normal=12, n_anomalous=0, domains=("source",), duration=2.0, random_state=0)
    ratio = {
        realism: separation(make_machine_sounds(realism=realism, **kw)) for realism in ("clean", "factory")
    }
    assert ratio["factory"] < 2.0 < ratio["clean"], ratio
    data = make_machine_sounds(n_sections=1, n_normal=6, n_anomalous=0, domains=("source",), **FACTORY)
    # a level within +-0.3 dB per clip, as real clips
    level = 10 * np.log10(np.mean(data.X.astype(float) ** 2, axis=1))
    assert np.ptp(level) < 0.7
    np.testing.assert_array_equal(
        make_machine_sounds(n_sections=1, n_normal=6, n_anomalous=0, domains=("source",), **FACTORY).X, data.X
    )


def test_factory_clips_come_from_recording_sessions():
    """Clips of one session (one operating condition and factory state) are near-duplicates;
    clips of two sessions differ: as real clips cut from a few long recordings. The training and
    test clips share the sessions, not their shares."""
    from sklearn_asd.datasets._synthetic import _design_factory, _synthesize_factory

    machine = _design_factory(np.random.RandomState(0), 1, 16000)
    unit, factory = machine["units"][0], machine["factory"]
    sessions, weights = unit["sessions"]["source"]
    assert len(sessions) == 16 and set(weights) == {"train", "test"}
    for shares in weights.values():
        assert shares.sum() == pytest.approx(1.0) and shares.min() < 1 / 32
    # the test clips come from the same sessions in other shares: a session frequent in training
    # can be rare at test time (the real slider's test normals lie 1.34 times as far from the
    # training clips as these from each other, benchmarks/realism.py)
    assert np.abs(weights["train"] - weights["test"]).max() > 0.1
    assert all(s["spd"] in (0.94, 1.0, 1.06) and s["load"] in (1, 2, 3) for s in sessions)
    rng = np.random.default_rng(0)
    pooled = make_pipeline(LogMel(sr=16000, n_mels=64), Pool("mean"))

    def clips(session):
        waves = [_synthesize_factory(rng, unit, factory, session, None, 0.3, 16000, 32000) for _ in range(4)]
        return np.stack(waves)

    F = {i: pooled.fit_transform(clips(sessions[i])) for i in (0, 1)}
    within = np.mean([np.linalg.norm(F[i][a] - F[i][b]) for i in F for a in range(4) for b in range(a)])
    between = np.mean([np.linalg.norm(a - b) for a in F[0] for b in F[1]])
    assert between > 2 * within, (between, within)


def test_factory_background_is_shared_non_stationary_and_mixed_at_a_clip_snr():
    from sklearn_asd.datasets._synthetic import _design_factory, _factory_background

    rng = np.random.default_rng(0)
    machine = _design_factory(np.random.RandomState(0), 2, 16000)
    factory, (sessions, _) = machine["factory"], machine["units"][0]["sessions"]["source"]
    bg = _factory_background(rng, factory, 160000, 16000, sessions[0])
    assert bg.std() == pytest.approx(1.0, rel=1e-6)
    frames = bg.reshape(-1, 1600)
    level_db = 10 * np.log10((frames**2).mean(axis=1))
    assert level_db.std() > 0.5  # the level comes and goes (events, a wandering bed)
    with pytest.raises(ValueError, match="realism must be 'clean' or 'factory'"):
        make_machine_sounds(realism="real", **SMALL)


@pytest.mark.parametrize(
    ("kind", "louder"),
    [
        ("clicks", True),
        ("extra_harmonic", True),
        ("modulation", True),
        ("friction", True),
        ("missing_harmonic", False),
    ],
)
def test_factory_anomalies_change_the_level_as_on_real_machines(kind, louder):
    """Levels are the normal machine's: sound an anomaly adds (or removes) shows in the clip's
    level, as the real slider's louder anomalies; the clean machine normalizes it away. Over
    four units: one unit's shift depends on its knock rate and SNR (0.06-0.7 dB for clicks)."""

    def level_shift(realism):
        kw = dict(n_sections=4, domains=("source",), anomaly_kinds=[kind], duration=2.0, random_state=0)
        data = make_machine_sounds(n_normal=16, n_anomalous=16, realism=realism, **kw)
        level = 10 * np.log10(np.mean(data.X.astype(float) ** 2, axis=1))
        return level[data.anomaly == 1].mean() - level[data.anomaly == 0].mean()

    shift = level_shift("factory")
    assert (shift > 0.15) if louder else (shift < -0.15), shift
    assert abs(level_shift("clean")) < 0.05


def test_save_machine_sounds_round_trips_through_load_dcase(tmp_path):
    from sklearn_asd.datasets import load_dcase, save_machine_sounds

    kw = dict(n_sections=2, **FACTORY)
    train = make_machine_sounds(n_normal={"source": 3, "target": 1}, split="train", **kw)
    test = make_machine_sounds(n_normal=1, n_anomalous=1, **kw)
    folder = save_machine_sounds([train, test], tmp_path, machine="pump")
    assert sorted(p.name for p in folder.iterdir()) == [
        "attributes_00.csv",
        "attributes_01.csv",
        "test",
        "train",
    ]
    header, first = (folder / "attributes_00.csv").read_text().splitlines()[:2]
    assert header == "file_name,d1p,d1v,d2p,d2v" and first.startswith(
        "pump/train/section_00_source_train_normal_"
    )
    for part, split in ((train, "train"), (test, "test")):
        back = load_dcase(tmp_path, "pump", split)
        order = np.argsort(part.filenames)
        assert [Path(f).name for f in back.filenames] == list(part.filenames[order])
        np.testing.assert_allclose(back.X, part.X[order], atol=1.0 / 32768)
        for field in ("section", "domain", "anomaly", "attributes"):
            assert list(back[field]) == list(part[field][order]), field
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_machine_sounds(train, tmp_path, machine="pump")
    save_machine_sounds(train, tmp_path, machine="pump", overwrite=True)


@pytest.mark.slow
def test_a_saved_set_runs_through_the_command_line(tmp_path, capsys):
    from sklearn_asd.cli import main
    from sklearn_asd.datasets import save_machine_sounds

    kw = dict(n_sections=1, **FACTORY)
    train = make_machine_sounds(n_normal={"source": 8, "target": 2}, split="train", **kw)
    test = make_machine_sounds(n_normal=2, n_anomalous=2, **kw)
    save_machine_sounds([train, test], tmp_path / "data")
    data, model, scores = str(tmp_path / "data"), str(tmp_path / "m.asd"), tmp_path / "scores"
    fit = ["fit", "--data", data, "--machine", "synthetic", "--recipe", "dcase_autoencoder", "--fast"]
    assert main([*fit, "--out", model]) == 0
    assert main(["score", model, "--data", data, "--machine", "synthetic", "--out", str(scores)]) == 0
    lines = (scores / "anomaly_score_synthetic_section_00_test.csv").read_text().splitlines()
    assert len(lines) == len(test.X)
    assert main(["evaluate", "--data", data, "--machine", "synthetic", "--scores", str(scores)]) == 0
    assert "section_00" in capsys.readouterr().out
