"""The speed benchmarks' single entry point covers every benchmark script and runs one."""

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_asd.metrics import roc_auc

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

pytestmark = pytest.mark.skipif(not BENCHMARKS.is_dir(), reason="benchmarks/ is not beside the package")


def load_script(name):
    """A benchmark script, imported as a module."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


def test_run_all_knows_every_benchmark_script():
    run_all = load_script("run_all")
    scripts = {script for script, _ in run_all.BENCHMARKS.values()}
    assert scripts == {p.name for p in BENCHMARKS.glob("bench_*.py")}


def test_run_all_runs_a_benchmark_and_reports_the_machine():
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run_all.py"), "--only", "synthetic", "--quick"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("machine: ") and "cores" in out
    assert "ratio" in out and "=== synthetic:" in out


def test_accuracy_summary_is_mean_and_sd_over_seeds():
    run_accuracy = load_script("run_accuracy")
    rows = [
        {"model": "knn", "official": 0.8, "AUC src": 0.9},
        {"model": "knn", "official": 0.9, "AUC src": 0.7},
        {"model": "ae", "official": 0.6, "AUC src": 0.6},
    ]
    summary = run_accuracy.seed_summary(rows, ("official", "AUC src"))
    assert summary["knn"][0] == pytest.approx((0.85, 0.0707107), rel=1e-5)
    assert summary["knn"][1] == pytest.approx((0.8, 0.1414214), rel=1e-5)
    assert summary["ae"] == [(0.6, 0.0), (0.6, 0.0)]  # one seed: no spread


def test_compare_real_machine_is_dcase_2020_shaped_with_the_sliders_faults():
    run_accuracy = load_script("run_accuracy")
    train, test = run_accuracy.factory_machine(0, n_train=3, n_test=2, duration=0.5)
    assert set(train.section) == set(test.section) == {"id_00", "id_01", "id_02", "id_03"}
    np.testing.assert_array_equal(train.y, train.section)
    assert set(train.domain) == set(test.domain) == {"source"} and not train.outlier.any()
    assert train.anomaly.sum() == 0 and test.anomaly.sum() == 8
    # the anomalies are of the real slider's three kinds of fault only
    kinds = set(test.anomaly_kind[test.anomaly == 1])
    assert kinds <= set(run_accuracy.SLIDER_FAULTS) == {"clicks", "modulation", "friction"}


def test_compare_real_summary_ranks_each_training_seed_and_their_mean():
    run_accuracy = load_script("run_accuracy")
    real, synth = run_accuracy.REAL_SLIDER, "synthetic factory seed 5"

    def rows(**aucs):
        return {name: {"AUC src": a} for name, a in aucs.items()}

    knn = "pooled log-mel + kNN"
    results = {
        real: {
            0: rows(**{knn: 0.7, "giri2020": 0.9, "morita2021": 0.8}),
            1: rows(**{knn: 0.7, "giri2020": 0.8, "morita2021": 0.9}),
        },
        synth: {
            0: rows(**{knn: 0.5, "giri2020": 0.9, "morita2021": 0.6}),
            1: rows(**{knn: 0.5, "giri2020": 0.7, "morita2021": 0.6}),
        },
    }
    lines = run_accuracy.compare_summary(results)
    text = "\n".join(lines)
    # training seed 0: same order on both sets; seed 1: giri and morita swap on the real set only
    seed0 = lines.index("\ntraining seed 0: ranking by mean AUC over IDs (1 = best)")
    assert lines[seed0 + 1] == f"  {real}: giri2020 (0.900) > morita2021 (0.800) > {knn} (0.700)"
    assert lines[seed0 + 3] == f"  Spearman correlation, {synth} vs real: 1.000 (3 models)"
    assert f"Spearman correlation, {synth} vs real: 0.500 (3 models)" in text
    # the means: real giri 0.85 = morita 0.85 (tied), synthetic giri 0.8 > morita 0.6
    assert f"  {synth}: giri2020 (0.800) > morita2021 (0.600) > {knn} (0.500)" in text
    assert f"Spearman correlation, {synth} vs real: 0.866 (3 models)" in text
    assert f"ID-classifier recipes above the pooled kNN, {synth}: 2 of 5" in text
    # each set against itself between its two training seeds
    assert f"  {real}: 0.500 (0.500)" in text and f"  {synth}: 1.000 (1.000)" in text
    # one training seed: no mean and no agreement lines
    one = "\n".join(run_accuracy.compare_summary({k: {0: v[0]} for k, v in results.items()}))
    assert "mean over training seeds" not in one and "agreement" not in one


def test_compare_real_pairs_resolved_beyond_test_clip_and_seed_noise():
    run_accuracy = load_script("run_accuracy")
    real, synth = run_accuracy.REAL_SLIDER, "synthetic factory seed 5"
    rng = np.random.default_rng(0)
    anomaly = np.r_[np.zeros(40), np.ones(40), np.zeros(30), np.ones(50)].astype(int)
    section = np.array(["id_00"] * 80 + ["id_02"] * 80, dtype=object)

    def rows(**scores):
        return {
            name: {
                "AUC src": np.mean(
                    [run_accuracy._aucs(s[section == i], anomaly[section == i]) for i in ("id_00", "id_02")]
                ),
                "scores": s,
            }
            for name, s in scores.items()
        }

    def seed(good):
        # "good" separates the anomalies, "noise" and "other" are chance on every seed
        return rows(
            good=good * anomaly + rng.normal(size=anomaly.size),
            noise=rng.normal(size=anomaly.size),
            other=rng.normal(size=anomaly.size),
        )

    results = {real: {t: seed(3.0) for t in (0, 1, 2)}, synth: {t: seed(-3.0) for t in (0, 1, 2)}}
    # the bootstrap's AUC of many rows at once is the package's roc_auc of each, ties included
    S = rng.integers(0, 5, (3, anomaly.size)).astype(float)
    expected = [roc_auc(anomaly, row) for row in S]
    np.testing.assert_allclose(run_accuracy._aucs(S, anomaly), expected)
    pairs = run_accuracy.resolved_pairs(results[real], anomaly, section, n_boot=300)
    assert set(pairs) == {("good", "noise"), ("good", "other")}  # chance vs chance: not told apart
    d, low, high = pairs[("good", "noise")]
    assert 0.4 < d < 0.5 and 0 < low < d < high  # AUC about 0.98 against 0.5
    # the synthetic set resolves both of the real set's pairs the other way
    text = "\n".join(run_accuracy.compare_summary(results, labels={k: (anomaly, section) for k in results}))
    assert f"  {real}: 2 of 3 pairs" in text and "    good > noise: +0.4" in text
    assert (
        f"  {synth} vs real: of the real set's 2 resolved pairs, 0 in the same order on the means, "
        "0 resolved the same way, 2 resolved the other way: noise > good, other > good"
    ) in text
    # a set whose models score with no spread over seeds or clips resolves nothing it cannot
    assert run_accuracy.resolved_pairs({0: rows(a=anomaly * 1.0)}, anomaly, section) == {}


def test_accuracy_model_selection_is_exact_for_a_full_name():
    run_accuracy = load_script("run_accuracy")
    names = ["hai2024", "hai2024_dual_branch", "hai2024_oevae", "kazakova2022", "kazakova2022_classifier"]
    picked = lambda word: [n for n in names if run_accuracy.selects(word, n, names)]  # noqa: E731
    assert picked("hai2024") == ["hai2024"]
    assert picked("kazakova") == ["kazakova2022", "kazakova2022_classifier"]
    assert picked("dual") == ["hai2024_dual_branch"]


def test_the_diagnostics_script_lists_its_measurements():
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / "diagnose.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for what in ("ae-curve", "oe-terms", "oevae-terms", "valve-domains", "ensembles"):
        assert what in out


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the machine without a GPU")
def test_the_gpu_benchmark_skips_without_a_device():
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_gpu.py")], capture_output=True, text=True, check=True
    ).stdout
    assert "no CUDA device here: bench_gpu.py skipped" in out


def test_realism_properties_measure_what_they_name():
    realism = load_script("realism")
    rng = np.random.default_rng(0)
    section = np.repeat(["a", "b"], 40)
    # clips drawn independently: nearest-neighbour distances concentrate; clips in pairs of
    # near-duplicates (a recording cut in two), the pairs far apart: they spread
    independent = rng.normal(size=(80, 20))
    pairs = np.repeat(rng.normal(size=(40, 20)), 2, axis=0) + 0.05 * rng.normal(size=(80, 20))
    pairs[::8] += 3 * rng.normal(size=(10, 20))  # and some clips of rare conditions, alone
    assert realism.nn_spread(independent, section) < 2.0 < 4.0 < realism.nn_spread(pairs, section)
    # sections apart in one feature: a linear classifier names them; drawn alike: chance
    apart = independent + 4.0 * (section == "b")[:, None] * (np.arange(20) < 5)
    assert realism.id_accuracy(apart, section) > 0.95
    assert realism.id_accuracy(independent, section) < 0.7
    # anomalies that move section a toward b align with the IDs; a move where no unit is does not
    test_section = np.repeat(["a"], 40)
    anomaly = np.repeat([0, 1], 20)
    toward = independent[:40] + 3.0 * anomaly[:, None] * (np.arange(20) < 5)
    away = independent[:40] + 3.0 * anomaly[:, None] * (np.arange(20) >= 15)
    assert realism.anomaly_alignment(apart, section, toward, anomaly, test_section) > 0.8
    assert abs(realism.anomaly_alignment(apart, section, away, anomaly, test_section)) < 0.3
    # the probe: the linear ID posterior sees a move toward the other section, the kNN any move
    posterior, knn = realism.probe(apart, section, toward, anomaly, test_section)["a"]
    assert posterior > 0.9 and knn > 0.9
    posterior, knn = realism.probe(apart, section, away, anomaly, test_section)["a"]
    assert posterior < 0.75 < 0.9 < knn
    # the between-ID scatter: in the first half (the means over time) or the second (the stds);
    # three sections on a line lie on one axis, at the corners of a triangle on two
    in_std, first_axis = realism.id_scatter(apart, section)
    assert in_std < 0.1 and first_axis == pytest.approx(1.0)
    fluctuating = independent + 4.0 * (section == "b")[:, None] * (np.arange(20) >= 15)
    assert realism.id_scatter(fluctuating, section)[0] > 0.9
    three = np.repeat(["a", "b", "c"], 40)
    base = rng.normal(size=(120, 20))
    line = base + 4.0 * np.repeat([0.0, 1.0, 2.0], 40)[:, None] * (np.arange(20) < 5)
    corners = base + 4.0 * (
        (three == "b")[:, None] * (np.arange(20) < 5) + (three == "c")[:, None] * (np.arange(20) >= 15)
    )
    assert realism.id_scatter(line, three)[1] > 0.95
    assert realism.id_scatter(corners, three)[1] < 0.8
    # on the first ID axis: anomalies that move a toward b move along it (in a's standard
    # deviations on the axis: 3 in 5 features), spread over those 5 features; a move where no
    # unit is, not along it
    row = realism.id_axis(apart, section, toward, anomaly, test_section)["a"]
    assert np.sign(row["shift"]) == np.sign(row["positions"]["b"] - row["positions"]["a"])
    assert 5.0 < abs(row["shift"]) < 8.5 and 4.0 < row["features"] < 9.0
    assert abs(realism.id_axis(apart, section, away, anomaly, test_section)["a"]["shift"]) < 1.5
    # test normals of the training clips' recordings lie as near them as they lie to each other;
    # test normals of another recording (an offset) do not
    fresh = rng.normal(size=(40, 20))
    assert realism.shift_of_test_normals(independent, section, fresh, anomaly, test_section) == pytest.approx(
        1.0, abs=0.25
    )
    assert realism.shift_of_test_normals(independent, section, fresh + 1.5, anomaly, test_section) > 1.5
    # the band levels' spread over clips, in the first half of the features (the means over time)
    levels = np.c_[2.0 * independent[:, :10], 9.0 * independent[:, 10:]]
    assert realism.band_level_spreads(levels, section)["a"] == pytest.approx(2.0, rel=0.25)
    assert realism.band_level_spreads(levels, section, "stds")["b"] == pytest.approx(9.0, rel=0.25)
    # clips that differ by a condition of the whole clip: its halves agree; by the moment: they do not
    condition = rng.normal(size=(80, 20))
    first, second = condition + 0.2 * rng.normal(size=(80, 20)), condition + 0.2 * rng.normal(size=(80, 20))
    assert min(realism.half_reliabilities(first, second, section).values()) > 0.9
    assert (
        max(np.abs(list(realism.half_reliabilities(independent, fresh.repeat(2, axis=0), section).values())))
        < 0.3
    )
    # anomalous clips twice the amplitude: 6 dB louder
    clips = rng.normal(size=(40, 100))
    clips[anomaly == 1] *= 2.0
    assert realism.anomaly_loudness(clips, anomaly, test_section)["a"] == pytest.approx(6.02, abs=0.3)
    # clips in pairs of near-duplicates lie far nearer each other than the mean; independent ones do not
    assert max(realism.nn_clustering(pairs, section).values()) < 0.3
    assert min(realism.nn_clustering(independent, section).values()) > 0.7


def test_realism_band_envelopes_see_recurring_bursts_in_their_band():
    realism = load_script("realism")
    sr, rng = 16000, np.random.default_rng(2)
    t = np.arange(10 * sr) / sr
    steady = rng.normal(size=t.size)
    # the same noise with a 5-7 kHz hiss 0.3 s long every 1.1 s, some 26 dB above it in its band
    hiss = np.fft.irfft(
        np.fft.rfft(rng.normal(size=t.size))
        * ((np.fft.rfftfreq(t.size, 1 / sr) > 5000) & (np.fft.rfftfreq(t.size, 1 / sr) < 7000)),
        t.size,
    )
    bursts = steady + 30 * hiss * ((t % 1.1) < 0.3)
    calm, busy = realism.band_envelopes(steady, sr), realism.band_envelopes(bursts, sr)
    low, high = 0, len(realism.ENVELOPE_BANDS) - 1
    assert calm[high, 1] < 1.5 and busy[high, 1] > 10.0  # the 95th over the 50th percentile, dB
    assert busy[high, 2] > 0.8 and busy[high, 3] == pytest.approx(1.1, abs=0.05)  # recurs at 1.1 s
    assert abs(busy[low, 0] - calm[low, 0]) < 0.1  # the low band does not see them


def test_realism_id_subspace_measures_what_it_names():
    realism = load_script("realism")
    rng = np.random.default_rng(1)
    section = np.repeat(["a", "b", "c"], 40)
    # three sections apart in features 0-4 and 5-9; features 10-19 do not tell them apart
    F = rng.normal(size=(120, 20))
    F[section == "b", :5] += 4.0
    F[section == "c", 5:10] += 4.0
    test_section = np.repeat(["a"], 60)
    anomaly = np.repeat([0, 1], 30)
    fresh = rng.normal(size=(60, 20))
    # anomalies that move a toward b: the shift lies in the ID subspace, several of a's standard
    # deviations there, and the distance there detects them; a move where no unit is does neither
    toward = fresh + 3.0 * anomaly[:, None] * (np.arange(20) < 5)
    away = fresh + 3.0 * anomaly[:, None] * (np.arange(20) >= 15)
    row = realism.id_subspace(F, section, toward, anomaly, test_section)["a"]
    assert row["share"] > 0.8 and row["shift"] > 4.0 and row["auc"] > 0.95
    row = realism.id_subspace(F, section, away, anomaly, test_section)["a"]
    assert row["share"] < 0.2 and row["shift"] < 1.5 and row["auc"] < 0.7
    # test normals drawn as the training clips lie where these do in the ID subspace; an offset
    # in features no ID differs in (norm 4.7) leaves them near there, one toward b (norm 3.4) not
    assert row["offset"] < 0.6

    def offset(shifted):
        return realism.id_subspace(F, section, away + 1.5 * shifted, anomaly, test_section)["a"]["offset"]

    assert offset(np.arange(20) >= 10) < 1.0 and offset(np.arange(20) < 5) > 2.0


def test_realism_spreads_measure_what_they_name():
    realism = load_script("realism")
    rng = np.random.default_rng(2)
    section = np.repeat(["a", "b"], 40)
    # 16 bands: means in the first half of the columns, standard deviations over time in the
    # second; the band levels of the upper eight vary 3 dB within a section, the sections differ
    # by 2 dB in the fluctuation of the top four bands only
    F = np.zeros((80, 32))
    F[:, :16] = rng.normal(size=(80, 16)) * np.r_[np.full(8, 0.5), np.full(8, 3.0)]
    F[:, 16:] = 0.1 * rng.normal(size=(80, 16))
    F[section == "b", 28:] += 2.0
    within, between = realism.band_spreads(F, section, groups=4)
    np.testing.assert_allclose(within, [0.5, 0.5, 3.0, 3.0], rtol=0.25)
    assert between[-1] == pytest.approx(1.0, abs=0.1) and np.all(between[:-1] < 0.1)
    # clips in near-duplicate pairs: the nearest distances are small; the pairs' spread sets NN spread
    pairs = np.repeat(rng.normal(size=(40, 20)), 2, axis=0) + 0.05 * rng.normal(size=(80, 20))
    nearest = realism.nearest_distances(pairs, section)
    assert set(nearest) == {"a", "b"} and all(len(d) == 40 for d in nearest.values())
    assert max(np.percentile(d, 90) for d in nearest.values()) < 0.5
    assert realism.nn_spread(pairs, section) == pytest.approx(
        np.mean([np.percentile(d, 90) / np.percentile(d, 10) for d in nearest.values()])
    )
