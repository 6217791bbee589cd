"""
Tuning a pipeline with GridSearchCV
===================================

Tuning an anomaly detector needs anomalous clips to score a candidate, but no fold may train
on one. ``NormalOnlyKFold`` puts the anomalous clips in the test folds only, and
``dcase_scorer`` computes the official score of each fold from the ground truth, which travels
as metadata.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_asd.datasets import concat_datasets, make_machine_sounds
from sklearn_asd.detectors import KNNDetector
from sklearn_asd.features import LogMel, Pool
from sklearn_asd.metrics import dcase_report, dcase_scorer
from sklearn_asd.model_selection import NormalOnlyKFold
from sklearn_asd.utils import anomaly_score

sklearn.set_config(enable_metadata_routing=True)
machine = dict(n_sections=3, duration=2.0, random_state=1)
development = concat_datasets(
    make_machine_sounds(n_normal={"source": 30, "target": 3}, split="train", **machine),
    make_machine_sounds(n_normal=8, n_anomalous=8, split="test", **machine),
)
evaluation = make_machine_sounds(n_normal=10, n_anomalous=10, split="test", **{**machine, "random_state": 2})

# %%
# The search
# ----------
# Candidates: the pooling statistics, the kNN metric and k. ``refit=False``: a refit on
# everything given to ``fit`` would train on the anomalous clips.
model = Pipeline(
    [("logmel", LogMel(n_mels=64)), ("pool", Pool("mean")), ("knn", KNNDetector(per_section=True))]
)
grid = {
    "pool__stat": ["mean", "mean+std"],
    "knn__metric": ["euclidean", "cosine"],
    "knn__n_neighbors": [1, 3],
}
search = GridSearchCV(
    model, grid, scoring=dcase_scorer, refit=False, cv=NormalOnlyKFold(3, shuffle=True, random_state=0)
)
search.fit(
    development.X,
    development.y,
    anomaly=development.anomaly,
    section=development.section,
    domain=development.domain,
)
results = search.cv_results_
order = np.argsort(-results["mean_test_score"])
for i in order:
    print(
        f"{results['mean_test_score'][i]:.3f} +- {results['std_test_score'][i]:.3f}  {results['params'][i]}"
    )

# %%
# The grid as a picture
# ---------------------
fig, ax = plt.subplots(figsize=(6, 3), constrained_layout=True)
labels = [", ".join(f"{v}" for v in p.values()) for p in results["params"]]
ax.errorbar(results["mean_test_score"], labels, xerr=results["std_test_score"], fmt="o")
ax.set(xlabel="official score, 3 folds (mean +- std)")
plt.show()

# %%
# Refit the best candidate on the normal clips, evaluate on held-out data
# -----------------------------------------------------------------------
best = results["params"][order[0]]
normal = development.anomaly == 0
final = clone(model).set_params(**best)
final.fit(
    development.X[normal],
    development.y[normal],
    section=development.section[normal],
    domain=development.domain[normal],
)
scores = anomaly_score(final, evaluation.X, section=evaluation.section, domain=evaluation.domain)
print(dcase_report(evaluation.anomaly, scores, section=evaluation.section, domain=evaluation.domain))

# %%
# On more cores or a cluster, the same search runs in parallel with ``n_jobs`` (joblib's loky
# processes) or on a Dask cluster inside ``joblib.parallel_backend("dask")``: see the user
# guide's tuning page.
