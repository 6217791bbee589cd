"""Feature transformers: one row in, one row out, per clip."""

from ._logmel import LogMel
from ._pool import Pool

__all__ = ["LogMel", "Pool"]
