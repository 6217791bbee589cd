"""Mixup: convex combinations of clips with soft labels."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAugmenter, one_hot


class Mixup(BaseAugmenter):
    """Random convex combinations of pairs of clips, labelled by the mixing proportions.

    ``x = lam * x_i + (1 - lam) * x_j`` with ``lam ~ Beta(alpha, alpha)``, target
    ``lam * e_i + (1 - lam) * e_j``: Giri et al. (DCASE 2020) mix clips of two
    **different** sections into "linear-combination classes" and train with the KL
    divergence, either on log-mel values (``"post_log"``) or on mel power (``"pre_log"``:
    undo the dB, mix, redo it). Hai et al. (DCASE 2024) mix within a class
    (``pairs="within_class"``) to rebalance domains. Waveforms (n_clips, n_samples) are mixed
    as they are (``"post_log"``: the sum of two sounds; ASDKit's mixup of Fujimura et al.).

    Parameters
    ----------
    n_samples : int or None, default=None
        Mixed clips to add; ``None``: as many as there are clips.
    alpha : float, default=1.0
        Parameter of the Beta distribution of ``lam`` (1: uniform).
    space : {"post_log", "pre_log"}, default="post_log"
        Mix the values (dB of a spectrogram, samples of a waveform), or the powers behind a
        spectrogram's dB (``db`` * log10 scale).
    pairs : {"across_classes", "any", "within_class"}, default="across_classes"
        Which pairs are mixed (the class of a soft row is its largest proportion).
    soft_labels : bool, default=True
        Targets are the proportions (a 2-D ``y``, columns ``classes_``); ``False``:
        the class of the larger share, ``y`` stays 1-D.
    db : float, default=10.0
        ``dB = db * log10(power)`` for ``"pre_log"`` (10 for ``LogMel``'s power dB).
    random_state : int, RandomState instance or None, default=None
    keep_original : bool, default=True

    Attributes
    ----------
    mix_pairs_ : ndarray of shape (n_samples, 2)
        The input clips mixed into each synthetic clip.
    mix_weights_ : ndarray of shape (n_samples,)
        Their ``lam``.
    synthetic_mask_, sample_indices_, classes_
        See :class:`BaseAugmenter` (``sample_indices_`` names the first clip of a pair).

    See Also
    --------
    SMOTE : interpolates within a class instead of across classes.
    SpectralWarp : new classes from warped copies.

    References
    ----------
    H. Zhang et al., "mixup: beyond empirical risk minimization", ICLR 2018.
    R. Giri et al., "Self-supervised classification for detecting anomalous sounds",
    DCASE 2020 Workshop.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.augment import Mixup
    >>> S = np.zeros((2, 4, 3)); S[1] += 10.0
    >>> X, y = Mixup(n_samples=1, random_state=0).fit_resample(S, ["id_00", "id_01"])
    >>> y.shape, bool(np.allclose(y.sum(axis=1), 1))
    ((3, 2), True)
    >>> lam = Mixup(n_samples=1, random_state=0).fit(S, ["id_00", "id_01"]).mix_weights_[0]
    >>> i, j = Mixup(n_samples=1, random_state=0).fit(S, ["id_00", "id_01"]).mix_pairs_[0]
    >>> bool(np.allclose(X[2], lam * S[i] + (1 - lam) * S[j]))
    True
    """

    _input = "any"
    _parameter_constraints = {
        "n_samples": [Interval(Integral, 1, None, closed="left"), None],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "space": [StrOptions({"post_log", "pre_log"})],
        "pairs": [StrOptions({"across_classes", "any", "within_class"})],
        "soft_labels": ["boolean"],
        "db": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "keep_original": ["boolean"],
    }

    def __init__(
        self,
        n_samples=None,
        *,
        alpha=1.0,
        space="post_log",
        pairs="across_classes",
        soft_labels=True,
        db=10.0,
        random_state=None,
        keep_original=True,
    ):
        self.n_samples = n_samples
        self.alpha = alpha
        self.space = space
        self.pairs = pairs
        self.soft_labels = soft_labels
        self.db = db
        self.random_state = random_state
        self.keep_original = keep_original

    def _draw_pairs(self, cls, n_new, rng):
        n = len(cls)
        first = rng.randint(0, n, n_new)
        second = np.empty(n_new, dtype=int)
        for k, i in enumerate(first):
            if self.pairs == "any":
                candidates = np.flatnonzero(np.arange(n) != i)
            elif self.pairs == "within_class":
                candidates = np.flatnonzero((cls == cls[i]) & (np.arange(n) != i))
            else:
                candidates = np.flatnonzero(cls != cls[i])
            if candidates.size == 0:
                what = {
                    "across_classes": "clips of two different classes, got one class",
                    "within_class": f"two clips of class {cls[i]!r}",
                    "any": "two clips, got one sample",
                }[self.pairs]
                raise ValueError(f"Mixup(pairs={self.pairs!r}) needs {what}.")
            second[k] = candidates[rng.randint(0, candidates.size)]
        return first, second

    def _augment(self, X, y, rng):
        n_new = X.shape[0] if self.n_samples is None else self.n_samples
        soft = y if y.ndim == 2 else one_hot(y, self.classes_)
        cls = soft.argmax(axis=1)
        first, second = self._draw_pairs(cls, n_new, rng)
        lam = rng.beta(self.alpha, self.alpha, n_new)
        self.mix_pairs_, self.mix_weights_ = np.stack([first, second], axis=1), lam
        w = lam.reshape(-1, *([1] * (X.ndim - 1)))
        if self.space == "pre_log":
            if X.ndim != 3:
                raise ValueError(
                    f"Mixup(space='pre_log') mixes the powers behind spectrogram dB values; got clips of "
                    f"shape {X.shape[1:]}: waveforms mix with space='post_log'."
                )
            power = w * 10.0 ** (X[first] / self.db) + (1.0 - w) * 10.0 ** (X[second] / self.db)
            mixed = self.db * np.log10(power)
        else:
            mixed = w * X[first] + (1.0 - w) * X[second]
        targets = lam[:, None] * soft[first] + (1.0 - lam[:, None]) * soft[second]
        if not self.soft_labels and y.ndim == 1:
            targets = self.classes_[targets.argmax(axis=1)]
        return mixed, targets, first
