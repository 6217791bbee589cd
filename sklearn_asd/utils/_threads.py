"""Torch threads while an estimator runs: the package setting, applied and then restored."""

import functools
from contextlib import contextmanager

from .._config import get_config


@contextmanager
def torch_threads():
    """``torch.set_num_threads(get_config()["torch_threads"])`` for a block, the caller's count after.

    ``None`` leaves torch as it is. Nested blocks (a meta-detector fitting its members) set it once.
    """
    n = get_config()["torch_threads"]
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    if before == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def uses_torch_threads(method):
    """Run an estimator method under :func:`torch_threads`."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with torch_threads():
            return method(*args, **kwargs)

    return wrapper
