"""The base of the neural detectors on log-mel clips (autoencoder, Group MADE, OEVAE)."""

import numpy as np
from sklearn.utils.validation import check_array

from ..nn._training import TRAINING_CONSTRAINTS, build_net, fresh_callbacks, net_spec
from ._base import BaseDetector


class FrameVectorDetector(BaseDetector):
    """Base of the detectors on log-mel clips cut into vectors of ``n_frames`` stacked frames.

    Subclasses take the training parameters of every skorch-trained estimator
    (``nn._training.TRAINING_CONSTRAINTS``: ``max_epochs``, ``lr``, ``batch_size``,
    ``optimizer``, ``device``, ``mixed_precision``, ``random_state``, ``callbacks``,
    ``verbose``; their descriptions are ``TRAINING_DOCS``), which :meth:`_train` reads, and add
    their own constraints to these.
    """

    _parameter_constraints = {**BaseDetector._parameter_constraints, **TRAINING_CONSTRAINTS}

    def _min_frames(self):
        """(parameter, frames) a clip must hold at least."""
        return "n_frames", self.n_frames

    def _validate_X(self, X, reset):
        S = check_array(X, allow_nd=True, dtype=np.float32)
        name = type(self).__name__
        if S.ndim != 3:
            raise ValueError(
                f"{name} takes spectrograms (n_clips, n_mels, n_frames), got shape {S.shape}: "
                "put LogMel before it (the detector stacks the frames itself)."
            )
        param, frames = self._min_frames()
        if S.shape[2] < frames:
            raise ValueError(f"clips have {S.shape[2]} frames, fewer than {param}={frames}.")
        if reset:
            self.n_features_in_ = S.shape[1]
        elif S.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {S.shape[1]} bands, but {name} was fitted on {self.n_features_in_}.")
        return S

    def _train(self, net_class, module, criterion, vectors, targets, **criterion_params):
        """Fit ``net_`` (the detector's optimizer, lr, epochs, batch size, device, precision, seed).

        ``module``: (factory, kwargs) of the network; ``_net_spec`` keeps what rebuilds it.
        """
        self._net_spec = net_spec(
            net_class,
            *module,
            criterion,
            batch_size=self.batch_size,
            **{f"criterion__{k}": v for k, v in criterion_params.items()},
        )
        self.net_ = build_net(
            self._net_spec,
            random_state=self.random_state,
            device=self.device,
            mixed_precision=self.mixed_precision,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            callbacks=fresh_callbacks(self.callbacks),
            verbose=self.verbose,
        )
        self.net_.fit(vectors, targets)
        return self.net_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.non_deterministic = self.random_state is None
        return tags
