"""Utilities shared across sklearn-asd."""

from ._anomaly import anomaly_score, routed_metadata
from ._device import resolve_device
from ._validation import check_metadata, check_outlier_mask

__all__ = ["anomaly_score", "check_metadata", "check_outlier_mask", "resolve_device", "routed_metadata"]
