"""MobileFaceNet for spectrogram units."""

import math

from torch import nn

from ._blocks import ConvBNAct, InvertedResidual, as_image

# (t, c, n, s) of Morita et al.'s table (DCASE 2021)
MOBILEFACENET_SETTING = ((2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 2), (4, 128, 1, 2), (2, 128, 2, 1))


class MobileFaceNet(nn.Module):
    """MobileFaceNet (Chen et al., 2018) as in Morita et al. (DCASE 2021), with a 128-d linear embedding.

    conv 3x3 64 stride 2; depthwise conv 3x3 64; bottlenecks (t, c, n, s) = (2, 64, 5, 2)
    (4, 128, 1, 2) (2, 128, 6, 2) (4, 128, 1, 2) (2, 128, 2, 1); 1x1 conv 512; linear global
    depthwise conv (a depthwise kernel the size of the final feature map); linear 1x1 conv
    to ``embedding_dim``. PReLU activations. The global depthwise kernel depends on the input
    size, hence ``input_shape`` (frequency bins, frames of a unit: 1024 x 32 in Morita et al.).

    Parameters
    ----------
    input_shape : (int, int), default=(1024, 32)
    in_channels : int, default=1
    embedding_dim : int, default=128

    Input: (B, F, T) or (B, C, F, T) with (F, T) = ``input_shape``; output: (B, embedding_dim).
    """

    def __init__(self, input_shape=(1024, 32), *, in_channels=1, embedding_dim=128):
        super().__init__()
        layers = [ConvBNAct(in_channels, 64, 3, 2, activation="prelu"), ConvBNAct(64, 64, 3, 1, 64, "prelu")]
        channels = 64
        for t, c, n, s in MOBILEFACENET_SETTING:
            for i in range(n):
                layers.append(InvertedResidual(channels, c, s if i == 0 else 1, t, activation="prelu"))
                channels = c
        layers.append(ConvBNAct(channels, 512, 1, activation="prelu"))
        self.features = nn.Sequential(*layers)
        # every stride-2 3x3 conv (padding 1) maps n to ceil(n / 2)
        strides = 1 + sum(1 for _, _, _, s in MOBILEFACENET_SETTING if s == 2)
        self.feature_shape = tuple(math.ceil(d / 2**strides) for d in input_shape)
        self.gdconv = nn.Sequential(
            nn.Conv2d(512, 512, self.feature_shape, groups=512, bias=False), nn.BatchNorm2d(512)
        )
        self.linear = nn.Sequential(
            nn.Conv2d(512, embedding_dim, 1, bias=False), nn.BatchNorm2d(embedding_dim)
        )
        self.input_shape = tuple(input_shape)
        self.embedding_dim = embedding_dim

    def forward(self, x):
        x = as_image(x)
        if tuple(x.shape[-2:]) != self.input_shape:
            raise ValueError(
                f"MobileFaceNet was built for inputs of shape {self.input_shape}, got {tuple(x.shape[-2:])}."
            )
        return self.linear(self.gdconv(self.features(x))).flatten(1)
