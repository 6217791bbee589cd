"""Hai et al.'s model A (DCASE 2024): spectrum, log-mel and phase branches from the waveform."""

import torch
from torch import nn

from ._blocks import ConvBNAct
from ._stgram import LogMelLayer


class _SpectrumBranch(nn.Module):
    """|FFT| of the whole clip through strided 1-D convolutions (Wilkinghoff's spectrum branch)."""

    def __init__(self, n_samples, out_dim):
        super().__init__()
        layers, channels, n_bins = [], 1, n_samples // 2 + 1
        for out, kernel, stride in ((64, 256, 64), (64, 64, 32), (128, 16, 4)):
            # short clips: kernels and strides shrink to what the spectrum still holds
            kernel = max(1, min(kernel, n_bins))
            stride = max(1, min(stride, kernel))
            conv = nn.Conv1d(channels, out, kernel, stride, bias=False)
            layers += [conv, nn.BatchNorm1d(out), nn.PReLU(out)]
            channels, n_bins = out, (n_bins - kernel) // stride + 1
        self.convs = nn.Sequential(*layers)
        linear = nn.Linear(channels * n_bins, out_dim)
        self.head = nn.Sequential(nn.Flatten(), linear, nn.BatchNorm1d(out_dim))

    def forward(self, x):
        spectrum = torch.log1p(torch.fft.rfft(x, dim=-1).abs())
        return self.head(self.convs(spectrum.unsqueeze(1)))


class _ImageBranch(nn.Module):
    """A time-frequency image (C, F, T) through 3x3 convolutions; mean over time, max over frequency."""

    def __init__(self, in_channels, out_dim, channels=(16, 32, 64, 128)):
        super().__init__()
        layers, c = [], in_channels
        for out in channels:
            layers += [
                ConvBNAct(c, out, 3, 2, activation="prelu"),
                ConvBNAct(out, out, 3, 1, activation="prelu"),
            ]
            c = out
        self.convs = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(c, out_dim), nn.BatchNorm1d(out_dim))

    def forward(self, image):
        z = self.convs(image)
        return self.head(z.mean(dim=3).amax(dim=2))


class DualBranchNet(nn.Module):
    """The embedding network of Hai et al. (DCASE 2024), model A, from waveforms.

    Three branches on the standardized waveform (zero mean, unit variance per clip), each ending
    in ``branch_dim`` features, concatenated and projected to ``embedding_dim``:

    - spectrum: the log-magnitude FFT of the whole clip through strided 1-D convolutions
      (Wilkinghoff's dual-branch network, which Hai et al. build on);
    - log-mel: ``LogMelLayer`` (dB, standardized) through 3x3 convolutions;
    - phase: the STFT phase as (cos, sin) channels through its own 3x3 convolutions (the
      third branch Hai et al. add).

    PReLU activations throughout, as in the paper. Train it with a margin head (sub-cluster
    AdaCos) on section x attribute classes: :class:`~sklearn_asd.embedders.ClassifierEmbedder`
    with ``module="dualbranch"``.

    Parameters
    ----------
    n_samples : int
        Samples of the input waveforms.
    sr, n_fft, hop_length, n_mels
        The log-mel analysis (and the STFT of the phase branch).
    branch_dim : int, default=128
    embedding_dim : int, default=256
    phase : bool, default=True
        Whether the phase branch is used.

    Input: (B, n_samples); output: (B, embedding_dim).
    """

    def __init__(
        self,
        n_samples,
        *,
        sr=16000,
        n_fft=1024,
        hop_length=512,
        n_mels=128,
        branch_dim=128,
        embedding_dim=256,
        phase=True,
    ):
        super().__init__()
        self.n_fft, self.hop_length = n_fft, hop_length
        self.spectrum = _SpectrumBranch(n_samples, branch_dim)
        self.logmel = LogMelLayer(sr, n_fft, hop_length, n_mels)
        self.mel_norm = nn.BatchNorm2d(1)
        self.mel_branch = _ImageBranch(1, branch_dim)
        self.phase_branch = _ImageBranch(2, branch_dim) if phase else None
        n_branches = 3 if phase else 2
        self.joint = nn.Sequential(
            nn.PReLU(n_branches * branch_dim), nn.Linear(n_branches * branch_dim, embedding_dim)
        )
        self.n_samples, self.embedding_dim = n_samples, embedding_dim

    def forward(self, x):
        x = (x - x.mean(dim=1, keepdim=True)) / (x.std(dim=1, keepdim=True) + 1e-8)
        parts = [self.spectrum(x), self.mel_branch(self.mel_norm(self.logmel(x).unsqueeze(1)))]
        if self.phase_branch is not None:
            window = self.logmel.window
            z = torch.stft(x, self.n_fft, self.hop_length, window=window, center=True, return_complex=True)
            angle = torch.angle(z)
            parts.append(self.phase_branch(torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)))
        return self.joint(torch.cat(parts, dim=1))
