import joblib
import numpy as np
import pytest

from sklearn_asd.cli import main
from sklearn_asd.datasets import make_machine_sounds
from sklearn_asd.utils import anomaly_score


def test_demo_fits_reports_and_saves(tmp_path, capsys):
    out = tmp_path / "models" / "demo.joblib"
    code = main(
        ["demo", "--sections", "2", "--n-train", "12", "--n-test", "4", "--duration", "1", "--out", str(out)]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "section_00" in text and "section_01" in text
    assert "AUC (source)" in text and "pAUC" in text and "official score (2021)" in text
    assert "identical scores" in text
    # the saved model scores new clips of the same machine
    model = joblib.load(out)
    test = make_machine_sounds(n_sections=2, n_normal=2, duration=1.0, random_state=0)
    scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
    assert scores.shape == (len(test.X),) and np.all(np.isfinite(scores))


def test_bad_arguments_give_a_clear_error(tmp_path, capsys):
    code = main(["demo", "--severity", "3", "--duration", "1", "--out", str(tmp_path / "m.joblib")])
    assert code == 2
    assert "severity must be in (0, 1]" in capsys.readouterr().err


def test_recipes_lists_every_recipe(capsys):
    from sklearn_asd.recipes import RECIPES

    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in RECIPES)


def test_fit_score_evaluate_on_the_real_valve_split(shared_data, tmp_path, capsys):
    root = str(shared_data / "dcase2023_valve")
    model = tmp_path / "model.joblib"
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
    capsys.readouterr()
    assert main(["evaluate", "--data", root, "--machine", "valve", "--scores", str(scores)]) == 0
    report = capsys.readouterr().out
    assert "official score (2021)" in report and "section_00" in report


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
                "--out",
                str(tmp_path / "m.joblib"),
            ]
        )
        == 2
    )
    assert "needs --outliers" in capsys.readouterr().err
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
    assert main(["score", str(old), "--data", root, "--machine", "valve", "--out", str(tmp_path / "s")]) == 2
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
            ]
        )
        == 2
    )
    assert "not a model written by 'sklearn-asd fit'" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", "--data", root, "--machine", "valve", "--scores", str(tmp_path / "empty")]) == 2
    assert "no anomaly_score_valve_" in capsys.readouterr().err
