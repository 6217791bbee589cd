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
            "margin heads (ArcFace) need hard class targets; soft labels (Mixup) train the softmax "
            "or an AdaCos head."
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

    ``s`` starts at ``sqrt(2) * log(C - 1)`` (``C`` centres) and, with ``dynamic=True``, on every
    training batch becomes ``log(B_avg) / cos(min(pi / 4, theta_med))``, where ``B_avg`` is the
    batch mean of ``sum_{j != y} exp(s * cos(theta_j))`` and ``theta_med`` the median target
    angle. Without a margin the head also trains on class proportions (Mixup's soft targets):
    the scale then follows each row's largest class. ``trainable=False`` keeps the centres at
    their random initialisation (ASDKit's sub-cluster AdaCos for feature exchange): the network
    learns to map each class onto fixed directions.
    """

    def __init__(self, in_features, n_classes, *, n_subclusters=1, trainable=True, dynamic=True):
        super().__init__(in_features, n_classes * n_subclusters)
        self.n_classes, self.n_subclusters = n_classes, n_subclusters
        self.dynamic = dynamic
        self.weight.requires_grad_(trainable)
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
        if target is not None and self.training and self.dynamic:
            self._update_scale(cos, target.argmax(dim=1) if target.dim() == 2 else target)
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

    def __init__(self, in_features, n_classes, *, n_subclusters=16, trainable=True, dynamic=True):
        super().__init__(
            in_features, n_classes, n_subclusters=n_subclusters, trainable=trainable, dynamic=dynamic
        )


class FeatEx(nn.Module):
    """Sub-cluster AdaCos with feature exchange (Wilkinghoff, ICASSP 2024), for multi-branch embeddings.

    The embedding is the concatenation of ``branch_dims`` (one part per branch of the backbone,
    e.g. :class:`MultiResNet`'s spectrum and spectrogram branches). Besides the main head
    (:class:`SubClusterAdaCos` over the ``n_classes``, centres fixed unless ``trainable``), a
    second sub-cluster AdaCos head (trainable centres) learns ``(n_branches + 1) * n_classes``
    classes: in training, each row of a batch has its branch parts exchanged with probability
    ``prob`` (part ``b`` taken from the row a random permutation of the batch puts there, part 0
    kept); an untouched row's target is its class in block 0, an exchanged row's the classes its
    parts came from, block ``b + 1`` for part ``b``, each with weight ``1 / n_branches``. The
    network must then tell whether the parts of an embedding belong together, a self-supervised
    task on top of the classes
    (:meth:`auxiliary_loss`, added to the main loss by the embedder's training step). At
    inference only the main head is used.

    Parameters
    ----------
    in_features : int
        Size of the whole embedding (the sum of ``branch_dims``).
    n_classes : int
    branch_dims : sequence of int
        Size of each branch's part, in the order they are concatenated.
    n_subclusters : int, default=16
    prob : float, default=0.5
        Share of rows whose parts are exchanged.
    trainable : bool, default=False
        Whether the main head's centres train (the exchange head's always do).
    dynamic : bool, default=False
        Adaptive AdaCos scales (``False``: the initial scales, as ASDKit trains it).
    """

    branch_aware = True

    def __init__(
        self,
        in_features,
        n_classes,
        *,
        branch_dims,
        n_subclusters=16,
        prob=0.5,
        trainable=False,
        dynamic=False,
    ):
        super().__init__()
        self.branch_dims = tuple(int(d) for d in branch_dims)
        if sum(self.branch_dims) != in_features or len(self.branch_dims) < 2:
            raise ValueError(
                f"FeatEx needs an embedding of two or more branches whose sizes sum to {in_features}, "
                f"got branch_dims={self.branch_dims}."
            )
        self.n_classes, self.prob = n_classes, prob
        kw = {"n_subclusters": n_subclusters, "dynamic": dynamic}
        self.main = SubClusterAdaCos(in_features, n_classes, trainable=trainable, **kw)
        self.exchange = SubClusterAdaCos(in_features, (len(self.branch_dims) + 1) * n_classes, **kw)

    def forward(self, z, target=None):
        return self.main(z, target)

    def exchanged(self, z, target):
        """Embeddings with their parts exchanged (each row with probability ``prob``), and their
        targets over the ``(n_branches + 1) * n_classes`` exchange classes."""
        n, n_branches = z.shape[0], len(self.branch_dims)
        onehot = F.one_hot(target, self.n_classes).to(z.dtype) if target.dim() == 1 else target.to(z.dtype)
        swap = torch.rand(n, device=z.device) < self.prob
        perms = [torch.arange(n, device=z.device)] + [
            torch.randperm(n, device=z.device) for _ in range(n_branches - 1)
        ]
        parts = torch.split(z, self.branch_dims, dim=1)
        mixed = torch.cat([part[perm] for part, perm in zip(parts, perms, strict=True)], dim=1)
        z_ex = torch.where(swap[:, None], mixed, z)
        kept = torch.cat([onehot] + [torch.zeros_like(onehot)] * n_branches, dim=1)
        moved = torch.cat([torch.zeros_like(onehot)] + [onehot[perm] / n_branches for perm in perms], dim=1)
        return z_ex, torch.where(swap[:, None], moved, kept)

    def auxiliary_loss(self, z, target):
        """The exchange head's cross-entropy on a batch's exchanged embeddings (training only)."""
        z_ex, t_ex = self.exchanged(z, target)
        return soft_cross_entropy(self.exchange(z_ex, t_ex), t_ex)
