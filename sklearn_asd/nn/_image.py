"""Kazakova et al.'s image classifier: an STFT image of the whole clip, resized, into MobileNetV2."""

import librosa
import numpy as np
import torch
from torch import nn

from ._mobilenet import MobileNetV2


class STFTImageNet(nn.Module):
    """Whole-clip STFT image (dB), resized to ``size``, embedded by :class:`MobileNetV2`.

    Kazakova et al. (DCASE 2022) classify the target machine type against other machine types
    from STFT images: 256 ms Hann windows with 50 % overlap (``n_fft=4096``, ``hop_length=2048``
    at 16 kHz), the power in dB, the image resized to 320 x 320 (bilinear, antialiased). The
    spectrogram is computed inside the network from the waveform, so augmentations of the
    waveform (pitch shift, time stretch) run at fit time inside the embedder.

    Parameters
    ----------
    n_samples : int
        Clip length (filled in by :class:`~sklearn_asd.embedders.ClassifierEmbedder`).
    n_fft, hop_length : int, default=4096, 2048
    size : tuple of int, default=(320, 320)
        (frequency, time) size of the image.
    width_mult : float, default=1.0
    embedding_dim : int or None, default=None
    amin : float, default=1e-10

    Input: (B, n_samples); output: (B, embedding_dim).
    """

    def __init__(
        self,
        n_samples,
        *,
        n_fft=4096,
        hop_length=2048,
        size=(320, 320),
        width_mult=1.0,
        embedding_dim=None,
        amin=1e-10,
    ):
        super().__init__()
        if n_samples < n_fft // 2 + 1:
            raise ValueError(f"clips of {n_samples} samples are too short for n_fft={n_fft}.")
        self.n_fft, self.hop_length, self.size, self.amin = n_fft, hop_length, tuple(size), amin
        window = librosa.filters.get_window("hann", n_fft, fftbins=True).astype(np.float32)
        self.register_buffer("window", torch.from_numpy(window))
        self.cnn = MobileNetV2(width_mult, embedding_dim=embedding_dim)
        self.embedding_dim = self.cnn.embedding_dim

    def image(self, x):
        """(B, n_samples) -> (B, 1, size[0], size[1]): the resized dB STFT image."""
        x = nn.functional.pad(x, (self.n_fft // 2, self.n_fft // 2))
        z = torch.fft.rfft(x.unfold(-1, self.n_fft, self.hop_length) * self.window, dim=-1)
        power = (z.real.square() + z.imag.square()).transpose(1, 2)  # (B, F, T)
        db = 10.0 * torch.log10(power.clamp(min=self.amin))
        return nn.functional.interpolate(db[:, None], size=self.size, mode="bilinear", antialias=True)

    def forward(self, x):
        return self.cnn(self.image(x))
