"""
Scoring new recordings with a deployed model
============================================

A fitted pipeline is one joblib file. Here a model is trained, saved, loaded back as a
monitoring service would, and used to score new WAV files: DCASE submission files, and one alarm
per recording.
"""

# %%
# Train and save
# --------------
# The pipeline starts from file paths (``AudioReader``), so the deployed model takes what the
# recorder writes.
import tempfile
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
import sklearn
import soundfile as sf
from sklearn.pipeline import Pipeline

from sklearn_asd.datasets import AudioReader, make_machine_sounds
from sklearn_asd.detectors import KNNDetector
from sklearn_asd.features import LogMel, Pool
from sklearn_asd.plot import plot_score_histogram
from sklearn_asd.utils import anomaly_score

sklearn.set_config(enable_metadata_routing=True)
workdir = Path(tempfile.mkdtemp())
machine = dict(n_sections=2, duration=2.0, random_state=0)


def write_wavs(clips, folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for x, name in zip(clips, names):
        sf.write(folder / name, x, 16000, subtype="PCM_16")
    return [str(folder / name) for name in names]


train = make_machine_sounds(n_normal={"source": 30, "target": 3}, split="train", **machine)
train_files = write_wavs(
    train.X,
    workdir / "train",
    [f"{s}_{d}_train_normal_{i:04d}.wav" for i, (s, d) in enumerate(zip(train.section, train.domain))],
)
model = Pipeline(
    [
        ("read", AudioReader(sr=16000, duration=2.0)),
        ("logmel", LogMel(n_mels=128)),
        ("pool", Pool("mean+std")),
        ("knn", KNNDetector(per_section=True, contamination=0.05)),
    ]
)
model.fit(train_files, train.y, section=train.section, domain=train.domain)
joblib.dump(model, workdir / "fan.joblib")
print(f"model file: {(workdir / 'fan.joblib').stat().st_size / 1e6:.2f} MB")

# %%
# Load and score new recordings
# -----------------------------
# The section (which machine) and the domain (which operating condition) of each recording come
# from the plant's configuration; here from the generator.
deployed = joblib.load(workdir / "fan.joblib")
new = make_machine_sounds(n_normal=10, n_anomalous=10, split="test", **{**machine, "random_state": 5})
new_files = write_wavs(new.X, workdir / "incoming", [f"recording_{i:04d}.wav" for i in range(len(new.X))])

scores = anomaly_score(deployed, new_files, section=new.section, domain=new.domain)
alarms = deployed.predict(new_files, section=new.section, domain=new.domain) == -1
assert np.array_equal(scores, anomaly_score(model, new_files, section=new.section, domain=new.domain))
print(f"{alarms.sum()} alarms for {len(new_files)} recordings; {new.anomaly.sum()} were anomalous")
print(
    f"alarms on anomalous recordings: {alarms[new.anomaly == 1].mean():.0%}, "
    f"on normal ones: {alarms[new.anomaly == 0].mean():.0%}"
)

# %%
# The DCASE submission files
# --------------------------
# ``sklearn-asd score`` writes these for a DCASE folder; by hand they are two lines of numpy.
for section in np.unique(new.section):
    rows = np.flatnonzero(new.section == section)
    names = [Path(new_files[i]).name for i in rows]
    np.savetxt(
        workdir / f"anomaly_score_fan_{section}_test.csv",
        np.c_[names, scores[rows].round(6)],
        fmt="%s",
        delimiter=",",
    )
    np.savetxt(
        workdir / f"decision_result_fan_{section}_test.csv",
        np.c_[names, alarms[rows].astype(int)],
        fmt="%s",
        delimiter=",",
    )
print((workdir / "anomaly_score_fan_section_00_test.csv").read_text().splitlines()[:3])

# %%
# Where the alarms fall
# ---------------------
plot_score_histogram(new.anomaly, scores, section=new.section, threshold=deployed)
plt.show()
