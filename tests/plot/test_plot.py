import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sklearn  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from sklearn_asd.datasets import make_machine_sounds  # noqa: E402
from sklearn_asd.detectors import AutoEncoderDetector, KNNDetector, StandardizedEnsemble  # noqa: E402
from sklearn_asd.features import LogMel, Pool  # noqa: E402
from sklearn_asd.metrics import dcase_report  # noqa: E402
from sklearn_asd.plot import (  # noqa: E402
    plot_embeddings,
    plot_roc,
    plot_score_histogram,
    plot_training_curves,
    training_histories,
)
from sklearn_asd.plot._training import still_falling  # noqa: E402
from sklearn_asd.utils import anomaly_score  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def scored():
    """Pooled log-mel + kNN on synthetic data: test clips, scores and the fitted model."""
    kw = dict(n_sections=2, duration=1.0, random_state=0)
    train = make_machine_sounds(n_normal={"source": 20, "target": 3}, split="train", **kw)
    test = make_machine_sounds(n_normal=8, n_anomalous=8, split="test", **kw)
    model = Pipeline(
        [
            ("logmel", LogMel(n_fft=512, hop_length=256, n_mels=32)),
            ("pool", Pool("mean+std")),
            ("knn", KNNDetector(per_section=True)),
        ]
    )
    with sklearn.config_context(enable_metadata_routing=True):
        model.fit(train.X, train.y, section=train.section, domain=train.domain)
        scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
    return test, scores, model


def test_roc_draws_the_official_curves_with_the_reported_values(scored):
    test, scores, _ = scored
    fig = plot_roc(test.anomaly, scores, section=test.section, domain=test.domain)
    report = dcase_report(test.anomaly, scores, section=test.section, domain=test.domain, output_dict=True)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    for ax, sec in zip(axes, ["section_00", "section_01"]):
        row = report["sections"][sec]
        assert ax.get_title() == f"{sec}, pAUC {row['pAUC']:.3f}"
        curves = {line.get_label().split(":")[0]: line for line in ax.get_lines()[1:]}
        assert set(curves) == {"source", "target"}
        for dom, line in curves.items():
            assert line.get_label() == f"{dom}: AUC {row[f'AUC ({dom})']:.3f}"
            # the curve of that domain's normal clips against every anomalous clip of the section
            keep = (test.section == sec) & ((test.domain == dom) | (test.anomaly == 1))
            fpr, tpr, _ = roc_curve(test.anomaly[keep], scores[keep])
            np.testing.assert_allclose(line.get_xdata(), fpr)
            np.testing.assert_allclose(line.get_ydata(), tpr)


def test_roc_without_domain_or_section(scored):
    test, scores, _ = scored
    fig = plot_roc(test.anomaly, scores)
    (ax,) = [ax for ax in fig.axes if ax.get_visible()]
    assert [line.get_label().split(":")[0] for line in ax.get_lines()[1:]] == ["all"]
    with pytest.raises(ValueError, match="both normal"):
        plot_roc(np.zeros(4), np.arange(4.0))
    with pytest.raises(ValueError, match="section must have one value per clip"):
        plot_roc(test.anomaly, scores, section=test.section[:3])


def test_score_histogram_counts_every_clip_and_draws_the_models_threshold(scored):
    test, scores, model = scored
    fig = plot_score_histogram(test.anomaly, scores, section=test.section, threshold=model)
    threshold = -model[-1].offset_
    for ax, sec in zip(fig.axes, ["section_00", "section_01"]):
        assert ax.get_title() == sec
        assert ax.get_lines()[0].get_xdata()[0] == pytest.approx(threshold)
        heights = [sum(p.get_height() for p in c) for c in ax.containers]
        in_sec = test.section == sec
        assert heights == [np.sum(in_sec & (test.anomaly == 0)), np.sum(in_sec & (test.anomaly == 1))]
    # the drawn line is the one predict uses
    with sklearn.config_context(enable_metadata_routing=True):
        predicted = model.predict(test.X, section=test.section, domain=test.domain)
    np.testing.assert_array_equal(predicted == -1, scores > threshold)
    with pytest.raises(ValueError, match="threshold must be a number"):
        plot_score_histogram(test.anomaly, scores, threshold=KNNDetector())
    with pytest.raises(ValueError, match="NaN"):
        plot_score_histogram([0, 1], [0.0, np.nan])


def test_embedding_map_separates_sections_and_marks_anomalies():
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 1, (3, 16))
    emb = np.vstack([c + 0.05 * rng.normal(0, 1, (30, 16)) for c in centers])
    section = np.repeat(["s0", "s1", "s2"], 30)
    anomaly = np.zeros(90, int)
    anomaly[::10] = 1
    domain = np.where(np.arange(90) % 7 == 0, "target", "source")
    fig = plot_embeddings(emb, section=section, anomaly=anomaly, domain=domain, perplexity=10)
    coords = fig.map_
    assert coords.shape == (90, 2)
    # each clip's nearest neighbour on the map is of its own section
    d = ((coords[:, None] - coords[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert np.mean(section[d.argmin(1)] == section) > 0.95
    by_section, by_anomaly = fig.axes
    assert [t.get_text() for t in by_section.get_legend().get_texts()] == ["s0", "s1", "s2"]
    assert [t.get_text() for t in by_anomaly.get_legend().get_texts()] == ["normal", "anomalous"]
    assert sum(len(c.get_offsets()) for c in by_anomaly.collections) == 90
    # repeatable
    np.testing.assert_allclose(
        plot_embeddings(emb, section=section, anomaly=anomaly, domain=domain, perplexity=10).map_, coords
    )
    with pytest.raises(ValueError, match="method must be"):
        plot_embeddings(emb, method="umap")
    with pytest.raises(ValueError, match="at least 3 clips"):
        plot_embeddings(emb[:2])


def _tiny_autoencoder(seed, epochs):
    return AutoEncoderDetector(
        n_frames=2, hidden=8, n_hidden=1, bottleneck=4, max_epochs=epochs, batch_size=64, random_state=seed
    )


def test_training_curves_of_every_net_in_the_model():
    train = make_machine_sounds(n_sections=2, n_normal=6, duration=1.0, split="train", random_state=0)
    model = Pipeline(
        [
            ("logmel", LogMel(n_fft=512, hop_length=256, n_mels=16)),
            (
                "ensemble",
                StandardizedEnsemble([("ae1", _tiny_autoencoder(0, 3)), ("ae2", _tiny_autoencoder(1, 4))]),
            ),
        ]
    )
    with sklearn.config_context(enable_metadata_routing=True):
        model.fit(train.X, train.y, section=train.section, domain=train.domain)
    histories = training_histories(model)
    assert list(histories) == ["ensemble.estimators_[0].net_", "ensemble.estimators_[1].net_"]
    fig = plot_training_curves(model)
    for ax, (_path, history), epochs, name in zip(fig.axes, histories.items(), [3, 4], ["ae1", "ae2"]):
        # the step and member names, not internal attributes; 3-4 epochs of a tiny net still fall
        assert ax.get_title().splitlines()[0] == f"ensemble > {name} (AutoEncoderDetector)"
        (line,) = ax.get_lines()
        assert line.get_label() == "train_loss"
        np.testing.assert_allclose(line.get_xdata(), np.arange(1, epochs + 1))
        np.testing.assert_allclose(line.get_ydata(), history[:, "train_loss"])
    assert still_falling([1.0, 0.8, 0.7, 0.6]) and not still_falling([1.0, 0.5, 0.5, 0.5, 0.499])
    with pytest.raises(ValueError, match="no numeric 'valid_acc'"):
        plot_training_curves(model, keys=["valid_acc"])
    with pytest.raises(ValueError, match="holds no skorch net"):
        plot_training_curves(KNNDetector().fit(np.eye(3)))


def test_embeddings_are_what_the_detector_sees(routing):
    from sklearn.pipeline import Pipeline

    from sklearn_asd.detectors import AutoEncoderDetector, KNNDetector, SoftmaxScore
    from sklearn_asd.embedders import ClassifierEmbedder
    from sklearn_asd.features import LogMel, Pool
    from sklearn_asd.plot import model_embeddings as embeddings

    data = make_machine_sounds(n_sections=2, n_normal=4, duration=1.0, split="train", random_state=0)
    pooled = Pipeline([("logmel", LogMel(n_mels=16)), ("pool", Pool()), ("knn", KNNDetector())])
    pooled.fit(data.X, data.y)
    np.testing.assert_allclose(embeddings(pooled, data.X), pooled[:-1].transform(data.X), rtol=1e-6)
    # a spectrogram into the detector (the autoencoder baseline): averaged over time
    ae = AutoEncoderDetector(n_frames=2, hidden=8, n_hidden=1, bottleneck=4, max_epochs=1, random_state=0)
    baseline = Pipeline([("logmel", LogMel(n_mels=16)), ("ae", ae)]).fit(data.X)
    S = baseline[0].transform(data.X)
    np.testing.assert_allclose(embeddings(baseline, data.X), S.mean(axis=-1), rtol=1e-6)
    # a SoftmaxScore: its embedder's embeddings
    emb = ClassifierEmbedder(module__width_mult=0.25, patch_frames=16, max_epochs=1, random_state=0)
    softmax = Pipeline([("logmel", LogMel(n_mels=16)), ("score", SoftmaxScore(emb))])
    softmax.fit(data.X, data.y, section=data.section)
    expected = softmax[-1].estimator_.transform(softmax[0].transform(data.X))
    np.testing.assert_allclose(embeddings(softmax, data.X), expected, rtol=1e-6)
