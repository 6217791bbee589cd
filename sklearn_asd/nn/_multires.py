"""Fujimura et al.'s multi-resolution network (ICASSP 2025): a spectrum branch and STFT branches."""

import numpy as np
import torch
from torch import nn


class SEBlock(nn.Module):
    """Squeeze-and-excitation (Hu et al., CVPR 2018): channels reweighted by their global mean."""

    def __init__(self, channels, ratio=16):
        super().__init__()
        hidden = max(1, channels // ratio)
        self.gate = nn.Sequential(
            nn.Linear(channels, hidden, bias=False),
            nn.ReLU(),
            nn.Linear(hidden, channels, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        w = self.gate(x.mean(dim=tuple(range(2, x.dim()))))
        return x * w.view(*w.shape, *([1] * (x.dim() - 2)))


class _ResBlock(nn.Module):
    """Pre-activation residual block (BN at the input, ReLU-conv-BN-ReLU-conv, SE on the branch)."""

    def __init__(self, c_in, c_out, stride, se):
        super().__init__()
        self.norm = nn.BatchNorm2d(c_in, affine=False)
        self.branch = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
            nn.BatchNorm2d(c_out, affine=False),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
            SEBlock(c_out) if se else nn.Identity(),
        )
        self.skip = (
            None
            if stride == 1 and c_in == c_out
            else nn.Sequential(nn.MaxPool2d(3, stride, 1), nn.Conv2d(c_in, c_out, 1, bias=False))
        )

    def forward(self, x):
        x = self.norm(x)
        return (x if self.skip is None else self.skip(x)) + self.branch(x)


class _STFTBranch(nn.Module):
    """|STFT| between ``fmin`` and ``fmax`` through a ResNet with SE blocks; max over time,
    then the frequency axis flattened into a linear layer (ASDKit's ``Conv2dEncoderLayer``)."""

    def __init__(self, sr, n_fft, fmin, fmax, out_dim, se):
        super().__init__()
        self.n_fft, self.hop_length = n_fft, n_fft // 2
        # the bins from the first at or above fmin to the last at or below fmax (plain numbers:
        # the model loader builds networks on the meta device, where tensors hold no values)
        freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
        self.lo = int(np.searchsorted(freqs, fmin, side="left"))
        self.hi = int(np.searchsorted(freqs, fmax, side="right"))
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.freq_norm = nn.BatchNorm1d(self.hi - self.lo, affine=False)
        c = out_dim
        layers = [
            nn.Conv2d(1, c // 8, 7, 2, 3, bias=False),
            nn.BatchNorm2d(c // 8, affine=False),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
            _ResBlock(c // 8, c // 8, 1, se),
            _ResBlock(c // 8, c // 8, 1, se),
        ]
        for c_in, c_out in ((c // 8, c // 4), (c // 4, c // 2), (c // 2, c)):
            layers += [_ResBlock(c_in, c_out, 2, se), _ResBlock(c_out, c_out, 1, se)]
        self.convs = nn.Sequential(*layers)
        n_freq = self.hi - self.lo
        for _ in range(5):  # the stem's convolution and pooling, three strided blocks: each halves it
            n_freq = (n_freq + 1) // 2
        self.head = nn.Sequential(
            nn.Flatten(), nn.BatchNorm1d(c * n_freq, affine=False), nn.Linear(c * n_freq, out_dim, bias=False)
        )

    def forward(self, x):
        spec = torch.stft(
            x, self.n_fft, self.hop_length, window=self.window, center=True, return_complex=True
        )
        spec = self.freq_norm(spec.abs()[:, self.lo : self.hi])
        return self.head(self.convs(spec.unsqueeze(1)).amax(dim=3))


class _SpectrumBranch(nn.Module):
    """|FFT| of the whole input through strided 1-D convolutions with SE, then a 5-layer MLP."""

    def __init__(self, n_samples, out_dim, se):
        super().__init__()
        layers, channels, n_bins = [], 1, n_samples // 2 + 1
        for kernel, stride in ((256, 64), (64, 32), (16, 4)):
            # short inputs: kernels and strides shrink to what the spectrum still holds
            kernel = max(1, min(kernel, n_bins))
            stride = max(1, min(stride, kernel))
            layers += [nn.Conv1d(channels, out_dim, kernel, stride, bias=False), nn.ReLU()]
            layers += [SEBlock(out_dim)] if se else []
            channels, n_bins = out_dim, (n_bins - kernel) // stride + 1
        self.convs = nn.Sequential(*layers)
        mlp = [nn.Flatten(), nn.Linear(out_dim * n_bins, out_dim, bias=False)]
        for _ in range(5):
            mlp += [nn.BatchNorm1d(out_dim, affine=False), nn.ReLU(), nn.Linear(out_dim, out_dim, bias=False)]
        self.head = nn.Sequential(*mlp)

    def forward(self, x):
        return self.head(self.convs(torch.fft.rfft(x, dim=-1).abs().unsqueeze(1)))


class MultiResNet(nn.Module):
    """Spectrum and multi-resolution STFT branches on the waveform (Fujimura et al., ICASSP 2025).

    Each branch ends in ``branch_dim`` features; the embedding is their concatenation (no
    joint layer, so each part stays one branch's, which feature exchange relies on):

    - spectrum (``spectrum=True``): the magnitude FFT of the whole input through strided 1-D
      convolutions with squeeze-and-excitation, then an MLP (Wilkinghoff's spectrum branch);
    - one STFT branch per ``n_ffts`` entry (hop ``n_fft // 2``): the magnitude between ``fmin``
      and ``fmax``, batch-normalized per frequency, through a ResNet (16 -> 128 channels,
      SE blocks), the maximum over time, and a linear layer over the flattened frequencies.

    ``n_ffts=(1024,)`` is Wilkinghoff's dual-branch network as ASDKit re-implements it (the
    backbone of its feature-exchange recipe); ``(256, 1024, 4096)`` the multi-resolution
    network of Fujimura et al. Train it with :class:`~sklearn_asd.embedders.ClassifierEmbedder`
    (``module="multires"``), sub-cluster AdaCos or :class:`~sklearn_asd.nn.FeatEx`.

    Parameters
    ----------
    n_samples : int
        Samples of the input waveforms.
    sr : int, default=16000
    n_ffts : sequence of int, default=(256, 1024, 4096)
    fmin, fmax : float, default=200.0, 8000.0
        Frequency band of the STFT branches.
    spectrum : bool, default=True
        Whether the spectrum branch is used.
    branch_dim : int, default=128
        Features per branch (a multiple of 8).
    se : bool, default=True
        Squeeze-and-excitation in the residual blocks and after the 1-D convolutions.

    Attributes
    ----------
    branch_dims : tuple of int
        Size of each branch's part of the embedding, in order.
    embedding_dim : int

    Input: (B, n_samples); output: (B, embedding_dim).
    """

    def __init__(
        self,
        n_samples,
        *,
        sr=16000,
        n_ffts=(256, 1024, 4096),
        fmin=200.0,
        fmax=8000.0,
        spectrum=True,
        branch_dim=128,
        se=True,
    ):
        super().__init__()
        if branch_dim % 8:
            raise ValueError(f"branch_dim must be a multiple of 8, got {branch_dim}.")
        if not spectrum and not n_ffts:
            raise ValueError("MultiResNet needs the spectrum branch or at least one STFT branch.")
        self.spectrum = _SpectrumBranch(n_samples, branch_dim, se) if spectrum else None
        self.stfts = nn.ModuleList(
            _STFTBranch(sr, int(n_fft), fmin, fmax, branch_dim, se) for n_fft in n_ffts
        )
        self.branch_dims = (branch_dim,) * (int(spectrum) + len(self.stfts))
        self.n_samples, self.embedding_dim = n_samples, sum(self.branch_dims)

    def forward(self, x):
        parts = [] if self.spectrum is None else [self.spectrum(x)]
        parts += [branch(x) for branch in self.stfts]
        return torch.cat(parts, dim=1)
