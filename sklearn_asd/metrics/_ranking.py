"""AUC, partial AUC and the official DCASE Task 2 score."""

import sys
from numbers import Real

import numpy as np
from scipy.integrate import trapezoid
from scipy.stats import hmean
from sklearn.metrics import roc_auc_score, roc_curve

from ..utils import DOMAINS, check_metadata

PROTOCOLS = ("2020", "2021")


def _check_binary(anomaly, score, *, both=True):
    anomaly = np.asarray(anomaly)
    score = np.asarray(score, dtype=float)
    if anomaly.ndim != 1 or score.ndim != 1 or anomaly.shape != score.shape:
        raise ValueError(
            "anomaly and score must be 1-D arrays of one length, "
            f"got shapes {anomaly.shape} and {score.shape}."
        )
    if not np.all(np.isfinite(score)):
        raise ValueError("score contains NaN or infinite values.")
    values = set(np.unique(anomaly).tolist())
    if not values <= {0, 1}:
        raise ValueError(
            f"anomaly must hold 1 (anomalous) and 0 (normal) only, got values {sorted(values)}; "
            "clips with unknown labels (-1) cannot be evaluated."
        )
    if both and values != {0, 1}:
        missing = "normal (0)" if 1 in values else "anomalous (1)" if 0 in values else "any"
        raise ValueError(f"AUC needs both normal (0) and anomalous (1) clips; there are no {missing} clips.")
    return anomaly.astype(int), score


def _check_max_fpr(max_fpr):
    if isinstance(max_fpr, bool) or not isinstance(max_fpr, Real) or not 0 < max_fpr <= 1:
        raise ValueError(f"max_fpr must be a number in (0, 1], got {max_fpr!r}.")
    return float(max_fpr)


def roc_auc(anomaly, score):
    """Area under the ROC curve of anomaly scores.

    Parameters
    ----------
    anomaly : array-like of shape (n_clips,)
        1 for anomalous clips, 0 for normal ones.
    score : array-like of shape (n_clips,)
        Anomaly scores, higher = more anomalous (the DCASE sign).

    Returns
    -------
    auc : float

    Examples
    --------
    >>> from sklearn_asd.metrics import roc_auc
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    anomaly, score = _check_binary(anomaly, score)
    return float(roc_auc_score(anomaly, score))


def partial_auc(anomaly, score, *, max_fpr=0.1, standardized=True):
    """Partial area under the ROC curve for false-positive rates up to ``max_fpr``.

    Parameters
    ----------
    anomaly : array-like of shape (n_clips,)
        1 for anomalous clips, 0 for normal ones.
    score : array-like of shape (n_clips,)
        Anomaly scores, higher = more anomalous.
    max_fpr : float in (0, 1], default=0.1
        Upper end of the false-positive-rate range.
    standardized : bool, default=True
        ``True`` gives the McClish-standardized value that
        ``sklearn.metrics.roc_auc_score(max_fpr=...)`` returns and the DCASE
        evaluators report (0.5 for a random ranking, 1 for a perfect one).
        ``False`` gives ``(1 / max_fpr)`` times the area under the ROC curve
        over ``[0, max_fpr]``, the definition in the DCASE 2020 task
        description (about ``max_fpr / 2`` for a random ranking).

    Returns
    -------
    pauc : float

    References
    ----------
    D. K. McClish, "Analyzing a portion of the ROC curve", Medical Decision
    Making 9(3), 1989.

    Examples
    --------
    >>> from sklearn_asd.metrics import partial_auc
    >>> partial_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], max_fpr=0.5)
    0.6666666666666666
    """
    max_fpr = _check_max_fpr(max_fpr)
    anomaly, score = _check_binary(anomaly, score)
    if standardized:
        return float(roc_auc_score(anomaly, score, max_fpr=max_fpr))
    fpr, tpr, _ = roc_curve(anomaly, score, drop_intermediate=False)
    # Interpolate the ROC curve at max_fpr and integrate the part left of it.
    stop = np.searchsorted(fpr, max_fpr, side="right")
    x = np.concatenate([fpr[:stop], [max_fpr]])
    y = np.concatenate([tpr[:stop], [np.interp(max_fpr, fpr, tpr)]])
    return float(trapezoid(y, x) / max_fpr)


def _section_rows(anomaly, score, section, domain, max_fpr, protocol):
    """One dict of metrics per section, in the order of first appearance."""
    max_fpr = _check_max_fpr(max_fpr)
    anomaly = np.asarray(anomaly)
    score = np.asarray(score, dtype=float)
    section = np.asarray(section, dtype=object)
    n = anomaly.shape[0]
    if score.shape != (n,) or section.shape != (n,):
        raise ValueError(
            f"anomaly, score and section must be 1-D and of one length, got shapes "
            f"{anomaly.shape}, {score.shape} and {section.shape}."
        )
    if protocol == "2021":
        if domain is None:
            raise ValueError(
                "the DCASE 2021-2024 score needs the domain ('source'/'target') of each clip; "
                "pass domain=..., or protocol='2020' for data without domains."
            )
        domain = check_metadata(domain, n, "domain", caller="the DCASE score", allowed=DOMAINS)
    rows = []
    _, first = np.unique(section, return_index=True)
    for sec in section[np.sort(first)]:
        in_sec = section == sec
        a, s = anomaly[in_sec], score[in_sec]
        try:
            row = {"section": sec, "pAUC": partial_auc(a, s, max_fpr=max_fpr)}
            if protocol == "2020":
                row["AUC"] = roc_auc(a, s)
            else:
                d = domain[in_sec]
                for dom in DOMAINS:
                    # AUC per domain: that domain's normal clips against all the
                    # anomalous clips of the section (DCASE 2022-2024 evaluator).
                    keep = (d == dom) | (a == 1)
                    if not np.any(a[keep] == 0) and np.any(a == 0):
                        raise ValueError(
                            f"AUC ({dom}) needs the {dom}-domain normal clips of the section, and it has "
                            f"none (its normal clips are all {'target' if dom == 'source' else 'source'}); "
                            "check the domain of each clip."
                        )
                    row[f"AUC ({dom})"] = roc_auc(a[keep], s[keep])
        except ValueError as exc:
            raise ValueError(f"section {sec!r}: {exc}") from exc
        rows.append(row)
    return rows


def _add_decision_metrics(rows, anomaly, decision, section, domain, protocol):
    """Precision, recall and F1 of each row's section (per domain under 2021); the new columns."""
    anomaly, section = np.asarray(anomaly).astype(int), np.asarray(section, dtype=object)
    decision = _check_decision(decision, len(anomaly))
    groups = [("", None)] if protocol == "2020" else [(f" ({d})", d) for d in DOMAINS]
    domain = None if protocol == "2020" else np.asarray(domain, dtype=object)
    for row in rows:
        for suffix, dom in groups:
            keep = section == row["section"]
            if dom is not None:
                keep &= domain == dom
            values = _decision_metrics(anomaly[keep], decision[keep])
            for name, value in zip(("precision", "recall", "F1 score"), values):
                row[name + suffix] = value
    return [f"{name}{suffix}" for name in ("precision", "recall", "F1 score") for suffix, _ in groups]


def _official(rows, protocol):
    if protocol == "2020":
        return float(np.mean([[r["AUC"], r["pAUC"]] for r in rows]))
    values = [r["AUC (source)"] for r in rows] + [r["AUC (target)"] for r in rows] + [r["pAUC"] for r in rows]
    # The evaluator floors every value at machine epsilon before the harmonic mean.
    return float(hmean(np.maximum(values, sys.float_info.epsilon)))


def dcase_protocol(section, domain=None):
    """The evaluation protocol of a data set from its metadata: ``"2021"`` or ``"2020"``.

    DCASE 2021-2024 data have sections (``"section_00"``) and every clip a source or target
    domain: ``"2021"``. DCASE 2020 and MIMII have machine IDs and one domain: ``"2020"``.

    Examples
    --------
    >>> from sklearn_asd.metrics import dcase_protocol
    >>> dcase_protocol(["section_00", "section_00"], ["source", "target"]), dcase_protocol(["id_00"])
    ('2021', '2020')
    """
    section = np.asarray(section, dtype=object)
    if domain is None or not len(section):
        return "2020"
    domains_known = set(np.asarray(domain, dtype=object).tolist()) <= set(DOMAINS)
    sections = all(str(s).startswith("section_") for s in section)
    return "2021" if domains_known and sections else "2020"


def dcase_score(anomaly, score, *, section, domain=None, max_fpr=0.1, protocol="2021"):
    """The official DCASE Task 2 score of anomaly scores.

    ``protocol="2021"`` (2021-2024 challenges): for each section, AUC (source)
    over the source-domain normal clips and **all** anomalous clips of the
    section, AUC (target) likewise, and pAUC over all clips of the section;
    the score is the harmonic mean of all these numbers (each floored at
    machine epsilon, as the official evaluator does).

    ``protocol="2020"``: AUC and pAUC per section (machine ID); the score is
    their arithmetic mean over sections.

    Parameters
    ----------
    anomaly : array-like of shape (n_clips,)
        1 anomalous, 0 normal.
    score : array-like of shape (n_clips,)
        Anomaly scores, higher = more anomalous.
    section : array-like of shape (n_clips,)
        Section (or machine ID) of each clip.
    domain : array-like of shape (n_clips,), default=None
        ``"source"`` or ``"target"``; required by ``protocol="2021"``.
    max_fpr : float, default=0.1
        Range of the pAUC.
    protocol : {"2021", "2020"}, default="2021"

    Returns
    -------
    score : float

    See Also
    --------
    dcase_report : the per-section table behind this number.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.metrics import dcase_score
    >>> anomaly = np.array([0, 0, 1, 0, 0, 1])
    >>> score = np.array([0.1, 0.2, 0.9, 0.3, 0.1, 0.8])
    >>> domain = ["source", "target", "source", "source", "target", "target"]
    >>> dcase_score(anomaly, score, section=["00"] * 6, domain=domain)
    1.0
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}.")
    return _official(_section_rows(anomaly, score, section, domain, max_fpr, protocol), protocol)


def _decision_metrics(anomaly, decision):
    """Precision, recall and F1 of the anomalous class, as the official evaluator computes them
    (each denominator floored at machine epsilon: no decision anomalous gives 0, not NaN)."""
    eps = sys.float_info.epsilon
    tp = float(np.sum((decision == 1) & (anomaly == 1)))
    fp = float(np.sum((decision == 1) & (anomaly == 0)))
    fn = float(np.sum((decision == 0) & (anomaly == 1)))
    precision, recall = tp / max(tp + fp, eps), tp / max(tp + fn, eps)
    return precision, recall, 2.0 * precision * recall / max(precision + recall, eps)


def _check_decision(decision, n):
    decision = np.asarray(decision)
    if decision.shape != (n,):
        raise ValueError(f"decision must have one value per clip ({n}), got shape {decision.shape}.")
    if decision.dtype == bool:
        return decision.astype(int)
    if not set(np.unique(decision).tolist()) <= {0, 1}:
        raise ValueError("decision must hold 1 (decided anomalous) and 0 (decided normal) only.")
    return decision.astype(int)


def dcase_report(
    anomaly,
    score,
    *,
    section,
    domain=None,
    decision=None,
    max_fpr=0.1,
    protocol="2021",
    output_dict=False,
    digits=4,
):
    """Per-section table of the DCASE metrics, with their means and the official score.

    pAUC is the McClish-standardized partial AUC over false-positive rates up to ``max_fpr``
    (0.1, as the DCASE evaluators). With ``decision`` (the decision files' 0/1), the table adds
    the precision, recall and F1 score of the anomalous class per section (and per domain under
    the 2021 protocol, over that domain's clips), as the official DCASE 2023 evaluator reports
    them; they do not enter the official score.

    Parameters
    ----------
    anomaly, score, section, domain, max_fpr, protocol
        As in :func:`dcase_score`.
    decision : array-like of shape (n_clips,), default=None
        1 (or True) where the system decided "anomalous", 0 where "normal".
    output_dict : bool, default=False
        Return a dict instead of text.
    digits : int, default=4
        Digits of the text table.

    Returns
    -------
    report : str or dict
        With ``output_dict=True``: ``{"sections": {section: {metric: value}},
        "arithmetic mean": {metric: value}, "harmonic mean": {metric: value},
        "official score": float}``.

    Examples
    --------
    >>> from sklearn_asd.metrics import dcase_report
    >>> print(dcase_report([0, 1, 0, 1], [0.2, 0.7, 0.1, 0.3], section=["id_00"] * 4,
    ...                    protocol="2020"))
    section                AUC     pAUC
    id_00               1.0000   1.0000
    arithmetic mean     1.0000   1.0000
    harmonic mean       1.0000   1.0000
    official score (2020): 1.0000
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}.")
    rows = _section_rows(anomaly, score, section, domain, max_fpr, protocol)
    metrics = ["AUC", "pAUC"] if protocol == "2020" else ["AUC (source)", "AUC (target)", "pAUC"]
    if decision is not None:
        metrics += _add_decision_metrics(rows, anomaly, decision, section, domain, protocol)
    table = np.array([[r[m] for m in metrics] for r in rows])
    amean = dict(zip(metrics, table.mean(axis=0).tolist()))
    hm = dict(zip(metrics, hmean(np.maximum(table, sys.float_info.epsilon), axis=0).tolist()))
    official = _official(rows, protocol)
    if output_dict:
        return {
            "sections": {str(r["section"]): {m: r[m] for m in metrics} for r in rows},
            "arithmetic mean": amean,
            "harmonic mean": hm,
            "official score": official,
        }
    width = max(len("arithmetic mean") + 2, *(len(str(r["section"])) + 2 for r in rows))
    col = max(max(len(m) for m in metrics), digits + 2) + 3
    lines = ["section".ljust(width) + "".join(m.rjust(col) for m in metrics)]
    for r in rows:
        lines.append(
            str(r["section"]).ljust(width) + "".join(f"{r[m]:.{digits}f}".rjust(col) for m in metrics)
        )
    lines.append(
        "arithmetic mean".ljust(width) + "".join(f"{amean[m]:.{digits}f}".rjust(col) for m in metrics)
    )
    lines.append("harmonic mean".ljust(width) + "".join(f"{hm[m]:.{digits}f}".rjust(col) for m in metrics))
    lines.append(f"official score ({protocol}): {official:.{digits}f}")
    return "\n".join(lines)
