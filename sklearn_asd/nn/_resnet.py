"""ResNet-18 / ResNet-50 for spectrogram patches."""

from torch import nn

from ._blocks import as_image


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels, channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_channels, channels * self.expansion, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels, channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, channels * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(channels * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_channels, channels * self.expansion, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


def _shortcut(in_channels, out_channels, stride):
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels)
    )


_DEPTHS = {18: (BasicBlock, (2, 2, 2, 2)), 50: (Bottleneck, (3, 4, 6, 3))}


class ResNet(nn.Module):
    """ResNet (He et al., 2016) as an embedding network: depth 18 (basic blocks) or 50 (bottlenecks).

    The standard layout (7x7 conv stride 2, max pooling, four stages of 64, 128, 256, 512
    channels, global average pooling) on ``in_channels`` input planes; the pooled vector
    (512-d for ResNet-18, 2048-d for ResNet-50) is the embedding, or its projection to
    ``embedding_dim``. Giri et al. use ResNet-50 from scratch; the STgram systems ResNet-18.

    Parameters
    ----------
    depth : {18, 50}, default=18
    in_channels : int, default=1
    embedding_dim : int or None, default=None

    Input: (B, F, T) or (B, C, F, T); output: (B, embedding_dim).
    """

    def __init__(self, depth=18, *, in_channels=1, embedding_dim=None):
        super().__init__()
        if depth not in _DEPTHS:
            raise ValueError(f"depth must be 18 or 50, got {depth!r}.")
        block, repeats = _DEPTHS[depth]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        layers, channels = [], 64
        for i, (width, n) in enumerate(zip((64, 128, 256, 512), repeats)):
            blocks = []
            for j in range(n):
                blocks.append(block(channels, width, 2 if (j == 0 and i > 0) else 1))
                channels = width * block.expansion
            layers.append(nn.Sequential(*blocks))
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.embedding_dim = channels
        self.projection = None
        if embedding_dim is not None:
            self.projection = nn.Sequential(
                nn.Linear(channels, embedding_dim, bias=False), nn.BatchNorm1d(embedding_dim)
            )
            self.embedding_dim = embedding_dim

    def forward(self, x):
        z = self.pool(self.layers(self.stem(as_image(x)))).flatten(1)
        return z if self.projection is None else self.projection(z)
