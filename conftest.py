"""Shared pytest fixtures: the real recordings beside the repository."""

import os
from pathlib import Path

import pytest
import sklearn

# Sphinx's configuration and build outputs (copies of the gallery scripts) are not tests.
collect_ignore = ["docs/conf.py"]
collect_ignore_glob = ["docs/_build/*", "docs/auto_examples/*", "docs/generated/*"]

SHARED_DATA = Path(
    os.environ.get("SKLEARN_ASD_DATA", Path(__file__).resolve().parent.parent / "shared" / "data")
)


@pytest.fixture
def shared_data():
    """``../shared/data`` (or $SKLEARN_ASD_DATA); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real DCASE/MIMII recordings not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def routing():
    """Enable scikit-learn metadata routing for one test."""
    with sklearn.config_context(enable_metadata_routing=True):
        yield
