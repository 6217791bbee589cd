"""Metrics of the DCASE Task 2 protocol, as functions and as scorers."""

from ._ranking import dcase_protocol, dcase_report, dcase_score, partial_auc, roc_auc
from ._scorer import ASDScorer, auc_scorer, dcase_scorer, pauc_scorer
from ._submission import read_submission, write_submission

__all__ = [
    "ASDScorer",
    "auc_scorer",
    "dcase_protocol",
    "dcase_report",
    "dcase_score",
    "dcase_scorer",
    "partial_auc",
    "pauc_scorer",
    "read_submission",
    "roc_auc",
    "write_submission",
]
