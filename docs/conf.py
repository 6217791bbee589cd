"""Sphinx configuration of the sklearn-asd documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (CI does, warnings as
errors). The example gallery runs every script of ``examples/`` at its fast settings; set
``SKLEARN_ASD_DOCS_NO_GALLERY=1`` to skip running them while writing prose.
"""

import os
from pathlib import Path

import sklearn_asd

project = "sklearn-asd"
author = "sklearn-asd developers"
copyright = "2026, sklearn-asd developers"
release = sklearn_asd.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

root = Path(__file__).resolve().parent
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "**/*.zip"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
default_role = "literal"

# API reference: one page per public name, generated from the docstrings (numpydoc format).
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

myst_heading_anchors = 3

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "imblearn": ("https://imbalanced-learn.org/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
    "librosa": ("https://librosa.org/doc/latest", None),
    "torch": ("https://docs.pytorch.org/docs/stable", None),
    "joblib": ("https://joblib.readthedocs.io/en/stable", None),
    "matplotlib": ("https://matplotlib.org/stable", None),
}
# CI machines have no internet: the inventories are only fetched where SKLEARN_ASD_DOCS_INTERSPHINX=1.
if os.environ.get("SKLEARN_ASD_DOCS_INTERSPHINX") != "1":
    intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": str(root.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": "False" if os.environ.get("SKLEARN_ASD_DOCS_NO_GALLERY") == "1" else "True",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "reset_modules": ("matplotlib",),
}

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-asd {release}"
html_theme_options = {"navigation_with_keys": False, "show_prev_next": False}
html_static_path = []
