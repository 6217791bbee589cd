"""Utilities shared across sklearn-asd."""

from ._anomaly import anomaly_score, routed_metadata
from ._validation import check_metadata

__all__ = ["anomaly_score", "check_metadata", "routed_metadata"]
