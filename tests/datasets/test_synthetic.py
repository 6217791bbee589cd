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
    from sklearn_asd.datasets._synthetic import _character, _design_factory

    units = _design_factory(np.random.RandomState(0), 4, 16000)["units"]
    f0 = sorted(u["f0"] for u in units)
    # one product model: speeds within a few percent (the attributes' 6 % steps overlap them),
    # resonances near the model's, each unit's own
    assert f0[-1] / f0[0] < 1.05
    res = np.array([u["res_freqs"] for u in units])
    assert np.all(np.ptp(res, axis=0) / res.mean(axis=0) < 0.1)
    assert len({tuple(np.round(r)) for r in res}) == 4
    # the character of their wear differs between units by far more than the build: each share
    # (rubbing in bursts, knocks in their upper mode, unbalance depth) spreads over units
    shares = np.array([_character(u) for u in units])
    assert np.all(np.ptp(shares, axis=0) > 0.3), shares
    # both modes of the knocks ring below the rubbing's band, not masked by it
    assert all(u["knock_freq"] * 1.3 < u["rub_low"] for u in units)
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
    """Clips of one session (one operating condition and machine state, one factory state) are
    near-duplicates; clips of two sessions differ: as real clips cut from a few long recordings.
    The factory's states are shared by all units (MIMII mixes one factory recording into every
    machine ID). The training and test clips share the sessions and states, not their shares."""
    from sklearn_asd.datasets._synthetic import _design_factory, _factory_session, _synthesize_factory

    machine = _design_factory(np.random.RandomState(0), 2, 16000)
    unit, factory = machine["units"][0], machine["factory"]
    sessions, weights = unit["sessions"]["source"]
    states, state_weights = factory["states"]
    assert len(sessions) == 16 and len(states) == 16
    assert "state" not in sessions[0] and "bed_slope" in states[0]
    for shares in (weights, state_weights):
        assert set(shares) == {"train", "test"}
        for share in shares.values():
            assert share.sum() == pytest.approx(1.0) and share.min() < 1 / 32
        # the test clips come from the same sessions in other shares: a session frequent in
        # training can be rare at test time (the real slider's test normals lie 1.34 times as far
        # from the training clips as these from each other, benchmarks/realism.py)
        assert np.abs(shares["train"] - shares["test"]).max() > 0.1
    assert all(s["spd"] in (0.94, 1.0, 1.06) and s["load"] in (1, 2, 3) for s in sessions)
    # every unit's clips draw their background from the factory's one set of states
    clip_rng = np.random.default_rng(0)
    drawn = [
        _factory_session(clip_rng, u, factory, "source", "train")[0]["state"]
        for u in machine["units"]
        for _ in range(20)
    ]
    assert all(any(d is s for s in states) for d in drawn)
    assert {id(d) for d in drawn[:20]} & {id(d) for d in drawn[20:]}
    rng = np.random.default_rng(0)
    pooled = make_pipeline(LogMel(sr=16000, n_mels=64), Pool("mean"))

    def clips(session):
        session = {**session, "state": states[0]}
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
    factory = machine["factory"]
    bg = _factory_background(rng, factory, 160000, 16000, factory["states"][0][0])
    assert bg.std() == pytest.approx(1.0, rel=1e-6)
    frames = bg.reshape(-1, 1600)
    level_db = 10 * np.log10((frames**2).mean(axis=1))
    assert level_db.std() > 0.5  # the level comes and goes (events, a wandering bed)
    with pytest.raises(ValueError, match="realism must be 'clean' or 'factory'"):
        make_machine_sounds(realism="real", **SMALL)


def test_factory_snr_db_sets_the_mixing_level_of_one_machine():
    kw = dict(n_sections=2, n_normal=3, domains=("source",), split="train", **FACTORY)
    clips = {snr: make_machine_sounds(snr_db=snr, **kw) for snr in (40.0, 34.0, -6.0)}
    # one machine and one set of clips: only the factory's share of each clip differs
    assert list(clips[40.0].filenames) == list(clips[-6.0].filenames)

    def similarity(a, b):
        return np.mean([np.corrcoef(x, y)[0, 1] for x, y in zip(clips[a].X, clips[b].X)])

    # at 40 dB the clip is the machine nearly alone and at 34 dB still (correlation 0.99995); at
    # -6 dB the factory covers it (0.46 on this machine)
    assert similarity(40.0, 34.0) > 0.99
    assert similarity(40.0, -6.0) < 0.7
    for bad, message in ((6.0, "realism='factory' only"), ("6", "finite number"), (np.nan, "finite number")):
        with pytest.raises(ValueError, match=message):
            make_machine_sounds(snr_db=bad, **{**kw, "realism": "clean" if bad == 6.0 else "factory"})


def test_factory_states_are_recordings_of_their_own_colour_and_their_events_recur():
    import librosa

    from sklearn_asd.datasets._synthetic import _design_factory, _factory_background

    factory = _design_factory(np.random.RandomState(0), 2, 16000)["factory"]
    states = factory["states"][0]

    def band_levels(state, seed):
        bg = _factory_background(np.random.default_rng(seed), factory, 32000, 16000, state)
        mel = librosa.feature.melspectrogram(y=bg, sr=16000, n_fft=1024, hop_length=512, n_mels=32)
        return librosa.power_to_db(mel).mean(axis=1)

    # two clips of one state share its colour; clips of two states differ by theirs, by dBs
    same = np.abs(band_levels(states[0], 1) - band_levels(states[0], 2)).mean()
    apart = np.mean([np.abs(band_levels(states[0], 1) - band_levels(s, 2)).mean() for s in states[1:6]])
    assert apart > 3.0 > 4.0 * same  # (without the colour: 1.9 dB apart at this seed)
    # the factory's events come from its own few sources, each of one sound: a state that hears
    # only one of its beepers hears the same pitch in every clip
    beeper = next(j for j, source in enumerate(factory["sources"]) if source["kind"] == "beep")
    only = {**states[0], "event_rate": 3.0, "source_weights": np.eye(len(factory["sources"]))[beeper]}
    for seed in (1, 2):
        spectrum = np.abs(
            np.fft.rfft(_factory_background(np.random.default_rng(seed), factory, 32000, 16000, only))
        )
        freqs = np.fft.rfftfreq(32000, 1 / 16000)
        high = freqs > 700.0
        assert freqs[high][np.argmax(spectrum[high])] == pytest.approx(
            factory["sources"][beeper]["pitch"], abs=2.0
        )


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        ("extra_harmonic", "louder"),
        ("friction", "louder"),
        ("missing_harmonic", "quieter"),
        ("clicks", "about the same"),
        ("modulation", "about the same"),
    ],
)
def test_factory_anomalies_change_the_level_as_on_real_machines(kind, change):
    """Levels are the normal machine's: sound an anomaly adds (or removes) shows in the clip's
    level, as the real slider's louder anomalies; the clean machine normalizes it away. Over
    four units. The faults that change the character of the unit's wear move its sound at
    about one power (the rubbing and the knocks 1.25 times louder): friction +0.2 dB, clicks
    and modulation within +-0.3 dB; a missing harmonic is a smaller part of a worn machine's
    sound (-0.14 dB)."""

    def level_shift(realism):
        kw = dict(n_sections=4, domains=("source",), anomaly_kinds=[kind], duration=2.0, random_state=0)
        data = make_machine_sounds(n_normal=16, n_anomalous=16, realism=realism, **kw)
        level = 10 * np.log10(np.mean(data.X.astype(float) ** 2, axis=1))
        return level[data.anomaly == 1].mean() - level[data.anomaly == 0].mean()

    shift = level_shift("factory")
    expected = {"louder": shift > 0.15, "quieter": shift < -0.1, "about the same": abs(shift) < 0.3}
    assert expected[change], shift
    assert abs(level_shift("clean")) < 0.05


def test_factory_wear_faults_change_the_units_character_toward_the_others():
    """Clicks, friction and modulation move one share of the unit's wear to the other side of
    one half (where units of the other character lie), and the clip's sound with it: the knocks'
    power from one mode to the other, the rubbing from a steady hiss into bursts or back."""
    from sklearn_asd.datasets._synthetic import (
        _character,
        _design_factory,
        _factory_session,
        _synthesize_factory,
    )

    machine = _design_factory(np.random.RandomState(0), 4, 16000)
    unit, factory = machine["units"][0], machine["factory"]
    normal = _character(unit)
    for j, kind in enumerate(("friction", "clicks", "modulation")):
        changed = _character(unit, kind, 5.0)
        assert (changed[j] - 0.5) * (normal[j] - 0.5) < 0 and abs(changed[j] - normal[j]) > 0.3
        np.testing.assert_array_equal(np.delete(changed, j), np.delete(normal, j))
        assert abs(_character(unit, kind, 0.5)[j] - normal[j]) < abs(changed[j] - normal[j])  # severity
    rng = np.random.default_rng(0)
    session = _factory_session(rng, unit, factory, "source", "train")[0]
    freqs = np.fft.rfftfreq(1024, 1 / 16000)

    def bands(kind, lo, hi):
        """Per clip and frame, the power between ``lo`` and ``hi``, over 8 clips."""
        X = np.stack(
            [_synthesize_factory(rng, unit, factory, session, kind, 0.3, 16000, 32000) for _ in range(8)]
        )
        frames = X[:, : 31 * 1024].reshape(8, 31, 1024) * np.hanning(1024)
        return (np.abs(np.fft.rfft(frames, axis=2)) ** 2)[:, :, (freqs > lo) & (freqs < hi)].sum(axis=2)

    # unit 0 has most of its knocks' power in the lower mode: the fault moves it to the upper one
    assert normal[1] < 0.5
    f = unit["knock_freq"]
    ratio = {
        k: 10 * np.log10(bands(k, 1.25 * f, 1.35 * f).sum() / bands(k, 0.95 * f, 1.05 * f).sum())
        for k in (None, "clicks")
    }
    assert ratio["clicks"] > ratio[None] + 3.0, ratio
    # its rubbing is a steady hiss: the fault brings it in bursts, its band fluctuates more
    assert normal[0] < 0.5
    lo = unit["rub_low"]
    spread = {k: (10 * np.log10(bands(k, 1.1 * lo, 1.5 * lo))).std(axis=1).mean() for k in (None, "friction")}
    assert spread["friction"] > spread[None] + 1.0, spread


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
