import numpy as np
import pytest

from sklearn_asd.metrics import read_submission, write_submission


def test_write_then_read_round_trips_per_section(tmp_path):
    files = ["a.wav", "dir/b.wav", "c.wav"]
    paths = write_submission(
        tmp_path,
        "fan",
        "test",
        files,
        ["section_00", "section_01", "section_00"],
        [0.5, 1.25, -2.0],
        [0, 1, 0],
    )
    assert sorted(p.name for p in paths) == [
        "anomaly_score_fan_section_00_test.csv",
        "anomaly_score_fan_section_01_test.csv",
        "decision_result_fan_section_00_test.csv",
        "decision_result_fan_section_01_test.csv",
    ]
    scores = read_submission(sorted(tmp_path.glob("anomaly_score_*")))
    assert scores == {"a.wav": 0.5, "c.wav": -2.0, "b.wav": 1.25}
    assert read_submission(sorted(tmp_path.glob("decision_*")), "decision") == {
        "a.wav": 0,
        "c.wav": 0,
        "b.wav": 1,
    }
    with pytest.raises(ValueError, match="NaN or infinite"):
        write_submission(tmp_path, "fan", "test", files[:1], ["section_00"], [np.nan])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.wav,0.1\nb.wav,0.2\na.wav,0.3\n", "line 3: a.wav is listed twice \\(first at .*line 1\\)"),
        ("a.wav,0.1\n\n", "line 2: blank line"),
        ("a.wav,0.1\nb.wav,nan\n", "line 2: the value of b.wav is 'nan', not a finite number"),
        ("a.wav 0.1\n", "line 1: expected '<file name>,<value>'"),
        ("a.wav,high\n", "line 1: 'high' is not a number"),
        # a third column is not silently ignored (the score would be read from column 2)
        ("a.wav,1,0.9\n", "line 1: expected '<file name>,<value>' \\(two fields\\), got 3"),
    ],
)
def test_faults_name_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "anomaly_score_fan_section_00_test.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"{path}, {message}"):
        read_submission([path])


def test_decisions_are_zero_or_one(tmp_path):
    path = tmp_path / "decision_result_fan_section_00_test.csv"
    path.write_text("a.wav,2\n")
    with pytest.raises(ValueError, match="a decision is 0 or 1"):
        read_submission([path], "decision")


def test_scores_are_written_at_full_precision(tmp_path):
    # softmax scores that differ beyond the sixth decimal: rounding would make them ties
    scores = [1 - 1e-7, 1 - 3e-7, 0.1 + 0.2, np.float32(0.3), -1e-300]
    files = [f"c{i}.wav" for i in range(len(scores))]
    write_submission(tmp_path, "fan", "test", files, ["section_00"] * len(scores), scores)
    read = read_submission(sorted(tmp_path.glob("anomaly_score_*")))
    assert [read[f] for f in files] == [float(s) for s in scores]


def test_a_byte_order_mark_is_skipped(tmp_path):
    path = tmp_path / "anomaly_score_fan_section_00_test.csv"
    path.write_bytes("a.wav,0.5\nb.wav,0.25\n".encode("utf-8-sig"))
    assert read_submission([path]) == {"a.wav": 0.5, "b.wav": 0.25}
