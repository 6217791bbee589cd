"""sklearn-asd: scikit-learn compatible anomalous sound detection for machine monitoring."""

__version__ = "0.1.0.dev0"
