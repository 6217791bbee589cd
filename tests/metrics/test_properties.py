"""Properties of the DCASE metrics on arbitrary data (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import trapezoid
from scipy.stats import rankdata
from sklearn.metrics import roc_curve

from sklearn_asd.metrics import dcase_score, partial_auc, roc_auc


@st.composite
def sections_of_clips(draw):
    n_sections = draw(st.integers(1, 3))
    anomaly, section, domain, score = [], [], [], []
    for s in range(n_sections):
        for dom in ("source", "target"):
            labels = draw(st.lists(st.integers(0, 1), min_size=2, max_size=12))
            labels[:2] = [0, 1]  # both classes in each section and domain
            anomaly += labels
            section += [f"section_{s:02d}"] * len(labels)
            domain += [dom] * len(labels)
    score = draw(
        st.lists(st.floats(-100, 100, allow_nan=False), min_size=len(anomaly), max_size=len(anomaly))
    )
    return np.array(anomaly), np.array(score), np.array(section), np.array(domain)


@settings(max_examples=60, deadline=None)
@given(sections_of_clips(), st.floats(0.1, 10), st.floats(-50, 50))
def test_score_depends_only_on_the_ranking_within_each_section(data, scale, shift):
    anomaly, score, section, domain = data
    reference = dcase_score(anomaly, score, section=section, domain=domain)
    # a different (exactly) increasing transform in each section leaves every per-section AUC unchanged
    transformed = score.copy()
    for i, sec in enumerate(np.unique(section)):
        m = section == sec
        transformed[m] = rankdata(score[m], method="dense") * scale * (i + 1) + shift * i
    assert np.isclose(dcase_score(anomaly, transformed, section=section, domain=domain), reference)


@settings(max_examples=60, deadline=None)
@given(sections_of_clips())
def test_reversing_the_scores_mirrors_the_auc(data):
    anomaly, score, _, _ = data
    assert np.isclose(roc_auc(anomaly, score) + roc_auc(anomaly, -score), 1.0)
    raw = partial_auc(anomaly, score, max_fpr=0.1, standardized=False)
    # the area under the ROC curve up to FPR 0.1, over 0.1, integrated independently
    fpr, tpr, _ = roc_curve(anomaly, score)
    grid = np.linspace(0.0, 0.1, 2001)
    area = trapezoid(np.interp(grid, fpr, tpr), grid) / 0.1
    assert np.isclose(raw, area, atol=1e-3)
