"""MahalanobisDetector's warnings on ill-conditioned training sets (its formulas are tested in
test_detectors.py)."""

import warnings

import numpy as np
import pytest

from sklearn_asd.detectors import MahalanobisDetector


def test_fewer_clips_than_features_warns_and_names_the_shrinkage():
    X = np.random.RandomState(0).normal(size=(10, 40))
    with pytest.warns(UserWarning, match=r"10 training clips for 40 features: .*no shrinkage.*ledoit_wolf"):
        MahalanobisDetector().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MahalanobisDetector(covariance="ledoit_wolf").fit(X)
        MahalanobisDetector().fit(np.random.RandomState(0).normal(size=(50, 4)))
