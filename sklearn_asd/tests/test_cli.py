import joblib
import numpy as np

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
