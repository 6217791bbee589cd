"""Package-wide settings: the one place where the torch thread count is chosen."""

from contextlib import contextmanager
from numbers import Integral

_CONFIG = {"torch_threads": None}


def get_config():
    """The current settings of sklearn-asd (a copy): ``{"torch_threads": ...}``."""
    return dict(_CONFIG)


def set_config(torch_threads="unchanged"):
    """Set sklearn-asd's package-wide settings.

    Parameters
    ----------
    torch_threads : int or None
        Torch intra-op threads of every torch-using estimator of the library, applied while its
        ``fit`` or scoring runs and the caller's setting restored afterwards. ``None`` (the
        default) leaves torch's setting as it is: torch's own default is ``OMP_NUM_THREADS``
        (which joblib's loky workers, and Dask's, set to each worker's share of the cores), else
        the physical cores. Float training depends on the thread count: fix it for results that
        repeat run to run. See docs/design.md, "Threads".
    """
    if torch_threads != "unchanged":
        if torch_threads is not None and (
            not isinstance(torch_threads, Integral) or isinstance(torch_threads, bool) or torch_threads < 1
        ):
            raise ValueError(f"torch_threads must be a positive int or None, got {torch_threads!r}.")
        _CONFIG["torch_threads"] = None if torch_threads is None else int(torch_threads)


@contextmanager
def config_context(**settings):
    """Settings of :func:`set_config` for the duration of a ``with`` block, restored afterwards.

    Examples
    --------
    >>> import sklearn_asd
    >>> with sklearn_asd.config_context(torch_threads=1):
    ...     sklearn_asd.get_config()["torch_threads"]
    1
    >>> sklearn_asd.get_config()["torch_threads"] is None
    True
    """
    before = get_config()
    set_config(**settings)
    try:
        yield
    finally:
        set_config(**before)
