"""Figures of an ASD evaluation: ROC curves, score histograms, embedding maps, training curves.

matplotlib is an optional dependency: ``pip install "sklearn-asd[plot]"``. Every function
returns the :class:`matplotlib.figure.Figure` it drew, for the caller to show or save.
"""

from ._embedding import model_embeddings, plot_embeddings
from ._scores import plot_roc, plot_score_histogram
from ._training import plot_training_curves, training_histories

__all__ = [
    "model_embeddings",
    "plot_embeddings",
    "plot_roc",
    "plot_score_histogram",
    "plot_training_curves",
    "training_histories",
]
