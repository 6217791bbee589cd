import re
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn

from sklearn_asd import io
from sklearn_asd.cli import main
from sklearn_asd.datasets import load_dcase, make_machine_sounds
from sklearn_asd.utils import anomaly_score


def test_demo_fits_reports_and_saves(tmp_path, capsys):
    out = tmp_path / "models" / "demo.asd"
    code = main(
        ["demo", "--sections", "2", "--n-train", "12", "--n-test", "4", "--duration", "1", "--out", str(out)]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "section_00" in text and "section_01" in text
    assert "AUC (source)" in text and "pAUC" in text and "official score (2021)" in text
    assert "identical scores" in text
    # the numbers explain themselves: the protocol and why, pAUC's limit, the sign
    assert "DCASE 2021-2024 protocol (the clips have sections and a source or target domain" in text
    assert "false-positive rates 0-0.1" in text and "higher = more anomalous" in text
    assert re.search(r"identical scores\) \[\d+\.\d s\]$", text.strip())  # the closing line, timed
    # the saved model (safe format) scores new clips of the same machine
    model = io.load(out, with_metadata=True)[0]
    test = make_machine_sounds(n_sections=2, n_normal=2, duration=1.0, random_state=0)
    scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
    assert scores.shape == (len(test.X),) and np.all(np.isfinite(scores))


def test_bad_arguments_give_a_clear_error(tmp_path, capsys):
    code = main(["demo", "--severity", "3", "--duration", "1", "--out", str(tmp_path / "m.joblib")])
    assert code == 2
    assert "severity must be in (0, 1]" in capsys.readouterr().err


def test_recipes_lists_every_recipe(capsys):
    import subprocess
    import sys

    from sklearn_asd.recipes import RECIPES, REGISTRY

    assert main(["recipes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(RECIPES)
    for line, info in zip(lines, REGISTRY.values()):
        # the name never runs into its summary
        assert line.split(None, 1)[1].startswith(info.summary)
        assert line.endswith("[outlier rows]") == info.uses_outliers
    # listing the recipes never imports torch
    code = "import sys; from sklearn_asd.cli import main; main(['recipes']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.splitlines()[-1] == "False"


def test_fit_score_evaluate_on_the_real_valve_split(shared_data, tmp_path, capsys):
    root = str(shared_data / "dcase2023_valve")
    model = tmp_path / "model.asd"
    assert (
        main(
            [
                "fit",
                "--data",
                root,
                "--machine",
                "valve",
                "--recipe",
                "dcase_autoencoder",
                "--fast",
                "--out",
                str(model),
            ]
        )
        == 0
    )
    scores = tmp_path / "scores"
    assert main(["score", str(model), "--data", root, "--machine", "valve", "--out", str(scores)]) == 0
    lines = (scores / "anomaly_score_valve_section_00_test.csv").read_text().splitlines()
    decisions = (scores / "decision_result_valve_section_00_test.csv").read_text().splitlines()
    assert len(lines) == len(decisions) == 200
    name, value = lines[0].split(",")
    assert name.startswith("section_00_") and name.endswith(".wav") and np.isfinite(float(value))
    assert {d.split(",")[1] for d in decisions} <= {"0", "1"}
    said = capsys.readouterr().out
    assert "decision_result files: 1 = anomalous, 0 = normal (predict's -1 / +1); threshold: the 0.9 " in said
    assert "gamma distribution" in said and re.search(r"files in .*scores \[\d+\.\d s\]$", said.strip())
    # the decisions come from the scores already computed: exactly what predict says
    with sklearn.config_context(enable_metadata_routing=True):
        fitted = io.load(model)
        data = load_dcase(root, "valve", "test", progress=False)
        predicted = fitted.predict(data.X, section=data.section, domain=data.domain) == -1
    by_name = dict(d.split(",") for d in decisions)
    assert [by_name[Path(f).name] == "1" for f in data.filenames] == list(predicted)
    assert main(["evaluate", "--data", root, "--machine", "valve", "--scores", str(scores)]) == 0
    report = capsys.readouterr().out
    assert "official score (2021)" in report and "section_00" in report
    assert "DCASE 2021-2024 protocol" in report and re.search(
        r"evaluated 200 clips .*\[\d+\.\d s\]$", report.strip()
    )
    # the decision files' precision, recall and F1 per domain, as the official evaluator reports
    assert "precision (source)" in report and "F1 score (target)" in report

    plots = tmp_path / "plots"
    args = ["evaluate", "--data", root, "--machine", "valve", "--scores", str(scores), "--plots", str(plots)]
    assert main(args) == 0
    assert sorted(p.name for p in plots.iterdir()) == ["valve_roc.png", "valve_score_histogram.png"]
    assert main([*args, "--model", str(model)]) == 0
    names = [
        "valve_embeddings.png",
        "valve_roc.png",
        "valve_score_histogram.png",
        "valve_training_curves.png",
    ]
    assert sorted(p.name for p in plots.iterdir()) == names
    for name in names:
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_plots_draw_the_threshold_of_the_decision_files(tmp_path):
    from sklearn_asd import cli
    from sklearn_asd._cli import _evaluate

    scores = np.array([0.1, 0.5, 0.7, 0.2])
    by_name = {f"c{i}.wav": i for i in range(4)}
    (tmp_path / "decision_result_valve_section_00_test.csv").write_text(
        "c0.wav,0\nc1.wav,1\nc2.wav,1\nc3.wav,0\n"
    )
    args = cli.build_parser().parse_args(
        ["evaluate", "--data", "x", "--machine", "valve", "--scores", str(tmp_path)]
    )
    assert _evaluate._threshold_from_decisions(args, by_name, scores) == pytest.approx(0.35)
    # decisions that no single threshold explains draw none
    (tmp_path / "decision_result_valve_section_00_test.csv").write_text("c0.wav,1\nc1.wav,0\n")
    assert _evaluate._threshold_from_decisions(args, by_name, scores) is None


def test_cli_errors(shared_data, tmp_path, capsys):
    root = str(shared_data / "dcase2023_valve")
    assert (
        main(
            [
                "fit",
                "--data",
                str(tmp_path / "nope"),
                "--machine",
                "valve",
                "--recipe",
                "dcase_autoencoder",
                "--out",
                str(tmp_path / "m.joblib"),
            ]
        )
        == 2
    )
    assert "is not a directory" in capsys.readouterr().err
    assert (
        main(
            [
                "fit",
                "--data",
                root,
                "--machine",
                "pump",
                "--recipe",
                "dcase_autoencoder",
                "--out",
                str(tmp_path / "m.joblib"),
            ]
        )
        == 2
    )
    assert "no data for machine 'pump'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fit", "--data", root, "--machine", "valve", "--recipe", "nope", "--out", "m.joblib"])
    assert (
        main(
            [
                "fit",
                "--data",
                root,
                "--machine",
                "valve",
                "--recipe",
                "kazakova2022",
                "--outliers",
                "pump",
                "--out",
                str(tmp_path / "m.joblib"),
            ]
        )
        == 2
    )
    assert "no data for machine 'pump'" in capsys.readouterr().err
    assert (
        main(
            [
                "fit",
                "--data",
                root,
                "--machine",
                "valve",
                "--recipe",
                "giri2020",
                "--giri-machine",
                "gearbox",
                "--out",
                str(tmp_path / "m.joblib"),
            ]
        )
        == 2
    )
    assert "pass --giri-machine" in capsys.readouterr().err
    old = tmp_path / "old.joblib"
    joblib.dump({"format": "sklearn-asd model", "version": "0.0.1", "model": None}, old)
    score = ["--data", root, "--machine", "valve", "--out", str(tmp_path / "s")]
    assert main(["score", str(old), *score]) == 2
    err = capsys.readouterr().err
    assert "is not a safe model file" in err and "--allow-pickle" in err
    assert main(["score", str(old), *score, "--allow-pickle"]) == 2
    assert "written by sklearn-asd 0.0.1" in capsys.readouterr().err
    joblib.dump([1, 2, 3], tmp_path / "other.joblib")
    assert (
        main(
            [
                "score",
                str(tmp_path / "other.joblib"),
                "--data",
                root,
                "--machine",
                "valve",
                "--out",
                str(tmp_path / "s"),
                "--allow-pickle",
            ]
        )
        == 2
    )
    assert "not a model written by 'sklearn-asd fit'" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", "--data", root, "--machine", "valve", "--scores", str(tmp_path / "empty")]) == 2
    assert "no anomaly_score_valve_" in capsys.readouterr().err


def test_training_classes_are_section_x_attributes_for_one_section(shared_data):
    from sklearn_asd.datasets import attribute_labels, load_dcase
    from sklearn_asd.datasets import class_labels as training_classes

    toycar = load_dcase(shared_data / "dcase2023_dev_samples", "ToyCar", "train", load_audio=False)
    classes = training_classes(toycar)
    assert list(classes) == [
        "|".join(["section_00", *(f"{k}={v}" for k, v in sorted(a.items()))]) for a in toycar.attributes
    ]
    assert len(set(classes)) == 2 and classes[0].startswith("section_00|car=")
    np.testing.assert_array_equal(training_classes(toycar, "section"), toycar.y)
    several = make_machine_sounds(n_sections=2, n_normal=1, duration=0.5, split="train", random_state=0)
    np.testing.assert_array_equal(training_classes(several), several.y)
    with pytest.raises(ValueError, match="how must be"):
        training_classes(toycar, "machine")
    # the attribute metadata SoftmaxScore takes is the same text after the section
    assert [f"section_00|{a}" for a in attribute_labels(toycar.attributes)] == list(classes)


def test_fit_a_classifier_recipe_on_attribute_classes(shared_data, tmp_path):
    root = str(shared_data / "dcase2023_dev_samples")
    out = tmp_path / "m.asd"
    args = ["fit", "--data", root, "--machine", "ToyCar", "--recipe", "dcase_mobilenetv2", "--fast"]
    assert main([*args, "--device", "cpu", "--out", str(out)]) == 0
    model = io.load(out)
    assert {k: v for k, v in model.get_params().items() if k.endswith("device")} == {
        "logmel__device": "cpu",
        "score__estimator__device": "cpu",
    }
    # one section without attributes: first-shot power pseudo-classes instead of an error
    # --pickle writes joblib, which score reads only with --allow-pickle
    assert main([*args, "--classes", "section", "--pickle", "--overwrite", "--out", str(out)]) == 0
    embedder = joblib.load(out)["model"][-1].estimator_
    assert all(c.startswith("section_00|power=") for c in embedder.base_classes_)


def test_evaluate_model_without_plots_is_an_error(capsys):
    assert (
        main(["evaluate", "--data", "x", "--machine", "valve", "--scores", "s", "--model", "m.joblib"]) == 2
    )
    assert "--model is for the plots" in capsys.readouterr().err


def test_model_files_that_are_not_models_say_so(shared_data, tmp_path, capsys):
    root = str(shared_data / "dcase2023_valve")
    good = tmp_path / "good.joblib"
    joblib.dump({"format": "sklearn-asd model", "version": "x", "model": list(range(1000))}, good)
    (tmp_path / "truncated.joblib").write_bytes(good.read_bytes()[:40])
    (tmp_path / "empty.joblib").write_bytes(b"")
    (tmp_path / "text.joblib").write_text("not a pickle at all\n")
    for name in ("truncated", "empty", "text"):
        path = tmp_path / f"{name}.joblib"
        args = ["score", str(path), "--data", root, "--machine", "valve", "--out", str(tmp_path / "s")]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert f"{path} is not a safe model file" in err and len(err.strip().splitlines()) == 1
        assert main([*args, "--allow-pickle"]) == 2
        err = capsys.readouterr().err
        assert f"{path} is not a readable model file" in err and len(err.strip().splitlines()) == 1


def test_fit_checks_out_before_fitting_and_reads_the_channel(shared_data, tmp_path, capsys):
    root = str(shared_data / "dcase2023_valve")
    blocked = tmp_path / "file"
    blocked.write_text("")
    out = blocked / "model.joblib"  # a folder that is a file: cannot be written
    args = ["fit", "--data", root, "--machine", "valve", "--recipe", "dcase_autoencoder", "--fast"]
    assert main([*args, "--out", str(out)]) == 2
    assert f"--out {out} cannot be written" in capsys.readouterr().err
    assert main([*args, "--channel", "left", "--out", str(tmp_path / "m.joblib")]) == 2
    assert "--channel must be a channel index or 'mean'" in capsys.readouterr().err


def test_help_does_not_import_torch_and_every_option_has_help():
    import subprocess
    import sys

    # the parser, the recipe listing, the package, the recipes' registry and evaluate's module
    for code in (
        "from sklearn_asd.cli import build_parser; build_parser()",
        "from sklearn_asd.cli import main; main(['recipes'])",
        "import sklearn_asd, sklearn_asd.recipes; sklearn_asd.recipes.REGISTRY",
        "import sklearn_asd._cli._evaluate",
    ):
        check = f"import sys; {code}; print('torch' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True).stdout
        assert out.strip().splitlines()[-1] == "False", code
    from sklearn_asd.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        assert command.epilog.startswith("example:"), name
        for action in command._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def _write_dcase(root, machine, *, n_train=8, n_test=3, duration=1.0, random_state=0):
    """A small DCASE 2023-layout machine folder of synthetic clips (section 00, source domain)."""
    import soundfile as sf

    kw = dict(n_sections=1, duration=duration, random_state=random_state)
    train = make_machine_sounds(n_normal=n_train, split="train", **kw)
    test = make_machine_sounds(n_normal=n_test, n_anomalous=n_test, **kw)
    for split, data in (("train", train), ("test", test)):
        (root / machine / split).mkdir(parents=True, exist_ok=True)
        for i, (x, dom, a) in enumerate(zip(data.X, data.domain, data.anomaly)):
            label = "anomaly" if a else "normal"
            sf.write(root / machine / split / f"section_00_{dom}_{split}_{label}_{i:04d}.wav", x, data.sr)
    return train, test


def test_cli_refuses_what_would_be_silently_wrong(tmp_path, capsys, monkeypatch):
    import soundfile as sf

    root = tmp_path / "data"
    _write_dcase(root, "fan")
    _write_dcase(root, "valve", random_state=1)
    model = tmp_path / "fan.asd"
    fit = ["fit", "--data", str(root), "--machine", "fan", "--recipe", "dcase_autoencoder", "--fast"]
    fit += ["--out", str(model)]

    # a clip named anomalous in train/: refused, naming it
    bad = root / "fan" / "train" / "section_00_source_train_anomaly_0099.wav"
    sf.write(bad, np.zeros(16000, np.float32), 16000)
    assert main(fit) == 2
    err = capsys.readouterr().err
    assert "1 clip(s) in the training folder of fan are named anomalous" in err
    assert "(section_00_source_train_anomaly_0099.wav)" in err
    bad.unlink()
    assert main(fit) == 0
    # an existing model file is not overwritten unless asked
    assert main(fit) == 2
    assert f"--out {model} exists: pass --overwrite" in capsys.readouterr().err
    assert main([*fit, "--overwrite"]) == 0

    scores = tmp_path / "scores"
    score = ["score", str(model), "--data", str(root), "--out", str(scores)]
    assert main([*score, "--machine", "fan"]) == 0
    first = (scores / "anomaly_score_fan_section_00_test.csv").read_text()
    # earlier score files are not overwritten unless asked
    assert main([*score, "--machine", "fan"]) == 2
    assert "holds 2 earlier score file(s) of fan (test)" in capsys.readouterr().err
    assert main([*score, "--machine", "fan", "--overwrite"]) == 0
    assert (scores / "anomaly_score_fan_section_00_test.csv").read_text() == first
    # a fan model does not score valve clips unless forced
    assert main([*score, "--machine", "valve"]) == 2
    assert "was fitted on fan clips, not valve" in capsys.readouterr().err
    assert main([*score, "--machine", "valve", "--force"]) == 0
    # --out naming a file: one line
    (tmp_path / "file.txt").write_text("x")
    assert (
        main(
            [
                "score",
                str(model),
                "--data",
                str(root),
                "--machine",
                "fan",
                "--out",
                str(tmp_path / "file.txt"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "is a file: it must be a folder" in err and err.count("\n") == 1

    # clips of another length than the model's are counted, not padded in silence
    short = root / "fan" / "test" / "section_00_source_test_normal_0099.wav"
    sf.write(short, np.zeros(8000, np.float32), 16000)
    assert main([*score, "--machine", "fan", "--overwrite"]) == 0
    assert "1 of 13 clips are shorter (zero-padded) and 0 longer (cropped)" in capsys.readouterr().err
    short.unlink()

    # a model whose steps were fitted on a GPU (device='cuda' stored) scores on this machine
    from sklearn_asd._cli import _demo
    from sklearn_asd.io._safe import _reachable

    fitted, metadata = io.load(model, with_metadata=True)
    for obj in _reachable(fitted):
        if hasattr(obj, "get_params") and "device" in obj.get_params(deep=False):
            obj.set_params(device="cuda")
    assert fitted.get_params()["logmel__device"] == "cuda"
    io.dump(fitted, tmp_path / "gpu.asd", metadata=metadata)
    gpu_scores = tmp_path / "gpu_scores"
    args = [
        "score",
        str(tmp_path / "gpu.asd"),
        "--data",
        str(root),
        "--machine",
        "fan",
        "--out",
        str(gpu_scores),
    ]
    if not __import__("torch").cuda.is_available():
        assert main([*args, "--device", "cuda"]) == 2
        assert "torch sees no CUDA device" in capsys.readouterr().err
    assert main(args) == 0
    assert (gpu_scores / "anomaly_score_fan_section_00_test.csv").read_text() == first

    # every user error is one line, whatever its type
    def broken(args):
        raise KeyError("duration")

    monkeypatch.setattr(_demo, "main", broken)
    assert main(["demo"]) == 2
    assert capsys.readouterr().err == "sklearn-asd demo: error: missing entry 'duration'\n"


def test_verbose_and_quiet_say_how_much_is_shown(monkeypatch):
    from sklearn_asd._cli._output import verbosity
    from sklearn_asd.cli import build_parser

    parse = build_parser().parse_args
    base = ["fit", "--data", "d", "--machine", "m", "--recipe", "dcase_autoencoder", "--out", "x.asd"]
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert verbosity(parse(base)) == 0 and verbosity(parse([*base, "-v"])) == 1
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)  # a terminal shows progress by default
    assert verbosity(parse(base)) == 1 and verbosity(parse([*base, "--quiet"])) == 0
    with pytest.raises(SystemExit):  # not both
        parse([*base, "-v", "-q"])


def test_fit_verbose_shows_each_epoch(shared_data, tmp_path, capsys):
    root = str(shared_data / "dcase2023_valve")
    args = ["fit", "--data", root, "--machine", "valve", "--recipe", "dcase_autoencoder", "--fast"]
    assert main([*args, "--out", str(tmp_path / "a.asd"), "-v"]) == 0
    table = capsys.readouterr().out
    assert "train_loss" in table and len(re.findall(r"^\s+20\s", table, re.M)) == 1  # skorch's 20th epoch
    assert main([*args, "--out", str(tmp_path / "b.asd"), "-q"]) == 0
    assert "train_loss" not in capsys.readouterr().out
