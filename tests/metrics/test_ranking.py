import sys

import numpy as np
import pytest
from scipy.integrate import trapezoid
from scipy.stats import hmean
from sklearn.metrics import roc_auc_score

from sklearn_asd.metrics import dcase_report, dcase_score, partial_auc, roc_auc


def random_task(seed, n_sections=3, n=40, ties=False):
    rng = np.random.default_rng(seed)
    section = np.repeat([f"section_{i:02d}" for i in range(n_sections)], n)
    domain = np.tile(np.repeat(["source", "target"], n // 2), n_sections)
    anomaly = rng.integers(0, 2, len(section))
    # make sure every section and domain has both classes
    anomaly[:: n // 2] = 0
    anomaly[1 :: n // 2] = 1
    score = anomaly * rng.uniform(0, 1.5) + rng.normal(size=len(section))
    if ties:
        score = np.round(score, 1)
    return anomaly, score, section, domain


def official_evaluator(anomaly, score, section, domain, max_fpr=0.1):
    """Written from the DCASE 2023 evaluator's description, loop by loop."""
    auc_source, auc_target, paucs = [], [], []
    for sec in sorted(set(section)):
        m = section == sec
        y, s, d = anomaly[m], score[m], domain[m]
        paucs.append(roc_auc_score(y, s, max_fpr=max_fpr))
        for dom, out in (("source", auc_source), ("target", auc_target)):
            keep = (d == dom) | (y != 0)
            out.append(roc_auc_score(y[keep], s[keep]))
    values = np.maximum(np.array(auc_source + auc_target + paucs), sys.float_info.epsilon)
    return hmean(values)


def raw_pauc_by_integration(anomaly, score, max_fpr):
    """(1/max_fpr) * integral of TPR over FPR in [0, max_fpr], on a fine grid of the ROC polygon."""
    order = np.argsort(-score, kind="stable")
    s, y = score[order], anomaly[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tpr = np.r_[0, np.cumsum(y)[distinct] / y.sum()]
    fpr = np.r_[0, np.cumsum(1 - y)[distinct] / (1 - y).sum()]
    grid = np.linspace(0, max_fpr, 200001)
    return trapezoid(np.interp(grid, fpr, tpr), grid) / max_fpr


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_dcase_score_equals_official_protocol(seed, ties):
    anomaly, score, section, domain = random_task(seed, ties=ties)
    expected = official_evaluator(anomaly, score, section, domain)
    assert dcase_score(anomaly, score, section=section, domain=domain) == pytest.approx(expected, abs=1e-12)


def test_dcase_score_uses_all_anomalies_for_each_domain_auc():
    # source normals score low, target normals score high: AUC(target) must be poor
    anomaly = np.array([0, 0, 0, 0, 1, 1])
    domain = np.array(["source", "source", "target", "target", "source", "target"])
    score = np.array([0.0, 0.1, 0.9, 1.0, 0.5, 0.6])
    rep = dcase_report(anomaly, score, section=["s"] * 6, domain=domain, output_dict=True)
    assert rep["sections"]["s"]["AUC (source)"] == 1.0
    assert rep["sections"]["s"]["AUC (target)"] == 0.0
    # a zero AUC is floored at machine epsilon, as the evaluator does, so the h-mean is ~0
    assert rep["official score"] < 1e-10


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("max_fpr", [0.05, 0.1, 0.3, 1.0])
def test_partial_auc_standardized_equals_sklearn(seed, max_fpr):
    anomaly, score, _, _ = random_task(seed)
    assert partial_auc(anomaly, score, max_fpr=max_fpr) == pytest.approx(
        roc_auc_score(anomaly, score, max_fpr=None if max_fpr == 1 else max_fpr), abs=1e-12
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("max_fpr", [0.05, 0.1, 0.3])
@pytest.mark.parametrize("ties", [False, True])
def test_partial_auc_raw_is_the_normalised_area(seed, max_fpr, ties):
    anomaly, score, _, _ = random_task(seed, ties=ties)
    raw = partial_auc(anomaly, score, max_fpr=max_fpr, standardized=False)
    assert raw == pytest.approx(raw_pauc_by_integration(anomaly, score, max_fpr), abs=1e-6)
    # McClish: standardized = (1 + (A - min) / (max - min)) / 2, A = raw * max_fpr
    area, lo, hi = raw * max_fpr, max_fpr**2 / 2, max_fpr
    mcclish = 0.5 * (1 + (area - lo) / (hi - lo))
    assert partial_auc(anomaly, score, max_fpr=max_fpr) == pytest.approx(mcclish, abs=1e-9)


def test_perfect_and_inverted_rankings():
    anomaly = np.array([0, 0, 0, 1, 1])
    score = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert roc_auc(anomaly, score) == 1.0
    assert partial_auc(anomaly, score) == 1.0
    assert partial_auc(anomaly, score, standardized=False) == 1.0
    assert roc_auc(anomaly, -score) == 0.0
    assert partial_auc(anomaly, -score, standardized=False) == 0.0


def test_protocol_2020_is_mean_of_auc_and_pauc_per_id():
    anomaly, score, section, _ = random_task(1)
    per_id = []
    for sec in np.unique(section):
        m = section == sec
        per_id += [roc_auc_score(anomaly[m], score[m]), roc_auc_score(anomaly[m], score[m], max_fpr=0.1)]
    assert dcase_score(anomaly, score, section=section, protocol="2020") == pytest.approx(np.mean(per_id))


def test_report_text_and_dict_agree():
    anomaly, score, section, domain = random_task(2)
    rep = dcase_report(anomaly, score, section=section, domain=domain, output_dict=True)
    assert list(rep["sections"]) == ["section_00", "section_01", "section_02"]
    assert rep["official score"] == pytest.approx(dcase_score(anomaly, score, section=section, domain=domain))
    means = rep["arithmetic mean"]
    assert means["pAUC"] == pytest.approx(np.mean([r["pAUC"] for r in rep["sections"].values()]))
    text = dcase_report(anomaly, score, section=section, domain=domain)
    assert "section_01" in text and f"{rep['official score']:.4f}" in text
    assert text.splitlines()[0].split() == ["section", "AUC", "(source)", "AUC", "(target)", "pAUC"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(domain=None), "needs the domain"),
        (dict(domain=["src"] * 4), "domain must be among \\['source', 'target'\\], got \\['src'\\]"),
        (dict(protocol="2019"), "protocol"),
    ],
)
def test_dcase_score_argument_errors(kwargs, message):
    args = dict(section=["a"] * 4, domain=["source", "target"] * 2)
    with pytest.raises(ValueError, match=message):
        dcase_score([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], **{**args, **kwargs})


def test_errors_name_the_section_and_the_problem():
    with pytest.raises(ValueError, match="section 'b'.*both normal"):
        dcase_score([0, 1, 0, 0], [0.1, 0.2, 0.3, 0.4], section=["a", "a", "b", "b"], protocol="2020")
    with pytest.raises(ValueError, match="unknown labels"):
        roc_auc([0, 1, -1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        roc_auc([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="one length"):
        roc_auc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="max_fpr"):
        partial_auc([0, 1], [0.1, 0.2], max_fpr=0)


def test_a_section_without_target_normals_says_so():
    anomaly = [0, 0, 1, 1]
    with pytest.raises(
        ValueError, match=r"section 'section_00': AUC \(target\) needs the target-domain normal"
    ):
        dcase_score(anomaly, [0.1, 0.2, 0.3, 0.4], section=["section_00"] * 4, domain=["source"] * 4)
    with pytest.raises(ValueError, match=r"there are no anomalous \(1\) clips"):
        roc_auc([0, 0], [0.1, 0.2])


@pytest.mark.parametrize("max_fpr", ["0.1", 0, 1.5, True, None])
def test_max_fpr_must_be_a_number_in_range(max_fpr):
    with pytest.raises(ValueError, match=r"max_fpr must be a number in \(0, 1\]"):
        partial_auc([0, 1], [0.1, 0.2], max_fpr=max_fpr)
    with pytest.raises(ValueError, match=r"max_fpr must be a number in \(0, 1\]"):
        dcase_score([0, 1], [0.1, 0.2], section=["id_00"] * 2, protocol="2020", max_fpr=max_fpr)


@pytest.mark.parametrize("seed", range(4))
def test_decision_metrics_are_the_evaluators_per_domain(seed):
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.RandomState(seed)
    n = 120
    anomaly = rng.randint(0, 2, n)
    score = rng.rand(n) + 0.4 * anomaly
    section = rng.choice(["section_00", "section_01"], n).astype(object)
    domain = rng.choice(["source", "target"], n).astype(object)
    decision = score > rng.uniform(0.6, 1.6)
    rep = dcase_report(anomaly, score, section=section, domain=domain, decision=decision, output_dict=True)
    for sec in ("section_00", "section_01"):
        for dom in ("source", "target"):
            keep = (section == sec) & (domain == dom)
            p, r, f, _ = precision_recall_fscore_support(
                anomaly[keep], decision[keep], average="binary", zero_division=0
            )
            got = rep["sections"][sec]
            assert got[f"precision ({dom})"] == pytest.approx(p)
            assert got[f"recall ({dom})"] == pytest.approx(r)
            assert got[f"F1 score ({dom})"] == pytest.approx(f)
    # the official score does not depend on the decisions
    assert rep["official score"] == dcase_score(anomaly, score, section=section, domain=domain)
    with pytest.raises(ValueError, match="decision must hold 1"):
        dcase_report(anomaly, score, section=section, domain=domain, decision=np.full(n, 2))
