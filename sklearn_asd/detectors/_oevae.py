"""OEVAE: outlier-exposure feature extractor with a domain-structured VAE (Hai et al., DCASE 2024)."""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from skorch import NeuralNet
from torch import nn

from ..augment._spectral import warp_frequency, warp_positions
from ..nn import ResNet
from ..nn._training import TRAINING_DOCS, AutocastMixin, BatchIterator, PatchDataset
from ..utils import split_outliers
from ..utils._docstring import Substitution
from ._base import PerSectionMixin
from ._knn import KNNDetector
from ._neural import FrameVectorDetector


class OEVAENet(nn.Module):
    """ResNet-18 features, a binary target-vs-outlier head, and a VAE on the features.

    ``forward`` returns ``(logit, features, reconstruction, mu, logvar)``; the first
    ``n_domain`` latent dimensions are z_d, the rest z_c.
    """

    def __init__(self, latent_dim=64, n_domain=8, hidden=256):
        super().__init__()
        self.extractor = ResNet(18, in_channels=1)
        features = self.extractor.embedding_dim
        self.machine_head = nn.Linear(features, 1)
        self.encoder = nn.Sequential(
            nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim)
        )
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, features))
        self.latent_dim, self.n_domain = latent_dim, n_domain

    def forward(self, x):
        f = self.extractor(x)
        mu, logvar = self.encoder(f).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.machine_head(f).squeeze(1), f, self.decoder(z), mu, logvar


def shifted_prior_kl(mu, logvar, prior_mean):
    """``KL(N(mu, exp(logvar)) || N(prior_mean, 1))`` summed over dimensions, per row."""
    return 0.5 * (logvar.exp() + (mu - prior_mean).square() - 1.0 - logvar).sum(dim=1)


class OEVAELoss(nn.Module):
    """``L_machine + lam * (L_KL + L_recon)`` of Hai et al.: BCE of the target-vs-outlier head on
    every clip; on target-machine clips, the KL of the latent to z_d ~ N(k v, 1), z_c ~ N(0, 1) and
    the squared error of the feature reconstruction (summed over dimensions, mean over clips)."""

    def __init__(self, lam=1e-7, k=1.0, n_domain=8):
        super().__init__()
        self.lam, self.k, self.n_domain = lam, k, n_domain

    def forward(self, output, target):
        logit, f, f_hat, mu, logvar = output
        is_target, v = target[:, 0], target[:, 1]
        loss = nn.functional.binary_cross_entropy_with_logits(logit, is_target)
        keep = is_target > 0.5
        if keep.any():
            prior = torch.zeros_like(mu[keep])
            prior[:, : self.n_domain] = self.k * v[keep, None]
            kl = shifted_prior_kl(mu[keep], logvar[keep], prior).mean()
            recon = (f_hat[keep] - f[keep]).square().sum(dim=1).mean()
            loss = loss + self.lam * (kl + recon)
        return loss


class OEVAENetTrainer(AutocastMixin, NeuralNet):
    """skorch net for OEVAENet: the module's tuple output goes to the loss whole."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred, y_true.to(y_pred[0].device))

    def infer(self, x, **fit_params):
        with self.autocast():
            out = NeuralNet.infer(self, x, **fit_params)
        return tuple(o.float() for o in out)


@Substitution(**TRAINING_DOCS)
class OEVAE(PerSectionMixin, FrameVectorDetector):
    """OEVAE (Hai et al., DCASE 2024, model B): anomaly score ``w * alpha + (1 - w) * beta``.

    A ResNet-18 extracts features from 2-second log-mel segments and is trained jointly with
    (i) a binary head telling this machine's clips from other machine types' (outlier
    exposure: the rows marked by the fit-time metadata ``outlier=True``, log-mel clips of other
    machine types featurized by the same pipeline) and (ii) a VAE on the features whose latent
    splits into ``z_d ~ N(k v, 1)`` (``n_domain`` dimensions; ``v`` is an attribute value of
    the clip, such as a speed) and ``z_c ~ N(0, 1)``; loss ``L_machine + lam (L_KL + L_recon)``.
    With Adam, the tiny ``lam`` only limits how much the VAE pulls on the shared extractor: the
    VAE's own weights still learn at full speed, Adam's steps being scale-free.

    Scores: ``alpha = -log p(z_c)`` of the posterior mean (domain-invariant part of the
    latent) and ``beta`` = mean Euclidean distance to the ``n_neighbors`` nearest training
    segment embeddings; each is averaged over the clip's segments, standardized with the
    training clips' statistics of its section, and combined with weight ``w``.

    Parameters
    ----------
    segment_frames : int, default=62
        Frames per segment (2 s at a 32 ms hop).
    latent_dim, n_domain : int, default=64, 8
    lam : float, default=1e-7
    k : float or None, default=None
        Scale of the z_d prior means. ``None``: with ``attribute`` values, ``5 / (smallest gap
        between distinct standardized values)`` (the paper's rule for settings such as speeds);
        with the average-power fallback (continuous), 1.
    w : float in [0, 1], default=0.5
        Weight of ``alpha``.
    n_neighbors : int, default=1
    per_section : bool, default=True
        Standardize per section (routed ``section``, or ``y`` in ``fit``).
    max_epochs : int, default=20
    lr : float, default=1e-3
    batch_size : int, default=128
    {training}
    contamination : float in (0, 0.5], default=0.1
        Share of training clips above the decision threshold.
    threshold : {"percentile", "gamma"}, default="percentile"
        As in :class:`AutoEncoderDetector`.

    See Also
    --------
    AutoEncoderDetector : ``outlier_exposure=True`` with a margin on the reconstruction error.

    Notes
    -----
    ``fit`` takes the clips' attribute values as ``attribute=`` (numbers, one per clip); without
    them the clip's average power (dB) stands in, as in the paper.

    Without outlier rows (one machine type and nothing else, DCASE 2024's first-shot setting),
    frequency-warped copies of the normal clips stand in for the other machines (one copy per
    clip, ``f -> f_max (f / f_max) ** alpha`` with alpha 0.9 and 1.1 in turn on a linear bin
    axis, Giri et al.'s perturbation made stronger): the head then learns the machine's exact
    spectral layout. ``pseudo_outliers_`` says whether this happened.

    References
    ----------
    Hai et al., DCASE 2024 Challenge technical report.
    D. Hendrycks et al., "Deep anomaly detection with outlier exposure", ICLR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import OEVAE
    >>> rng = np.random.RandomState(0)
    >>> S = rng.normal(size=(8, 16, 24)).astype(np.float32)
    >>> other = rng.normal(2.0, 1.0, size=(8, 16, 24)).astype(np.float32)
    >>> det = OEVAE(segment_frames=12, max_epochs=1, random_state=0, per_section=False)
    >>> det.fit(np.concatenate([S, other]), outlier=[False] * 8 + [True] * 8).anomaly_score(S[:2]).shape
    (2,)
    """

    __metadata_request__fit = {"attribute": True}

    _parameter_constraints = {
        **FrameVectorDetector._parameter_constraints,
        "segment_frames": [Interval(Integral, 1, None, closed="left")],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "n_domain": [Interval(Integral, 0, None, closed="left")],
        "lam": [Interval(Real, 0, None, closed="left")],
        "k": [Interval(Real, 0, None, closed="neither"), None],
        "w": [Interval(Real, 0, 1, closed="both")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        **PerSectionMixin._parameter_constraints,
    }

    def __init__(
        self,
        *,
        segment_frames=62,
        latent_dim=64,
        n_domain=8,
        lam=1e-7,
        k=None,
        w=0.5,
        n_neighbors=1,
        per_section=True,
        max_epochs=20,
        lr=1e-3,
        batch_size=128,
        optimizer=torch.optim.Adam,
        device="auto",
        mixed_precision="auto",
        random_state=None,
        callbacks=None,
        verbose=0,
        contamination=0.1,
        threshold="percentile",
    ):
        self.segment_frames = segment_frames
        self.latent_dim = latent_dim
        self.n_domain = n_domain
        self.lam = lam
        self.k = k
        self.w = w
        self.n_neighbors = n_neighbors
        self.per_section = per_section
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.callbacks = callbacks
        self.verbose = verbose
        self.contamination = contamination
        self.threshold = threshold

    def _min_frames(self):  # a clip must hold one segment
        return "segment_frames", self.segment_frames

    def _attribute_scale(self, v, given):
        """Standardized attribute values and the scale k of the z_d prior means."""
        v = np.asarray(v, dtype=float)
        std = v.std()
        v = (v - v.mean()) / (std if std > 0 else 1.0)
        if self.k is not None:
            return v, self.k
        distinct = np.unique(np.round(v, 9))
        if given and len(distinct) > 1:
            return v, 5.0 / np.diff(distinct).min()  # the paper's k = 5 / min distance
        return v, 1.0  # the continuous average-power fallback

    def _segments(self, S):
        return PatchDataset(S, None, self.segment_frames, self.segment_frames)

    def _segment_outputs(self, S):
        """(mu, features) of every segment, as (n_clips, n_segments, ...)."""
        loader = BatchIterator(self._segments(S), batch_size=self.batch_size)
        module, device = self.net_.module_, self.net_.device
        module.eval()
        mus, feats = [], []
        with torch.no_grad(), self.net_.autocast():
            for xb, _ in loader:
                _, f, _, mu, _ = module(xb.to(device))
                mus.append(mu.float().cpu())
                feats.append(f.float().cpu())
        n_seg = self._segments(S).n_patches
        return (
            torch.cat(mus).numpy().reshape(len(S), n_seg, -1),
            torch.cat(feats).numpy().reshape(len(S), n_seg, -1),
        )

    def _alpha(self, mu):
        """Latent NLL of z_c, averaged over each clip's segments."""
        z_c = mu[:, :, self.n_domain :]
        return (0.5 * np.square(z_c) + 0.5 * math.log(2 * math.pi)).sum(axis=2).mean(axis=1)

    def _raw_scores(self, S):
        """(alpha, beta) of each clip: latent NLL of z_c and kNN distance, averaged over segments."""
        mu, feats = self._segment_outputs(S)
        alpha = self._alpha(mu)
        beta = (
            self.knn_.anomaly_score(feats.reshape(-1, feats.shape[2])).reshape(feats.shape[:2]).mean(axis=1)
        )
        return np.vstack([alpha, beta])

    _consumes_outliers = True
    _fit_metadata = ("attribute",)

    def _fit(self, X, y, section, domain, outlier, attribute=None):
        normal, outliers = split_outliers(outlier, X, section=section, attribute=attribute)
        X, section, attribute = normal.X, normal.section, normal.attribute
        self.pseudo_outliers_ = len(outliers) == 0
        if self.pseudo_outliers_:
            outliers = np.concatenate(
                [
                    warp_frequency(X[start::2], warp_positions(X.shape[1], alpha, scale="linear"))
                    for start, alpha in ((0, 0.9), (1, 1.1))
                ]
            ).astype(np.float32)
        given = attribute is not None
        if given:
            try:
                attribute = np.asarray(attribute, dtype=float)
            except (TypeError, ValueError):
                raise ValueError("OEVAE: attribute must hold one number per clip (e.g. a speed).") from None
        else:  # the clip's average power, in dB
            attribute = 10.0 * np.log10(np.mean(10.0 ** (X / 10.0), axis=(1, 2)))
        v, k = self._attribute_scale(attribute, given)
        self.k_ = k
        S = np.concatenate([X, outliers])
        target = np.zeros((len(S), 2), dtype=np.float32)
        target[: len(X), 0] = 1.0
        target[: len(X), 1] = v
        segments = PatchDataset(S, torch.as_tensor(target), self.segment_frames, self.segment_frames)
        self._train(
            OEVAENetTrainer,
            (OEVAENet, {"latent_dim": self.latent_dim, "n_domain": self.n_domain}),
            OEVAELoss,
            segments,
            None,
            lam=self.lam,
            k=k,
            n_domain=self.n_domain,
        )
        mu, feats = self._segment_outputs(X)  # once: alpha from mu, beta leave-one-out from the bank
        self.knn_ = KNNDetector(self.n_neighbors, metric="euclidean").fit(feats.reshape(-1, feats.shape[2]))
        n_seg = feats.shape[1]
        alpha = self._alpha(mu)
        beta = self.knn_.train_anomaly_scores_.reshape(len(X), n_seg).mean(axis=1)  # leave-one-out
        scores = np.vstack([alpha, beta])
        self.stats_ = self._section_stats(scores, section)
        return self._combine(scores, section)

    def _combine(self, scores, section):
        z = self._standardize(scores, section, self.stats_)
        return self.w * z[0] + (1.0 - self.w) * z[1]

    def _anomaly_score(self, X, section, domain):
        return self._combine(self._raw_scores(X), section)
