"""Run the Python code blocks of the documentation pages, in order, one namespace per page."""

import re
from pathlib import Path

import pytest
import sklearn

ROOT = Path(__file__).resolve().parent.parent


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def run_page(path):
    namespace = {}
    # pages may enable metadata routing; the context restores the configuration afterwards
    with sklearn.config_context():
        for i, block in enumerate(python_blocks(path)):
            exec(compile(block, f"{path.name} block {i + 1}", "exec"), namespace)
    return namespace


def test_design_page_runs():
    assert len(python_blocks(ROOT / "docs" / "design.md")) >= 6
    namespace = run_page(ROOT / "docs" / "design.md")
    assert namespace["report"]["official score"] > 0.5


@pytest.mark.slow
def test_readme_quick_start_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the quick start writes model.joblib
    namespace = run_page(ROOT / "README.md")
    assert (tmp_path / "model.joblib").is_file()
    assert len(namespace["search"].cv_results_["params"]) == 3
