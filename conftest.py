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


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Train and score with one torch thread.

    Float training depends on the thread count (sums are split differently), and on a busy
    2-core machine two intra-op threads can make a step 40x slower; one thread makes every
    test's training figure the same on every machine and keeps the suite fast.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
