"""The register of this library's helpers that the safe model format may rebuild."""

SAFE_TO_LOAD = set()


def safe_to_load(obj):
    """Mark a helper class (fitted state that is not an estimator) or a network factory as one
    that :func:`sklearn_asd.io.load` rebuilds without asking: rebuilding it sets attributes or
    builds a network from plain arguments, and runs no code of the file."""
    SAFE_TO_LOAD.add(obj)
    return obj
