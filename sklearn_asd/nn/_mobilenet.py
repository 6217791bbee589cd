"""MobileNetV2 for spectrogram patches."""

from torch import nn

from ._blocks import ConvBNAct, InvertedResidual, as_image, make_divisible

# (t, c, n, s): expansion, output channels (at width 1), repeats, stride of the first repeat
MOBILENETV2_SETTING = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


class MobileNetV2(nn.Module):
    """MobileNetV2 (Sandler et al., 2018) as an embedding network for spectrogram patches.

    With ``width_mult=0.5`` it is the network of Giri et al. (DCASE 2020), layer for
    layer: conv 16 stride 2; bottlenecks (t, c, n, s) = (1, 8, 1, 1) (6, 16, 2, 2)
    (6, 16, 3, 2) (6, 32, 4, 2) (6, 48, 3, 1) (6, 80, 3, 2) (6, 160, 1, 1); conv 1280;
    global average pooling. Channels are rounded to multiples of 8 as in the original
    (24 x 0.5 = 12 -> 16). The pooled 1280-d vector is the embedding, or its linear
    projection to ``embedding_dim`` (Morita et al.: 1280 -> 128).

    Parameters
    ----------
    width_mult : float, default=0.5
    in_channels : int, default=1
        1 for a log-mel patch.
    embedding_dim : int or None, default=None
        Project the pooled features to this size (with batch norm).
    round_nearest : int, default=8

    Input: (B, F, T) or (B, C, F, T); output: (B, embedding_dim).
    """

    def __init__(self, width_mult=0.5, *, in_channels=1, embedding_dim=None, round_nearest=8):
        super().__init__()
        channels = make_divisible(32 * width_mult, round_nearest)
        last = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        layers = [ConvBNAct(in_channels, channels, 3, stride=2)]
        for t, c, n, s in MOBILENETV2_SETTING:
            out = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                layers.append(InvertedResidual(channels, out, s if i == 0 else 1, t))
                channels = out
        layers.append(ConvBNAct(channels, last, 1))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.projection = None
        self.embedding_dim = last
        if embedding_dim is not None:
            self.projection = nn.Sequential(
                nn.Linear(last, embedding_dim, bias=False), nn.BatchNorm1d(embedding_dim)
            )
            self.embedding_dim = embedding_dim

    def forward(self, x):
        z = self.pool(self.features(as_image(x))).flatten(1)
        return z if self.projection is None else self.projection(z)

    def stages(self):
        """(t, c, n, s) of the bottleneck stages as built: the architecture table."""
        table, previous = [], None
        for block in self.features[1:-1]:
            key = (block.expand_ratio, block.out_channels)
            if table and key == previous and block.stride == 1:
                t, c, n, s = table[-1]
                table[-1] = (t, c, n + 1, s)
            else:
                table.append((block.expand_ratio, block.out_channels, 1, block.stride))
            previous = key
        return table
