import numpy as np
import pytest
import torch

from sklearn_asd.augment import Mixup, SpectralWarp
from sklearn_asd.embedders import OUTLIER_CLASS
from sklearn_asd.embedders._targets import (
    auxiliary_task,
    class_structure,
    split_validation,
    training_targets,
)

TWO = np.array(["id_00", "id_00", "id_02", "id_02"], dtype=object)
ONE = np.array(["id_00"] * 4, dtype=object)


def no_level():
    raise AssertionError("the level is only needed for pseudo-classes")


@pytest.mark.parametrize(
    "y, n_outliers, settings, expected",
    [
        # several classes: y itself; "auto" leaves the other machines out
        (TWO, 3, {}, (list(TWO), False, False)),
        (TWO, 3, {"outlier_exposure": True}, (list(TWO), True, False)),
        # one class: "auto" trains the other machines as a class; without them, pseudo-classes
        (ONE, 3, {}, (list(ONE), True, False)),
        # target="machine": every normal clip is one class against the other machines
        (TWO, 3, {"target": "machine"}, (["machine"] * 4, True, False)),
    ],
)
def test_the_three_settings_decide_the_task(y, n_outliers, settings, expected):
    settings = {"target": "y", "outlier_exposure": "auto", "pseudo_classes": 2, **settings}
    labels, use, pseudo = auxiliary_task(y, n_outliers, no_level, **settings)
    assert (list(labels), use, pseudo) == expected


@pytest.mark.parametrize("n_outliers, exposure", [(0, "auto"), (3, False), (0, True)])
def test_a_single_class_without_an_outlier_class_splits_by_level(n_outliers, exposure):
    level = np.array([3.0, 1.0, 4.0, 2.0])
    labels, use, pseudo = auxiliary_task(
        ONE, n_outliers, lambda: level, target="y", outlier_exposure=exposure, pseudo_classes=2
    )
    assert not use and pseudo
    assert list(labels) == ["id_00|power=1", "id_00|power=0", "id_00|power=1", "id_00|power=0"]


def test_validation_clips_are_stratified_and_small_classes_keep_theirs():
    labels = np.array(["a"] * 10 + ["b"] * 4, dtype=object)
    train, valid = split_validation(labels, 0.2, random_state=0)
    assert sorted(np.r_[train, valid]) == list(range(14))
    assert list(labels[valid]) == ["a", "a"]  # b has fewer than 5 clips: all trained on
    np.testing.assert_array_equal(split_validation(labels, 0.2, random_state=0)[1], valid)
    assert len(split_validation(labels, None, random_state=0)[1]) == 0


def test_training_targets_put_the_outlier_class_last():
    X = np.zeros((4, 8, 6), dtype=np.float32)
    outliers = np.ones((2, 8, 6), dtype=np.float32)
    Xt, targets, classes = training_targets(X, TWO, outliers, None)
    assert list(classes) == ["id_00", "id_02", OUTLIER_CLASS] and len(Xt) == 6
    assert targets.dtype == torch.long and targets.tolist() == [0, 0, 1, 1, 2, 2]
    # soft labels (Mixup): the outlier rows get a one-hot column of their own
    Xt, soft, classes = training_targets(X, TWO, outliers, Mixup(random_state=0))
    assert soft.shape == (len(Xt), 3) and list(classes)[-1] == OUTLIER_CLASS
    np.testing.assert_allclose(soft[-2:].numpy(), [[0, 0, 1], [0, 0, 1]])
    np.testing.assert_allclose(soft.sum(axis=1).numpy(), 1.0, atol=1e-6)


def test_class_structure_names_kind_and_origin_without_reading_labels():
    X = np.random.default_rng(0).normal(size=(4, 16, 6)).astype(np.float32)
    _, _, classes = training_targets(X, TWO, X[:1], SpectralWarp(alphas=(0.9,)))
    kind, origin = class_structure(classes, TWO, TWO, pseudo=False, outlier_exposure=True)
    assert dict(zip(classes, kind)) == {
        "id_00": "normal",
        "id_00|warp=0.9": "augmented",
        "id_02": "normal",
        "id_02|warp=0.9": "augmented",
        OUTLIER_CLASS: "outlier",
    }
    assert list(origin) == ["id_00", None, "id_02", None, None]
    # a class that stands for several given labels has no single origin
    kind, origin = class_structure(
        np.array(["machine"], dtype=object),
        np.full(4, "machine", dtype=object),
        TWO,
        pseudo=False,
        outlier_exposure=False,
    )
    assert list(kind) == ["normal"] and list(origin) == [None]
