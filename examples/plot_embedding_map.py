"""
A self-supervised embedding, mapped
===================================

Giri et al. (DCASE 2020) train a network to tell the sections of a machine apart from normal
clips only; its embeddings cluster by section, and anomalous clips fall off their section's
cluster. This example trains a small ``ClassifierEmbedder`` (MobileNetV2, spectral warping as
new classes), draws the t-SNE map of its test embeddings coloured by section and by anomaly,
its training curve, and scores the clips by kNN on the embeddings.
"""

# %%
import matplotlib.pyplot as plt
import sklearn
from sklearn.pipeline import Pipeline

from sklearn_asd.augment import SpectralWarp
from sklearn_asd.datasets import make_machine_sounds
from sklearn_asd.detectors import KNNDetector
from sklearn_asd.embedders import ClassifierEmbedder
from sklearn_asd.features import LogMel
from sklearn_asd.metrics import dcase_report
from sklearn_asd.plot import plot_embeddings, plot_roc, plot_training_curves
from sklearn_asd.utils import anomaly_score

sklearn.set_config(enable_metadata_routing=True)
machine = dict(n_sections=3, duration=3.0, severity=0.6, random_state=0)
train = make_machine_sounds(n_normal={"source": 24, "target": 3}, split="train", **machine)
test = make_machine_sounds(n_normal=10, n_anomalous=10, split="test", **machine)

# %%
# The model
# ---------
# Fast settings: a quarter-width MobileNetV2, 32-frame patches, 4 epochs.
model = Pipeline(
    [
        ("logmel", LogMel(n_mels=64)),
        (
            "embed",
            ClassifierEmbedder(
                "mobilenetv2",
                module__width_mult=0.25,
                augment=[SpectralWarp(alphas=(0.95, 1.05))],
                patch_frames=32,
                patch_hop=8,
                max_epochs=4,
                lr=1e-3,
                random_state=0,
            ),
        ),
        ("knn", KNNDetector(n_neighbors=1, metric="cosine", per_section=True)),
    ]
)
model.fit(train.X, train.y, section=train.section, domain=train.domain)

# %%
# The map
# -------
# ``model[:-1].transform`` gives the embeddings the detector sees.
embeddings = model[:-1].transform(test.X)
plot_embeddings(embeddings, section=test.section, anomaly=test.anomaly, domain=test.domain, perplexity=15)

# %%
# The training curve, from the skorch history inside the pipeline
# ---------------------------------------------------------------
plot_training_curves(model)

# %%
# The scores
# ----------
scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
print(dcase_report(test.anomaly, scores, section=test.section, domain=test.domain))
plot_roc(test.anomaly, scores, section=test.section, domain=test.domain)
plt.show()
