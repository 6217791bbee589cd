"""Classification heads on embeddings, and the losses of soft and hard targets.

Every head maps embeddings (B, D) to class logits (B, C) whose softmax is the class
probability; margin heads also take the targets in training, to add their margin. The
loss is :func:`soft_cross_entropy` (hard targets: cross-entropy; class proportions:
cross-entropy against them, whose gradient is the KL divergence's) or :func:`kl_divergence`.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def soft_cross_entropy(logits, target):
    """Cross-entropy with class indices (B,) or class proportions (B, C) as target (mean over the batch)."""
    if target.dim() == 1:
        return F.cross_entropy(logits, target)
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def kl_divergence(logits, target):
    """KL(target || softmax(logits)), mean over the batch: Giri et al.'s loss for mixup proportions."""
    if target.dim() == 1:
        target = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    return F.kl_div(F.log_softmax(logits, dim=1), target, reduction="batchmean")


def _hard(target):
    """Class indices of hard targets; margin heads need them."""
    if target.dim() == 2:
        raise ValueError(
            "margin heads (ArcFace, AdaCos) need hard class targets; soft labels (Mixup) need the "
            "softmax head."
        )
    return target


class LinearHead(nn.Module):
    """Plain softmax classifier: logits = W z + b."""

    def __init__(self, in_features, n_classes):
        super().__init__()
        self.fc = nn.Linear(in_features, n_classes)

    def forward(self, z, target=None):
        return self.fc(z)


class _CosineHead(nn.Module):
    def __init__(self, in_features, n_centres):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_centres, in_features))
        nn.init.xavier_uniform_(self.weight)

    def cosine(self, z):
        return F.linear(F.normalize(z), F.normalize(self.weight)).clamp(-1.0, 1.0)


class ArcFace(_CosineHead):
    """Additive angular margin (Deng et al., CVPR 2019): ``s * cos(theta_y + m)`` for the target class.

    Logits are ``s * cos(theta_j)``, with ``theta_j`` the angle between the embedding and class
    ``j``'s weight; in training the target class's angle is enlarged by ``m``. Where
    ``theta_y + m`` would pass pi, the logit is ``s * (cos(theta_y) - m * sin(m))`` so it keeps
    decreasing in ``theta_y`` (the reference implementation's rule).
    """

    def __init__(self, in_features, n_classes, *, s=30.0, m=0.5):
        super().__init__(in_features, n_classes)
        self.s, self.m = s, m

    def forward(self, z, target=None):
        cos = self.cosine(z)
        if target is None or not self.training:
            return self.s * cos
        target = _hard(target)
        cos_y = cos.gather(1, target[:, None])
        sin_y = torch.sqrt((1.0 - cos_y.square()).clamp(min=0.0))
        margin = cos_y * math.cos(self.m) - sin_y * math.sin(self.m)
        margin = torch.where(cos_y > math.cos(math.pi - self.m), margin, cos_y - self.m * math.sin(self.m))
        return self.s * cos.scatter(1, target[:, None], margin)


class AdaCos(_CosineHead):
    """Adaptive scale cosine logits (Zhang et al., CVPR 2019): ``s * cos(theta_j)``, no margin.

    ``s`` starts at ``sqrt(2) * log(C - 1)`` and, on every training batch, becomes
    ``log(B_avg) / cos(min(pi / 4, theta_med))``, where ``B_avg`` is the batch mean of
    ``sum_{j != y} exp(s * cos(theta_j))`` and ``theta_med`` the median target angle.
    """

    def __init__(self, in_features, n_classes, *, n_subclusters=1):
        super().__init__(in_features, n_classes * n_subclusters)
        self.n_classes, self.n_subclusters = n_classes, n_subclusters
        n_centres = n_classes * n_subclusters
        self.register_buffer("s", torch.tensor(math.sqrt(2.0) * math.log(max(n_centres - 1, 2))))

    def _target_mask(self, target, shape):
        mask = torch.zeros(shape, dtype=torch.bool, device=target.device)
        for k in range(self.n_subclusters):
            mask.scatter_(1, (target * self.n_subclusters + k)[:, None], True)
        return mask

    @torch.no_grad()
    def _update_scale(self, cos, target):
        mask = self._target_mask(target, cos.shape)
        b_avg = torch.where(mask, torch.zeros_like(cos), torch.exp(self.s * cos)).sum(dim=1).mean()
        theta_y = torch.acos(torch.where(mask, cos, torch.full_like(cos, -1.0)).max(dim=1).values)
        theta_med = torch.median(theta_y)
        self.s.copy_(torch.log(b_avg) / torch.cos(torch.clamp(theta_med, max=math.pi / 4)))

    def forward(self, z, target=None):
        cos = self.cosine(z)
        if target is not None and self.training:
            self._update_scale(cos, _hard(target))
        logits = self.s * cos
        if self.n_subclusters == 1:
            return logits
        # class probability = sum of its sub-clusters' softmax: class logit = logsumexp over them
        return torch.logsumexp(logits.view(-1, self.n_classes, self.n_subclusters), dim=2)


class SubClusterAdaCos(AdaCos):
    """AdaCos with several centres per class (Wilkinghoff, DCASE 2021 / ICASSP 2021).

    Each class has ``n_subclusters`` centres; the probability of a class is the sum of the
    softmax probabilities of its centres (so class logits are the ``logsumexp`` of the
    centres' logits), and the adaptive scale counts every non-target centre in ``B_avg``.
    """

    def __init__(self, in_features, n_classes, *, n_subclusters=16):
        super().__init__(in_features, n_classes, n_subclusters=n_subclusters)
