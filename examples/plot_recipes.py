"""
Every published system, as a recipe
===================================

``sklearn_asd.recipes`` holds the systems of five papers and the official DCASE baselines as
unfitted pipelines of the library's public estimators. Here each one is built at its fast
settings (one or two epochs, smaller networks), fitted on the same synthetic machine and
scored with the official metric. ``fast=False`` (the default) gives the papers' settings,
which are meant for a GPU; ``benchmarks/run_accuracy.py --recipes --full`` runs them.
"""

# %%
# One machine, and clips of another machine type for the recipes with outlier exposure
# -------------------------------------------------------------------------------------
import time

import matplotlib.pyplot as plt
import numpy as np
import sklearn

from sklearn_asd.datasets import make_machine_sounds, with_outliers
from sklearn_asd.metrics import dcase_report
from sklearn_asd.recipes import RECIPES, make_recipe
from sklearn_asd.utils import anomaly_score

sklearn.set_config(enable_metadata_routing=True)
machine = dict(n_sections=2, duration=3.0, random_state=0)
train = make_machine_sounds(n_normal={"source": 12, "target": 2}, split="train", **machine)
test = make_machine_sounds(n_normal=6, n_anomalous=6, split="test", **machine)
# another machine type: the same generator with another seed, i.e. other harmonics and resonances
other = make_machine_sounds(n_sections=2, n_normal=6, duration=3.0, split="train", random_state=100)
# its clips join the training rows, marked outlier=True: the recipes with outlier exposure train
# on them, every other step leaves them out
train = with_outliers(train, other)

# %%
# Build, fit and score every recipe
# ---------------------------------
# Each recipe documents the paper's settings and table; the first line of its docstring says
# what it is.
rows = []
for name, recipe in RECIPES.items():
    model = make_recipe(name, fast=True)  # giri2020: the paper's settings for valve by default
    model.set_params(**{k: 1 for k in model.get_params() if k.endswith("max_epochs")})  # a demo
    t0 = time.perf_counter()
    model.fit(train.X, train.y, section=train.section, domain=train.domain, outlier=train.outlier)
    fit_s = time.perf_counter() - t0
    scores = anomaly_score(model, test.X, section=test.section, domain=test.domain)
    report = dcase_report(test.anomaly, scores, section=test.section, domain=test.domain, output_dict=True)
    mean = report["arithmetic mean"]
    rows.append(
        (name, report["official score"], mean["AUC (source)"], mean["AUC (target)"], mean["pAUC"], fit_s)
    )
    print(f"{name}: {recipe.__doc__.strip().splitlines()[0]}")

# %%
# The table
# ---------
# One epoch on 28 training clips: the numbers show that every recipe runs end to end
# through the routing contract, not how good it is.
print(f"{'recipe':20s} {'official':>9s} {'AUC src':>8s} {'AUC tgt':>8s} {'pAUC':>6s} {'fit s':>6s}")
for name, official, src, tgt, pauc, fit_s in rows:
    print(f"{name:20s} {official:9.3f} {src:8.3f} {tgt:8.3f} {pauc:6.3f} {fit_s:6.1f}")

fig, ax = plt.subplots(figsize=(7, 3.2), constrained_layout=True)
names = [r[0] for r in rows]
ax.barh(names, [r[1] for r in rows], color="tab:blue")
ax.axvline(0.5, color="0.5", linestyle=":", label="chance")
ax.set(xlabel="official score (fast settings)", xlim=(0, 1))
ax.invert_yaxis()
ax.legend(loc="lower right")
plt.show()

# %%
# Inspect and change a recipe
# ---------------------------
# A recipe is an ordinary pipeline: print it, and change any parameter with ``set_params``.
model = RECIPES["morita2021"](fast=True)
print(model)
model.set_params(detect__source__n_neighbors=8, embed__max_epochs=2)
print(np.unique([type(step).__name__ for _, step in model.steps]))
