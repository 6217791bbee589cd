"""Run the Python code blocks of the documentation pages, in order, one namespace per page.

Blocks fenced as ```python run; blocks fenced as ```py are shown only (a Dask cluster, a GPU).
"""

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
    monkeypatch.chdir(tmp_path)  # the quick start writes model.asd
    namespace = run_page(ROOT / "README.md")
    assert (tmp_path / "model.asd").is_file()
    assert len(namespace["search"].cv_results_["params"]) == 3


GUIDE = sorted((ROOT / "docs" / "user_guide").glob("*.md"))


@pytest.mark.parametrize("page", [p for p in GUIDE if p.name != "index.md"], ids=lambda p: p.stem)
def test_user_guide_page_runs(page, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert python_blocks(page), f"{page.name} has no runnable example"
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        run_page(page)
    finally:
        plt.close("all")


def test_user_guide_lists_every_page():
    index = (ROOT / "docs" / "user_guide" / "index.md").read_text()
    assert [p.stem for p in GUIDE if p.name != "index.md" and p.stem not in index] == []
