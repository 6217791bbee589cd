"""The DCASE autoencoder baseline as an outlier detector, with outlier exposure."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from skorch import NeuralNet
from torch import nn

from ..features._framing import stack_frames
from ..nn._training import TRAINING_DOCS, AutocastMixin, predict_batches
from ..utils import split_outliers
from ..utils._docstring import Substitution
from ..utils._persistence import safe_to_load
from ._mahalanobis import MahalanobisDetector
from ._neural import FrameVectorDetector


@safe_to_load
def dense_autoencoder(n_inputs, hidden=128, n_hidden=4, bottleneck=8):
    """The DCASE 2020-2023 baseline's network: n_hidden x (Dense hidden, BN, ReLU), bottleneck, mirror."""

    def block(n_in, n_out):
        return [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.ReLU()]

    layers, width = [], n_inputs
    for _ in range(n_hidden):
        layers += block(width, hidden)
        width = hidden
    layers += block(width, bottleneck)
    width = bottleneck
    for _ in range(n_hidden):
        layers += block(width, hidden)
        width = hidden
    layers.append(nn.Linear(width, n_inputs))
    return nn.Sequential(*layers)


class OutlierExposureLoss(nn.Module):
    """Reconstruction error of normal vectors, plus a margin ranking term for outlier vectors.

    ``mean_normal(e) + weight * mean_outliers(max(0, margin + mean_normal(e) - e_out))`` with
    ``e`` the mean squared reconstruction error of a vector: the outlier-exposure objective of
    Hendrycks et al. (ICLR 2019, their loss for density models, the reconstruction error taking
    the place of the negative log-likelihood): normal vectors are reconstructed well, and outlier
    vectors at least ``margin`` worse. Without outliers in a batch it is the baseline's MSE.
    """

    def __init__(self, weight=1.0, margin=1.0):
        super().__init__()
        self.weight, self.margin = weight, margin

    def forward(self, reconstruction, target, is_outlier):
        errors = (reconstruction - target).square().mean(dim=1)
        normal = errors[~is_outlier]
        loss = normal.mean() if normal.numel() else errors.new_zeros(())
        if is_outlier.any():
            in_error = normal.mean().detach() if normal.numel() else errors.new_zeros(())
            loss = loss + self.weight * torch.relu(self.margin + in_error - errors[is_outlier]).mean()
        return loss


class ReconstructionNet(AutocastMixin, NeuralNet):
    """skorch net whose loss compares the reconstruction with its input (targets flag outliers)."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        X = X.to(y_pred.device)
        return self.criterion_(y_pred, X, y_true.to(y_pred.device).bool())


@Substitution(**TRAINING_DOCS)
class AutoEncoderDetector(FrameVectorDetector):
    """The DCASE Task 2 autoencoder baseline: anomaly score = the clip's mean reconstruction error.

    Exactly the official baseline (2020-2023): the log-mel spectrogram (128 bands) of a clip is
    cut into vectors of ``n_frames`` = 5 consecutive frames (640-d); a dense autoencoder
    (4 x 128 units with batch norm and ReLU, an 8-unit bottleneck, the mirror decoder) learns to
    reconstruct the vectors of normal clips with the mean squared error (Adam, lr 1e-3, batch
    512); a clip's score is the mean error over its vectors. ``scoring="selective_mahalanobis"``
    is the 2023-2024 baseline's score: the Mahalanobis distance of each error vector under the
    source and the target training errors' covariance, the smaller one
    (:class:`MahalanobisDetector` with ``per_domain=True, assume_centered=True``), averaged over
    the clip. The decision threshold is the baseline's gamma fit by default.

    Outlier exposure (``outlier_exposure=True``): rows marked by the fit-time metadata
    ``outlier=True`` (clips of other machine types, featurized by the same pipeline) are trained
    as pseudo-anomalies with the objective of :class:`OutlierExposureLoss` (Kazakova et al., DCASE
    2022 used 3,000 normal + 3,000 outlier clips); without such rows, or with
    ``outlier_exposure=False`` (the baseline), the training is the baseline's MSE on the normal
    rows alone.

    Parameters
    ----------
    n_frames : int, default=5
        Frames per vector.
    hidden, n_hidden, bottleneck : int, default=128, 4, 8
        The network.
    scoring : {"mse", "selective_mahalanobis"}, default="mse"
    outlier_exposure : bool, default=False
        Train on the rows marked ``outlier=True`` (see above); ``False`` leaves them out.
    oe_weight, oe_margin : float, default=1.0, 1.0
        Weight and margin of the outlier term.
    max_epochs : int, default=100
    lr : float, default=1e-3
    batch_size : int, default=512
        Vectors per batch.
    {training}
    contamination : float in (0, 0.5], default=0.1
        Share of training clips above the decision threshold (see ``threshold``).
    threshold : {"gamma", "percentile"}, default="gamma"
        ``"gamma"``: the ``1 - contamination`` quantile of a gamma distribution fitted to the
        training clips' scores (the baseline's); ``"percentile"``: their own quantile.

    Attributes
    ----------
    net_ : skorch NeuralNet
        The trained autoencoder.
    mahalanobis_ : MahalanobisDetector
        The error model (``scoring="selective_mahalanobis"``).

    See Also
    --------
    GroupMADEDetector : the density of the same stacked frames.
    OEVAE : a VAE with outlier exposure on 2-s segments.

    References
    ----------
    Y. Koizumi et al., "Description and discussion on DCASE2020 challenge task 2", DCASE 2020.
    D. Hendrycks et al., "Deep anomaly detection with outlier exposure", ICLR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.detectors import AutoEncoderDetector
    >>> S = np.random.RandomState(0).normal(-40, 3, size=(20, 16, 12)).astype(np.float32)
    >>> det = AutoEncoderDetector(max_epochs=2, batch_size=64, random_state=0).fit(S)
    >>> det.anomaly_score(S[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **FrameVectorDetector._parameter_constraints,
        "n_frames": [Interval(Integral, 1, None, closed="left")],
        "hidden": [Interval(Integral, 1, None, closed="left")],
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
        "bottleneck": [Interval(Integral, 1, None, closed="left")],
        "scoring": [StrOptions({"mse", "selective_mahalanobis"})],
        "outlier_exposure": ["boolean"],
        "oe_weight": [Interval(Real, 0, None, closed="left")],
        "oe_margin": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_frames=5,
        *,
        hidden=128,
        n_hidden=4,
        bottleneck=8,
        scoring="mse",
        outlier_exposure=False,
        oe_weight=1.0,
        oe_margin=1.0,
        max_epochs=100,
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
        self.n_hidden = n_hidden
        self.bottleneck = bottleneck
        self.scoring = scoring
        self.outlier_exposure = outlier_exposure
        self.oe_weight = oe_weight
        self.oe_margin = oe_margin
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

    def _errors(self, S):
        """Error vectors (n_clips, n_vectors, D) of the clips' stacked frames."""
        V = stack_frames(S, self.n_frames)
        flat = V.reshape(-1, V.shape[2])
        recon = predict_batches(self.net_, flat)
        return (recon - flat).reshape(V.shape)

    def _clip_scores(self, errors):
        if self.scoring == "mse":
            return np.square(errors).mean(axis=(1, 2))
        flat = errors.reshape(-1, errors.shape[2])
        return self.mahalanobis_.anomaly_score(flat).reshape(errors.shape[:2]).mean(axis=1)

    @property
    def _consumes_outliers(self):
        return self.outlier_exposure

    def _fit(self, X, y, section, domain, outlier=None):
        # outlier_exposure=True: the base passes every row and the mask
        normal, outliers = split_outliers(outlier, X, domain=domain)
        X, domain = normal.X, normal.domain
        vectors = stack_frames(X, self.n_frames)
        flat = vectors.reshape(-1, vectors.shape[2])
        is_outlier = np.zeros(len(flat), dtype=np.float32)
        if len(outliers):
            out = stack_frames(outliers, self.n_frames)
            out = out.reshape(-1, out.shape[2])
            flat = np.concatenate([flat, out])
            is_outlier = np.concatenate([is_outlier, np.ones(len(out), dtype=np.float32)])
        self._train(
            ReconstructionNet,
            (
                dense_autoencoder,
                {
                    "n_inputs": flat.shape[1],
                    "hidden": self.hidden,
                    "n_hidden": self.n_hidden,
                    "bottleneck": self.bottleneck,
                },
            ),
            OutlierExposureLoss,
            flat,
            is_outlier,
            weight=self.oe_weight,
            margin=self.oe_margin,
        )
        errors = self._errors(X)
        if self.scoring == "selective_mahalanobis":
            rows = errors.reshape(-1, errors.shape[2])
            self.mahalanobis_ = MahalanobisDetector(per_domain=True, assume_centered=True).fit(
                rows, domain=np.repeat(domain, errors.shape[1])
            )
        return self._clip_scores(errors)

    def _anomaly_score(self, X, section, domain):
        return self._clip_scores(self._errors(X))
