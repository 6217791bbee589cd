"""Utilities shared across sklearn-asd."""

from ._anomaly import anomaly_score, routed_metadata
from ._device import resolve_device
from ._validation import DOMAINS, UNKNOWN_DOMAIN, check_metadata, check_outlier_mask, split_outliers

__all__ = [
    "DOMAINS",
    "UNKNOWN_DOMAIN",
    "anomaly_score",
    "check_metadata",
    "check_outlier_mask",
    "resolve_device",
    "routed_metadata",
    "split_outliers",
]
