import numpy as np
import pytest

from sklearn_asd.augment import Mixup, SamplerPipeline, SpectralWarp
from sklearn_asd.datasets import make_machine_sounds
from sklearn_asd.metrics import dcase_score
from sklearn_asd.recipes import GIRI_MACHINE_TABLE, NEEDS_OUTLIERS, RECIPES, giri2020, morita2021
from sklearn_asd.utils import anomaly_score


@pytest.fixture(scope="module")
def machine():
    kw = dict(n_sections=2, duration=2.1, random_state=0)
    train = make_machine_sounds(n_normal={"source": 6, "target": 2}, split="train", **kw)
    test = make_machine_sounds(n_normal=2, n_anomalous=2, **kw)
    other = make_machine_sounds(
        n_normal=4, n_anomalous=0, split="train", n_sections=2, duration=2.1, random_state=7
    )
    return train, test, other.X


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_fits_and_scores_with_the_contract(name, machine, routing):
    train, test, outliers = machine
    recipe = RECIPES[name]
    model = recipe(outliers, fast=True) if name in NEEDS_OUTLIERS else recipe(fast=True)
    model.fit(train.X, train.y, section=train.section, domain=train.domain)
    scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
    assert scores.shape == (len(test.X),) and np.all(np.isfinite(scores))
    score = dcase_score(test.anomaly, scores, section=test.section, domain=test.domain)
    assert 0.0 <= score <= 1.0


@pytest.mark.parametrize("machine_type", sorted(GIRI_MACHINE_TABLE))
def test_giri_follows_the_per_machine_table(machine_type):
    space, warp, epochs = GIRI_MACHINE_TABLE[machine_type]
    score = giri2020(machine_type, ensemble=False)[-1]
    embedder = score.estimator
    augment = embedder.augment
    assert any(isinstance(a, SpectralWarp) and tuple(a.alphas) == (0.95, 1.05) for a in augment) == warp
    mix = [a for a in augment if isinstance(a, Mixup)][0]
    assert mix.space == space and mix.pairs == "across_classes"
    assert embedder.max_epochs == epochs and embedder.lr == 1e-4
    assert (
        embedder.module_params == {"width_mult": 0.5}
        and embedder.patch_frames == 64
        and embedder.patch_hop == 8
    )
    assert score.kind == "prob"
    assert isinstance(SamplerPipeline([("a", augment[0])]), SamplerPipeline)
    with pytest.raises(ValueError, match="machine_type must be one of"):
        giri2020("gearbox")


def test_morita_settings():
    model = morita2021()
    stft, embed, detect = (step for _, step in model.steps)
    assert (stft.n_fft, stft.hop_length, stft.kind, stft.log) == (2048, 512, "power", "db")
    assert (embed.module, embed.head, embed.patch_frames, embed.patch_hop) == (
        "mobilefacenet",
        "arcface",
        32,
        16,
    )
    assert (
        detect.source.n_neighbors == 4 and detect.target.n_neighbors == 1 and detect.target.metric == "cosine"
    )
