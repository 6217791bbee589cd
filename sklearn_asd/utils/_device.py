"""Where torch runs: one rule for features, embedders, neural detectors and the CLI."""


def resolve_device(device):
    """The torch device of a ``device`` parameter, checked: the one rule of every torch estimator.

    ``"auto"`` -> ``"cuda"`` when torch sees a GPU, else ``"cpu"``; ``"cpu"`` and ``"cuda[:index]"``
    pass when usable; a CUDA device without a GPU, or any other value, is an error.
    """
    if device == "auto":
        try:
            import torch

            return "cuda" if torch.cuda.is_available() else "cpu"
        except ImportError:  # pragma: no cover - torch is a dependency
            return "cpu"
    if device == "cpu" or (isinstance(device, str) and device.startswith("cuda")):
        if device != "cpu":
            import torch

            if not torch.cuda.is_available():
                raise ValueError(f"device={device!r} but torch sees no CUDA device; use 'auto' or 'cpu'.")
        return device
    raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:index]', got {device!r}.")
