"""Scorers for GridSearchCV / cross_validate that evaluate like the DCASE evaluator."""

import numpy as np
from sklearn.utils.metadata_routing import MetadataRequest

from ..utils._anomaly import routed_anomaly_score
from ._ranking import dcase_score, partial_auc, roc_auc


def _mean_over_sections(metric, anomaly, score, section):
    if section is None:
        return metric(anomaly, score)
    section = np.asarray(section, dtype=object)
    values = []
    for sec in np.unique(section):
        keep = section == sec
        try:
            values.append(metric(anomaly[keep], score[keep]))
        except ValueError as exc:
            raise ValueError(f"section {sec!r} of this fold: {exc}") from exc
    return float(np.mean(values))


class ASDScorer:
    """Scorer that ranks a fitted detector's anomaly scores against ground truth.

    The ground truth (``anomaly``) and the clips' ``section`` and ``domain``
    arrive as metadata: ``GridSearchCV(...).fit(X, y, anomaly=..., section=...,
    domain=...)`` routes them here (and to the splitter), with
    ``sklearn.set_config(enable_metadata_routing=True)``. ``section`` and
    ``domain`` are also passed on to the estimator's steps that request them,
    so per-section detectors score correctly inside a search.

    Use the ready-made instances :data:`auc_scorer`, :data:`pauc_scorer` and
    :data:`dcase_scorer`.

    Parameters
    ----------
    kind : {"auc", "pauc", "dcase"}
        ``"auc"``/``"pauc"``: mean over the sections of the fold of the
        per-section AUC / pAUC (pooled when no section is routed);
        ``"dcase"``: :func:`dcase_score`.
    max_fpr : float, default=0.1
        Range of the pAUC.
    protocol : {"2021", "2020"}, default="2021"
        Protocol of ``"dcase"``.
    """

    _KINDS = ("auc", "pauc", "dcase")

    def __init__(self, kind, *, max_fpr=0.1, protocol="2021"):
        if kind not in self._KINDS:
            raise ValueError(f"kind must be one of {self._KINDS}, got {kind!r}.")
        self.kind = kind
        self.max_fpr = max_fpr
        self.protocol = protocol

    def __repr__(self):
        return f"{self.kind}_scorer"

    def _routing_repr(self):
        return repr(self)

    def __call__(self, estimator, X, y_true=None, *, anomaly=None, section=None, domain=None):
        if anomaly is None:
            raise ValueError(
                f"{self!r} needs the ground truth as metadata: call "
                "GridSearchCV(...).fit(X, y, anomaly=..., section=..., domain=...) "
                "after sklearn.set_config(enable_metadata_routing=True)."
            )
        anomaly = np.asarray(anomaly)
        scores = routed_anomaly_score(estimator, X, section=section, domain=domain)
        if self.kind == "dcase":
            if section is None:
                raise ValueError("dcase_scorer needs section= metadata (one value per clip).")
            return dcase_score(
                anomaly, scores, section=section, domain=domain, max_fpr=self.max_fpr, protocol=self.protocol
            )
        if self.kind == "auc":
            return _mean_over_sections(roc_auc, anomaly, scores, section)
        return _mean_over_sections(
            lambda a, s: partial_auc(a, s, max_fpr=self.max_fpr), anomaly, scores, section
        )

    def get_metadata_routing(self):
        """Request ``anomaly``, ``section`` and ``domain`` for ``score`` (metadata routing)."""
        request = MetadataRequest(owner=self)
        for param in ("anomaly", "section", "domain"):
            request.score.add_request(param=param, alias=True)
        return request


auc_scorer = ASDScorer("auc")
pauc_scorer = ASDScorer("pauc")
dcase_scorer = ASDScorer("dcase")
