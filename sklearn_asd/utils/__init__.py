"""Utilities shared across sklearn-asd."""

from ._anomaly import anomaly_score, routed_metadata
from ._validation import check_metadata, check_outlier_mask

__all__ = ["anomaly_score", "check_metadata", "check_outlier_mask", "routed_metadata"]
