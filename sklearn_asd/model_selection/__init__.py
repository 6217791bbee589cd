"""Cross-validation for anomalous sound detection."""

from ._split import DCASESplit, NormalOnlyKFold

__all__ = ["DCASESplit", "NormalOnlyKFold"]
