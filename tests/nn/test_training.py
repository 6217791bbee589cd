import numpy as np
import pytest
import torch
from skorch.dataset import Dataset

from sklearn_asd.detectors import AutoEncoderDetector
from sklearn_asd.embedders import ClassifierEmbedder
from sklearn_asd.nn._training import BatchIterator, PatchDataset


def batches(loader):
    return [tuple(t.clone() for t in batch) for batch in loader]


def assert_same_batches(ours, reference):
    assert len(ours) == len(reference)
    for (x, y), (rx, ry) in zip(ours, reference):
        assert x.dtype == rx.dtype and y.dtype == ry.dtype
        torch.testing.assert_close(x, rx, rtol=0, atol=0)
        torch.testing.assert_close(y, ry, rtol=0, atol=0)


rng = np.random.default_rng(0)
DATASETS = {
    "skorch arrays": lambda: Dataset(
        rng.normal(size=(37, 5)).astype(np.float32), np.arange(37, dtype=np.float32)
    ),
    "skorch, no y": lambda: Dataset(rng.normal(size=(23, 4)).astype(np.float32)),
    "spectrogram patches": lambda: PatchDataset(
        rng.normal(size=(6, 8, 30)).astype(np.float32), np.arange(6), 10, 4
    ),
    "waveform segments": lambda: PatchDataset(
        rng.normal(size=(5, 400)).astype(np.float32), np.arange(5), 100, 50
    ),
    "whole clips, no y": lambda: PatchDataset(rng.normal(size=(7, 8, 12)).astype(np.float32)),
}


@pytest.mark.parametrize("make", DATASETS.values(), ids=DATASETS.keys())
@pytest.mark.parametrize("shuffle, drop_last", [(True, False), (True, True), (False, False)])
def test_batches_are_the_dataloaders_in_the_same_order(make, shuffle, drop_last):
    dataset = make()
    g_ours, g_ref = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    for _ in range(2):  # two epochs: the generator moves on alike
        ours = batches(
            BatchIterator(dataset, batch_size=8, shuffle=shuffle, generator=g_ours, drop_last=drop_last)
        )
        reference = torch.utils.data.DataLoader(
            dataset, batch_size=8, shuffle=shuffle, generator=g_ref, drop_last=drop_last
        )
        assert_same_batches(ours, batches(reference))
        assert len(BatchIterator(dataset, batch_size=8, drop_last=drop_last)) == len(reference)
    assert torch.equal(g_ours.get_state(), g_ref.get_state())


def test_training_is_the_same_as_with_the_dataloader(monkeypatch):
    # the autoencoder on frame vectors (skorch's Dataset) and a classifier on patches, trained
    # with the batch iterator and with skorch's default DataLoader: the very same weights
    import sklearn_asd.nn._training as training

    S = rng.normal(size=(12, 16, 20)).astype(np.float32)
    y = np.repeat(["a", "b"], 6)
    for estimator in (
        AutoEncoderDetector(max_epochs=2, batch_size=32, random_state=0),
        ClassifierEmbedder(
            module__width_mult=0.25, patch_frames=8, patch_hop=4, max_epochs=2, random_state=0
        ),
    ):
        ours = {k: v.clone() for k, v in estimator.fit(S, y).net_.module_.state_dict().items()}
        with monkeypatch.context() as m:
            m.setattr(training, "BatchIterator", torch.utils.data.DataLoader)
            reference = estimator.fit(S, y).net_.module_.state_dict()
        assert estimator.net_.iterator_train is torch.utils.data.DataLoader
        for k, v in reference.items():
            torch.testing.assert_close(v, ours[k], rtol=0, atol=0, msg=k)


def test_read_only_inputs_train_and_score_without_a_warning():
    # a joblib memmap in a GridSearchCV(n_jobs=2) worker is read-only: torch warned on every fit
    import warnings

    S = rng.normal(size=(12, 16, 20)).astype(np.float32)
    S.flags.writeable = False
    y = np.repeat(["a", "b"], 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ae = AutoEncoderDetector(max_epochs=1, batch_size=32, random_state=0).fit(S)
        scores = ae.score_samples(S)
        embedder = ClassifierEmbedder(
            module__width_mult=0.25, patch_frames=8, patch_hop=4, max_epochs=1, random_state=0
        ).fit(S, y)
        E = embedder.transform(S)
        dataset = PatchDataset(S, np.arange(12), 8, 4)
        x, _ = dataset.batch(torch.arange(len(dataset)))
    x.zero_()  # a batch is a new tensor: the clips stay as they were
    assert not S.flags.writeable and np.abs(S).min() > 0
    assert np.isfinite(scores).all() and np.isfinite(E).all()
    # the same figures as on a writable copy
    np.testing.assert_array_equal(scores, ae.score_samples(S.copy()))
