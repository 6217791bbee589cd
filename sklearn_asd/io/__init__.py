"""Model files: :func:`dump` and :func:`load` write and read a format that runs no code on load.

joblib (``joblib.dump`` / ``joblib.load``) also round-trips every fitted estimator of this
library, but a joblib file is a pickle: load one only from yourself. Use this format for models
you share or receive.
"""

from ._safe import dump, get_untrusted_types, load

__all__ = ["dump", "get_untrusted_types", "load"]
