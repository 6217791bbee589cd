"""Building blocks shared by the backbones."""

from torch import nn


def make_divisible(value, divisor=8, min_value=None):
    """Round a channel count to a multiple of ``divisor``, never below 90 % of it (MobileNet rule)."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class ConvBNAct(nn.Sequential):
    """Conv2d -> BatchNorm2d -> activation (ReLU6, PReLU, or none)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, groups=1, activation="relu6"):
        layers = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride,
                (kernel_size - 1) // 2,
                groups=groups,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels),
        ]
        if activation == "relu6":
            layers.append(nn.ReLU6(inplace=True))
        elif activation == "prelu":
            layers.append(nn.PReLU(out_channels))
        elif activation is not None:
            raise ValueError(f"unknown activation {activation!r}")
        super().__init__(*layers)
        self.out_channels = out_channels


class InvertedResidual(nn.Module):
    """MobileNetV2's bottleneck: 1x1 expand (t), 3x3 depthwise (stride s), 1x1 linear projection."""

    def __init__(self, in_channels, out_channels, stride, expand_ratio, activation="relu6"):
        super().__init__()
        hidden = int(round(in_channels * expand_ratio))
        self.use_residual = stride == 1 and in_channels == out_channels
        layers = []
        if expand_ratio != 1:
            layers.append(ConvBNAct(in_channels, hidden, 1, activation=activation))
        layers += [
            ConvBNAct(hidden, hidden, 3, stride, groups=hidden, activation=activation),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)
        self.stride = stride
        self.expand_ratio = expand_ratio
        self.out_channels = out_channels

    def forward(self, x):
        return x + self.conv(x) if self.use_residual else self.conv(x)


def as_image(x):
    """(B, F, T) spectrogram patches -> (B, 1, F, T) images; 4-D input passes through."""
    return x.unsqueeze(1) if x.dim() == 3 else x
