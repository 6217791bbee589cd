"""Training plumbing shared by every skorch-trained estimator (embedders and neural detectors)."""

import torch


class AutocastMixin:
    """For skorch nets: ``mixed_precision`` runs forward passes under bfloat16 autocast.

    bfloat16 keeps float32's range, so no gradient scaling is needed (unlike float16).
    """

    def __init__(self, *args, mixed_precision=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.mixed_precision = mixed_precision

    def autocast(self):
        device_type = "cuda" if str(self.device).startswith("cuda") else "cpu"
        return torch.autocast(device_type, dtype=torch.bfloat16, enabled=bool(self.mixed_precision))

    def infer(self, x, **fit_params):
        with self.autocast():
            return super().infer(x, **fit_params).float()


def torch_device(device):
    """``"auto"`` -> ``"cuda"`` when available, else ``"cpu"``; other values unchanged."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def build_net(net_class, make_module, criterion, *, random_state, device, mixed_precision="auto", **params):
    """A skorch net of ``net_class`` around ``make_module()``, built after seeding torch.

    The weights and the shuffle of the training batches follow ``random_state``.

    ``mixed_precision="auto"`` turns bfloat16 autocast on for CUDA only; no validation split
    (anomaly detection has no labels to early-stop on unless a callback brings its own).
    """
    if random_state is not None:
        torch.manual_seed(random_state)
    module = make_module()
    generator = torch.Generator()
    if random_state is not None:
        generator.manual_seed(random_state)
    device = torch_device(device)
    if mixed_precision == "auto":
        mixed_precision = device.startswith("cuda")
    return net_class(
        module=module,
        criterion=criterion,
        device=device,
        mixed_precision=mixed_precision,
        train_split=None,
        iterator_train__shuffle=True,
        iterator_train__generator=generator,
        **params,
    )
