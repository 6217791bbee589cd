import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

import sklearn_asd
from sklearn_asd.detectors import AutoEncoderDetector


class RecordThreads(Callback):
    """The torch thread count seen while training."""

    def initialize(self):
        self.seen = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.seen.append(torch.get_num_threads())


def _spectrograms():
    return np.random.default_rng(0).normal(size=(4, 8, 10)).astype(np.float32)


def _fit_and_score():
    ae = AutoEncoderDetector(
        n_frames=2, hidden=8, n_hidden=1, bottleneck=2, max_epochs=2, callbacks=[("record", RecordThreads())]
    )
    ae.fit(_spectrograms())
    ae.score_samples(_spectrograms())
    return dict(ae.net_.callbacks_)["record"].seen


def test_set_config_validates_and_context_restores():
    assert sklearn_asd.get_config() == {"torch_threads": None}
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="torch_threads must be a positive int or None"):
            sklearn_asd.set_config(torch_threads=bad)
    with sklearn_asd.config_context(torch_threads=3):
        assert sklearn_asd.get_config()["torch_threads"] == 3
    assert sklearn_asd.get_config()["torch_threads"] is None


def test_estimators_apply_the_thread_setting_and_restore_the_callers():
    before = torch.get_num_threads()  # 1: the suite pins it
    with sklearn_asd.config_context(torch_threads=2):
        assert _fit_and_score() == [2, 2]
        assert torch.get_num_threads() == before  # restored after fit and after scoring
    # None leaves the caller's setting alone
    torch.set_num_threads(2)
    try:
        assert _fit_and_score() == [2, 2]
    finally:
        torch.set_num_threads(before)


def _run(code, **env):
    environ = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | env
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ
    ).stdout.strip()


def test_passive_openmp_waiting_unless_the_user_chose():
    show = "import os; print(os.environ.get('OMP_WAIT_POLICY'))"
    assert _run(f"import sklearn_asd; {show}") == "PASSIVE"
    assert _run(f"import sklearn_asd; {show}", OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
    # too late once torch is loaded: left alone (docs/design.md says to import sklearn_asd first)
    assert _run(f"import torch, sklearn_asd; {show}") == "None"


def _threads_in_worker():
    return _fit_and_score()


@pytest.mark.slow
def test_loky_workers_get_their_share_of_the_cores():
    from joblib import Parallel, cpu_count, delayed

    seen = Parallel(n_jobs=2, backend="loky")(delayed(_threads_in_worker)() for _ in range(2))
    share = max(cpu_count() // 2, 1)
    assert all(t == share for run in seen for t in run), seen
