import math

import joblib
import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_asd.detectors import GroupMADE, GroupMADEDetector
from sklearn_asd.detectors._made import GaussianNLL
from sklearn_asd.metrics import roc_auc


@parametrize_with_checks([GroupMADEDetector(n_frames=2, hidden=(16,), max_epochs=1, random_state=0)])
def test_sklearn_compatible(estimator, check):
    # It takes 3-D log-mel clips, which scikit-learn's checks do not generate: its API checks run.
    check(estimator)


@pytest.mark.parametrize("hidden", [(32,), (24, 24)])
def test_outputs_of_a_group_depend_only_on_earlier_groups(hidden):
    torch.manual_seed(0)
    made = GroupMADE(n_groups=4, group_size=3, hidden=hidden)
    x = torch.randn(1, 12, requires_grad=True)
    out = made(x)[0]
    for j in range(24):  # means then log stds
        group_of_output = (j % 12) // 3
        (grad,) = torch.autograd.grad(out[j], x, retain_graph=True)
        depends_on = {i // 3 for i in torch.nonzero(grad[0]).flatten().tolist()}
        assert all(g < group_of_output for g in depends_on), (j, depends_on)
    # the first group is unconditional; the last depends on something
    assert made.mean.mask[:3].sum() == 0 and made.mean.mask[9:].sum() > 0


def test_gaussian_nll_formula():
    x = torch.tensor([[0.5, -1.0]])
    mean = torch.tensor([[0.0, 1.0]])
    log_std = torch.tensor([[0.0, math.log(2.0)]])
    nll = GaussianNLL()(torch.cat([mean, log_std], dim=1), x)
    expected = np.mean(
        [0.5 * 0.25 + 0.5 * math.log(2 * math.pi), math.log(2.0) + 0.5 * 1.0 + 0.5 * math.log(2 * math.pi)]
    )
    assert float(nll) == pytest.approx(expected)


def test_detects_frames_that_break_the_temporal_pattern(tmp_path):
    rng = np.random.default_rng(0)

    def clips(n, broken=False):
        # each frame repeats the previous one plus noise: predictable from the past
        base = rng.normal(size=(n, 8, 1))
        S = np.repeat(base, 16, axis=2) + rng.normal(0, 0.1, size=(n, 8, 16))
        if broken:
            S[:, :, 8:] = rng.normal(size=(n, 8, 8))  # the second half jumps
        return S.astype(np.float32)

    det = GroupMADEDetector(
        n_frames=4, hidden=(64, 64), max_epochs=40, batch_size=64, lr=3e-3, random_state=0
    )
    det.fit(clips(40))
    scores = det.anomaly_score(np.concatenate([clips(10), clips(10, broken=True)]))
    assert roc_auc(np.r_[np.zeros(10), np.ones(10)], scores) > 0.95
    joblib.dump(det, tmp_path / "made.joblib")
    test = clips(3)
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "made.joblib").anomaly_score(test), det.anomaly_score(test)
    )
    with pytest.raises(ValueError, match="n_frames"):
        GroupMADEDetector(n_frames=1).fit(clips(4))
