"""
Quick start: detect anomalous machine sounds
============================================

A model hears only normal recordings of a machine and must flag the abnormal ones. This
example builds the demo's model (log-mel statistics scored by a per-section nearest-neighbour
detector), evaluates it with the official DCASE score and draws the ROC curves and the score
distributions.
"""

# %%
# Data
# ----
# ``make_machine_sounds`` makes a rotating machine with sections (individual machines) and two
# domains: ``source`` (plenty of training clips) and ``target`` (an operating condition with
# only a few). Training clips are all normal; test clips are half anomalous. Real data loads
# the same way with ``load_dcase(root, "valve", "train")``.
import matplotlib.pyplot as plt
import sklearn
from sklearn.pipeline import Pipeline

from sklearn_asd.datasets import make_machine_sounds
from sklearn_asd.detectors import KNNDetector
from sklearn_asd.features import LogMel, Pool
from sklearn_asd.metrics import dcase_report
from sklearn_asd.plot import plot_roc, plot_score_histogram
from sklearn_asd.utils import anomaly_score

sklearn.set_config(enable_metadata_routing=True)  # section / domain reach the steps that need them

machine = dict(n_sections=3, duration=4.0, random_state=0)
train = make_machine_sounds(n_normal={"source": 40, "target": 4}, split="train", **machine)
test = make_machine_sounds(n_normal=15, n_anomalous=15, split="test", **machine)
print(train.X.shape, test.X.shape, int(test.anomaly.sum()), "anomalous test clips")

# %%
# Model
# -----
# One row of ``X`` is one clip through the whole pipeline: waveforms -> log-mel spectrograms
# -> mean and standard deviation of each band -> distance to the nearest training clip of the
# same section.
model = Pipeline(
    [
        ("logmel", LogMel(n_fft=1024, hop_length=512, n_mels=128)),
        ("pool", Pool("mean+std")),
        ("knn", KNNDetector(n_neighbors=1, metric="euclidean", per_section=True)),
    ]
)
model.fit(train.X, train.y, section=train.section, domain=train.domain)

# %%
# Official score
# --------------
# ``anomaly_score`` gives the DCASE sign (higher = more anomalous). The report has the AUC per
# domain and the partial AUC per section, and the official score: their harmonic mean.
scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
print(dcase_report(test.anomaly, scores, section=test.section, domain=test.domain))

# %%
# ROC curves and score distributions
# ----------------------------------
# The target domain is harder: with four training clips per section, a normal target clip is
# often far from every training clip. The dashed line is the threshold ``predict`` uses.
plot_roc(test.anomaly, scores, section=test.section, domain=test.domain)
plot_score_histogram(test.anomaly, scores, section=test.section, threshold=model)
plt.show()
