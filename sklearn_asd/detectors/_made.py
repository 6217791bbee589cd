"""Group MADE: an autoregressive density model over groups of frames (Giri et al., 2020)."""

import math
from numbers import Integral

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from skorch import NeuralNet
from torch import nn

from ..features._framing import stack_frames
from ..nn._training import TRAINING_DOCS, AutocastMixin, predict_batches
from ..utils._docstring import Substitution
from ._neural import FrameVectorDetector


class MaskedLinear(nn.Linear):
    """A linear layer whose connections are cut by a fixed 0/1 mask (MADE)."""

    def __init__(self, in_features, out_features, mask):
        super().__init__(in_features, out_features)
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.float32))

    def forward(self, x):
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


class GroupMADE(nn.Module):
    """Masked autoencoder for density estimation whose autoregressive order runs over groups.

    The input (``n_groups * group_size``) is split into groups (frames); group ``g``'s outputs
    depend on groups ``< g`` only (Germain et al., ICML 2015, with degrees given per group, as in
    Giri et al., ICASSP 2020). The outputs are the mean and log standard deviation of a Gaussian
    for every input dimension, so ``log p(x) = sum_g log p(x_g | x_<g)``.
    """

    def __init__(self, n_groups, group_size, hidden=(512, 512)):
        super().__init__()
        if n_groups < 2:
            raise ValueError("GroupMADE needs at least 2 groups (frames).")
        n_in = n_groups * group_size
        in_degree = np.repeat(np.arange(1, n_groups + 1), group_size)
        layers, previous = [], in_degree
        for width in hidden:
            degree = np.arange(width) % (n_groups - 1) + 1  # hidden degrees 1..G-1, spread evenly
            layers += [MaskedLinear(len(previous), width, degree[:, None] >= previous[None, :]), nn.ReLU()]
            previous = degree
        self.hidden = nn.Sequential(*layers)
        out_mask = in_degree[:, None] > previous[None, :]
        self.mean = MaskedLinear(len(previous), n_in, out_mask)
        self.log_std = MaskedLinear(len(previous), n_in, out_mask)
        self.n_groups, self.group_size = n_groups, group_size

    def forward(self, x):
        h = self.hidden(x)
        return torch.cat([self.mean(h), self.log_std(h).clamp(-7.0, 7.0)], dim=1)


class GaussianNLL(nn.Module):
    """Mean negative log-likelihood per dimension of ``x`` under the predicted diagonal Gaussians."""

    def forward(self, output, x, is_outlier=None):
        return gaussian_nll(output, x).mean()


def gaussian_nll(output, x):
    """Per-vector NLL per dimension.

    ``mean_j (log sigma_j + (x_j - mu_j)^2 / (2 sigma_j^2) + log(2 pi) / 2)``.
    """
    mean, log_std = output.chunk(2, dim=1)
    z = (x - mean) * torch.exp(-log_std)
    return (log_std + 0.5 * z.square() + 0.5 * math.log(2 * math.pi)).mean(dim=1)


class DensityNet(AutocastMixin, NeuralNet):
    """skorch net whose loss is the NLL of its input."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred, X.to(y_pred.device))


@Substitution(**TRAINING_DOCS)
class GroupMADEDetector(FrameVectorDetector):
    """Anomaly score = negative log-likelihood of the clip's frame groups under a Group MADE.

    The density model that Giri et al. (DCASE 2020) ensembled with their self-supervised
    classifiers for their best results: ``n_frames`` consecutive log-mel frames form a vector
    whose density is modelled autoregressively frame by frame (:class:`GroupMADE`); a clip's
    score is the mean over its vectors of the negative log-likelihood per dimension.

    Parameters
    ----------
    n_frames : int, default=5
        Frames (groups) per vector, at least 2.
    hidden : tuple of int, default=(512, 512)
        Hidden layer widths.
    max_epochs : int, default=50
    lr : float, default=1e-3
    batch_size : int, default=512
    {training}
    contamination : float in (0, 0.5], default=0.1
        Share of training clips above the decision threshold.
    threshold : {"gamma", "percentile"}, default="gamma"
        As in :class:`AutoEncoderDetector`.

    See Also
    --------
    AutoEncoderDetector : the reconstruction error of the same stacked frames.

    References
    ----------
    M. Germain et al., "MADE: masked autoencoder for distribution estimation", ICML 2015.
    R. Giri et al., "Group masked autoencoder based density estimator for audio anomaly
    detection", DCASE 2020 Workshop.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import GroupMADEDetector
    >>> S = np.random.RandomState(0).normal(size=(16, 8, 10)).astype(np.float32)
    >>> det = GroupMADEDetector(n_frames=3, hidden=(32,), max_epochs=2, random_state=0).fit(S)
    >>> det.anomaly_score(S[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        **FrameVectorDetector._parameter_constraints,
        "n_frames": [Interval(Integral, 2, None, closed="left")],
        "hidden": [tuple],
    }

    def __init__(
        self,
        n_frames=5,
        *,
        hidden=(512, 512),
        max_epochs=50,
        lr=1e-3,
        batch_size=512,
        optimizer=torch.optim.Adam,
        device="auto",
        mixed_precision="auto",
        random_state=None,
        callbacks=None,
        verbose=0,
        contamination=0.1,
        threshold="gamma",
    ):
        self.n_frames = n_frames
        self.hidden = hidden
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

    def _vectors(self, S):
        """Stacked frames, standardized per band with the training statistics."""
        return (stack_frames(S, self.n_frames) - self.mean_) / self.scale_

    def _vector_nll(self, S):
        V = self._vectors(S)
        flat = torch.as_tensor(V.reshape(-1, V.shape[2]), dtype=torch.float32)
        output = torch.as_tensor(predict_batches(self.net_, flat))
        return gaussian_nll(output, flat).numpy().reshape(V.shape[:2])

    def _fit(self, X, y, section, domain):
        # Standardize each band (Giri et al. model standardized log-mel): the ranking of a perfect
        # density model is unchanged (a constant log-scale per dimension), training is far easier.
        band_mean, band_std = X.mean(axis=(0, 2)), X.std(axis=(0, 2))
        self.mean_ = np.tile(band_mean, self.n_frames).astype(np.float32)
        self.scale_ = np.tile(np.where(band_std > 0, band_std, 1.0), self.n_frames).astype(np.float32)
        V = self._vectors(X)
        flat = V.reshape(-1, V.shape[2]).astype(np.float32)
        self._train(
            DensityNet,
            (GroupMADE, {"n_groups": self.n_frames, "group_size": X.shape[1], "hidden": self.hidden}),
            GaussianNLL,
            flat,
            np.zeros(len(flat), dtype=np.float32),
        )
        return self._vector_nll(X).mean(axis=1)

    def _anomaly_score(self, X, section, domain):
        return self._vector_nll(X).mean(axis=1)
