"""The sampler base of the augmentations, and their composition."""

import copy
from abc import abstractmethod

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_array


def check_labels(y, n_samples, caller):
    """Return ``y`` as 1-D object labels or a 2-D float matrix of class proportions."""
    if y is None:
        raise ValueError(
            f"{caller} requires y to be passed, but the target y is None: y is the class (section) of "
            "each clip, or a matrix of class proportions."
        )
    y = np.asarray(y)
    if y.ndim == 1:
        if y.shape[0] != n_samples:
            raise ValueError(f"{caller}: y has {y.shape[0]} labels for {n_samples} clips.")
        return y.astype(object)
    if y.ndim == 2:
        y = check_array(y, dtype=float)
        if y.shape[0] != n_samples:
            raise ValueError(f"{caller}: y has {y.shape[0]} rows for {n_samples} clips.")
        if np.any(y < -1e-9) or not np.allclose(y.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError(
                f"{caller}: a 2-D y must hold class proportions: non-negative rows that sum to 1."
            )
        return y
    raise ValueError(
        f"{caller}: y must be 1-D labels or a 2-D matrix of class proportions, got shape {y.shape}."
    )


def one_hot(y, classes):
    """Hard labels -> rows of class proportions whose columns follow ``classes``."""
    out = np.zeros((len(y), len(classes)))
    out[np.arange(len(y)), np.searchsorted(classes, y)] = 1.0
    return out


class BaseAugmenter(BaseEstimator):
    """Base of the fit-time augmentations: imbalanced-learn samplers that accept what ASD needs.

    ``fit_resample(X, y)`` returns the original clips (unless ``keep_original=False``)
    followed by the synthetic ones, in an order fixed by ``random_state``. Unlike
    imbalanced-learn's samplers, ``y`` may hold a single class (one-section machines)
    or be a 2-D matrix of class proportions (soft labels, e.g. after :class:`Mixup`).
    Like them, it acts in ``fit`` only: :class:`imblearn.pipeline.Pipeline` skips it when
    predicting or scoring.

    Subclasses declare what they take (``_input``: ``"spectrogram"`` for (n_clips,
    n_freqs, n_frames), ``"waveform"`` for (n_clips, n_samples), ``"any"``) and implement
    ``_augment(X, y, rng) -> (X_new, y_new, parents)``, ``parents`` being the index of
    the clip each synthetic clip was made from.

    Attributes
    ----------
    synthetic_mask_ : ndarray of bool, shape (n_out,)
        Which output clips are synthetic.
    sample_indices_ : ndarray of int, shape (n_out,)
        For each output clip, the input clip it is (or was made from); -1 when it was
        made from several clips at once (SMOTE).
    classes_ : ndarray or None
        The classes of the output labels (the columns of soft labels); ``None`` when
        ``y`` came in as unnamed proportion columns and stays so.
    """

    _estimator_type = "sampler"
    _input = "any"

    def _check_X(self, X):
        X = check_array(X, allow_nd=True, dtype=[np.float64, np.float32])
        name = type(self).__name__
        if self._input == "spectrogram" and X.ndim != 3:
            raise ValueError(
                f"{name} augments spectrograms of shape (n_clips, n_freqs, n_frames), got shape {X.shape}: "
                "put it after a feature step such as LogMel (waveforms are 2-D)."
            )
        if self._input == "waveform" and X.ndim != 2:
            raise ValueError(
                f"{name} augments waveforms of shape (n_clips, n_samples), got shape {X.shape}: "
                "put it before the feature step (spectrograms are 3-D)."
            )
        return X

    def fit(self, X, y):
        """Check the input; the augmentation itself happens in :meth:`fit_resample`."""
        self.fit_resample(X, y)
        return self

    def fit_resample(self, X, y):
        """Return the clips and labels with the synthetic clips appended.

        Parameters
        ----------
        X : array-like
            Clips: spectrograms or waveforms, as the augmentation requires.
        y : array-like of shape (n_clips,) or (n_clips, n_classes)
            Class labels, or class proportions.

        Returns
        -------
        X_resampled : ndarray
        y_resampled : ndarray
            1-D labels, or a 2-D matrix of proportions when either the input or the
            augmentation is soft.
        """
        self._validate_params()
        X = self._check_X(X)
        self.n_features_in_ = X.shape[1]
        y = check_labels(y, X.shape[0], type(self).__name__)
        self.classes_ = np.unique(y) if y.ndim == 1 else None
        rng = check_random_state(getattr(self, "random_state", None))
        X_new, y_new, parents = self._augment(X, y, rng)
        y_old = y
        if y_new.ndim == 2 and y.ndim == 1:  # hard labels in, soft out: originals become one-hot
            y_old = one_hot(y, self.classes_)
        if getattr(self, "keep_original", True):
            X_out = np.concatenate([X, X_new.astype(X.dtype, copy=False)])
            y_out = np.concatenate([y_old, y_new])
            self.sample_indices_ = np.concatenate([np.arange(X.shape[0]), parents])
            self.synthetic_mask_ = np.r_[np.zeros(X.shape[0], bool), np.ones(len(parents), bool)]
        else:
            X_out, y_out = X_new.astype(X.dtype, copy=False), y_new
            self.sample_indices_ = np.asarray(parents)
            self.synthetic_mask_ = np.ones(len(parents), bool)
        if y_out.ndim == 1:
            self.classes_ = np.unique(y_out)
        return X_out, y_out

    @abstractmethod
    def _augment(self, X, y, rng):
        """Synthetic clips, their labels and the index of the clip each was made from."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        if self._input == "spectrogram":
            # scikit-learn's checks generate 2-D data only: they run their API checks alone
            tags.input_tags.two_d_array = False
            tags.input_tags.three_d_array = True
        return tags


def derived_label(label, tag):
    """The class of a transformed copy: ``"section_00"`` -> ``"section_00|warp=0.95"``."""
    return f"{label}|{tag}"


class SamplerPipeline(_BaseComposition):
    """Apply augmentations one after another, as one sampler.

    Each step augments the output of the previous one (originals and synthetic clips),
    so ``SamplerPipeline([("warp", SpectralWarp()), ("mix", Mixup())])`` also mixes warped
    clips, as Giri et al. combine them. Usable wherever one sampler is: a step of
    :class:`imblearn.pipeline.Pipeline`, or an embedder's ``augment=``.

    Parameters
    ----------
    steps : list of (str, sampler)
        The augmentations, in order.

    Attributes
    ----------
    synthetic_mask_, sample_indices_ : ndarray
        Through all steps: a clip is synthetic if any step made it, and its index is
        the original clip it descends from.
    classes_ : ndarray or None
        The last step's classes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_asd.augment import Mixup, SamplerPipeline, SpectralWarp
    >>> S = np.random.RandomState(0).normal(-40, 5, size=(4, 16, 8))
    >>> aug = SamplerPipeline(
    ...     [("warp", SpectralWarp(scale="linear")), ("mix", Mixup(n_samples=6, random_state=0))]
    ... )
    >>> X_res, y_res = aug.fit_resample(S, ["id_00", "id_00", "id_02", "id_02"])
    >>> X_res.shape, y_res.shape, int(aug.synthetic_mask_.sum())
    ((18, 16, 8), (18, 6), 14)
    """

    _estimator_type = "sampler"
    _parameter_constraints = {"steps": [list]}

    def __init__(self, steps):
        self.steps = steps

    def fit(self, X, y):
        """Run the steps (the augmentation happens in :meth:`fit_resample`)."""
        self.fit_resample(X, y)
        return self

    def get_params(self, deep=True):
        """Parameters, with each step's as ``name__param``."""
        return self._get_params("steps", deep=deep)

    def set_params(self, **params):
        """Set parameters of the pipeline or its steps."""
        self._set_params("steps", **params)
        return self

    def fit_resample(self, X, y):
        """Run every step's ``fit_resample`` in turn."""
        self._validate_params()
        if not self.steps:
            raise ValueError("SamplerPipeline needs at least one (name, sampler) step.")
        names, samplers = zip(*self.steps)
        self._validate_names(names)
        for name, sampler in self.steps:
            if not hasattr(sampler, "fit_resample"):
                raise TypeError(
                    f"step {name!r} ({type(sampler).__name__}) has no fit_resample: not a sampler."
                )
        n = len(X)
        indices, synthetic = np.arange(n), np.zeros(n, bool)
        self.steps_ = []
        for name, sampler in self.steps:
            fitted = clone(sampler)
            X, y = fitted.fit_resample(X, y)
            step_indices = getattr(fitted, "sample_indices_", np.arange(len(X)))
            step_synthetic = getattr(fitted, "synthetic_mask_", np.zeros(len(X), bool))
            known = step_indices >= 0  # -1: made from several clips (SMOTE)
            synthetic = step_synthetic | np.where(known, synthetic[np.where(known, step_indices, 0)], True)
            indices = np.where(known, indices[np.where(known, step_indices, 0)], -1)
            self.steps_.append((name, fitted))
        self.sample_indices_, self.synthetic_mask_ = indices, synthetic
        self.classes_ = getattr(self.steps_[-1][1], "classes_", None)
        self.n_features_in_ = self.steps_[0][1].n_features_in_
        return X, y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        if self.steps and hasattr(self.steps[0][1], "__sklearn_tags__"):
            # the first step sees X: its input is the pipeline's
            tags.input_tags = copy.deepcopy(get_tags(self.steps[0][1]).input_tags)
        return tags


def as_sampler(augment):
    """``None``, one sampler, a list of samplers or a SamplerPipeline -> one sampler (or None)."""
    if augment is None or hasattr(augment, "fit_resample"):
        return augment
    if isinstance(augment, (list, tuple)):
        steps = [
            s if isinstance(s, tuple) else (f"{type(s).__name__.lower()}{i}", s)
            for i, s in enumerate(augment)
        ]
        return SamplerPipeline(list(steps))
    raise TypeError(f"augment must be a sampler, a list of samplers or None, got {type(augment).__name__}.")
