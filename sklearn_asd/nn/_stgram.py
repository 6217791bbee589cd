"""TgramNet, STgramNet and SepSTgramNet: networks on the waveform and its log-mel spectrogram."""

import librosa
import numpy as np
import torch
from torch import nn

from ._resnet import ResNet


class LogMelLayer(nn.Module):
    """Log-mel spectrogram inside a network, equal to :class:`sklearn_asd.features.LogMel` (dB).

    (B, n_samples) -> (B, n_mels, n_frames); librosa's filterbank and window as buffers, so
    the layer moves with the network between devices.
    """

    def __init__(self, sr=16000, n_fft=1024, hop_length=512, n_mels=128, fmin=0.0, fmax=None, amin=1e-10):
        super().__init__()
        self.n_fft, self.hop_length, self.amin = n_fft, hop_length, amin
        mel = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, dtype=np.float32)
        window = librosa.filters.get_window("hann", n_fft, fftbins=True).astype(np.float32)
        self.register_buffer("mel_basis", torch.from_numpy(mel))
        self.register_buffer("window", torch.from_numpy(window))

    def forward(self, x):
        x = nn.functional.pad(x, (self.n_fft // 2, self.n_fft // 2))
        z = torch.fft.rfft(x.unfold(-1, self.n_fft, self.hop_length) * self.window, dim=-1)
        power = z.real.square() + z.imag.square()  # (B, T, F)
        mel = power @ self.mel_basis.T
        return (10.0 * torch.log10(mel.clamp(min=self.amin))).transpose(1, 2)


class TgramNet(nn.Module):
    """The temporal branch of STgram-MFN (Liu et al., ICASSP 2022): a learnt front-end on the waveform.

    A 1-D convolution with a window-long kernel and a hop-long stride makes a "Tgram" of the
    mel's shape (n_mels x n_frames), followed by ``n_layers`` blocks of LayerNorm (over
    time), LeakyReLU(0.2) and a 3-tap 1-D convolution.

    Parameters
    ----------
    n_frames : int
        Frames of the input clips (``1 + n_samples // hop_length``): the LayerNorm size.
    n_mels : int, default=128
    win_length, hop_length : int, default=1024, 512
    n_layers : int, default=3

    Input: (B, n_samples); output: (B, n_mels, n_frames).
    """

    def __init__(self, n_frames, *, n_mels=128, win_length=1024, hop_length=512, n_layers=3):
        super().__init__()
        self.extractor = nn.Conv1d(1, n_mels, win_length, hop_length, padding=win_length // 2, bias=False)
        self.encoder = nn.Sequential(
            *[
                nn.Sequential(
                    nn.LayerNorm(n_frames), nn.LeakyReLU(0.2), nn.Conv1d(n_mels, n_mels, 3, 1, 1, bias=False)
                )
                for _ in range(n_layers)
            ]
        )

    def forward(self, x):
        return self.encoder(self.extractor(x.unsqueeze(1)))


class _STgramBase(nn.Module):
    def __init__(self, n_samples, sr, n_fft, hop_length, n_mels):
        super().__init__()
        n_frames = 1 + n_samples // hop_length
        self.logmel = LogMelLayer(sr, n_fft, hop_length, n_mels)
        self.tgram = TgramNet(n_frames, n_mels=n_mels, win_length=n_fft, hop_length=hop_length)
        self.n_samples = n_samples

    def _branches(self, x):
        if x.dim() != 2 or x.shape[1] != self.n_samples:
            raise ValueError(
                f"{type(self).__name__} takes waveforms of shape (batch, {self.n_samples}), "
                f"got {tuple(x.shape)}."
            )
        return self.logmel(x), self.tgram(x)


class STgramNet(_STgramBase):
    """Log-mel and Tgram stacked as two channels of one ResNet-18 (Team 42's STgramNet).

    Parameters
    ----------
    n_samples : int
        Samples of the input waveforms.
    sr, n_fft, hop_length, n_mels
        The log-mel (and Tgram) analysis.
    embedding_dim : int or None, default=None
        Projection of ResNet-18's 512-d vector.

    Input: (B, n_samples); output: (B, embedding_dim).
    """

    def __init__(self, n_samples, *, sr=16000, n_fft=1024, hop_length=512, n_mels=128, embedding_dim=None):
        super().__init__(n_samples, sr, n_fft, hop_length, n_mels)
        self.backbone = ResNet(18, in_channels=2, embedding_dim=embedding_dim)
        self.embedding_dim = self.backbone.embedding_dim

    def forward(self, x):
        mel, tgram = self._branches(x)
        return self.backbone(torch.stack([mel, tgram], dim=1))


class SepSTgramNet(_STgramBase):
    """Log-mel and Tgram through separate ResNet-18s, joined by two dense layers (Team 42's SepSTgramNet).

    Parameters as :class:`STgramNet`; ``embedding_dim`` (default 512) is the size of the
    joint embedding.
    """

    def __init__(self, n_samples, *, sr=16000, n_fft=1024, hop_length=512, n_mels=128, embedding_dim=512):
        super().__init__(n_samples, sr, n_fft, hop_length, n_mels)
        self.mel_branch = ResNet(18, in_channels=1)
        self.tgram_branch = ResNet(18, in_channels=1)
        self.joint = nn.Sequential(
            nn.Linear(1024, 512), nn.BatchNorm1d(512), nn.ReLU(inplace=True), nn.Linear(512, embedding_dim)
        )
        self.embedding_dim = embedding_dim

    def forward(self, x):
        mel, tgram = self._branches(x)
        return self.joint(torch.cat([self.mel_branch(mel), self.tgram_branch(tgram)], dim=1))
