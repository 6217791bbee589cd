"""Every public estimator documents every parameter, and no docstring quotes a benchmark figure."""

import inspect
import re

import pytest
from sklearn.base import BaseEstimator

import sklearn_asd.augment
import sklearn_asd.detectors
import sklearn_asd.embedders
import sklearn_asd.features
import sklearn_asd.model_selection

MODULES = [
    sklearn_asd.augment,
    sklearn_asd.detectors,
    sklearn_asd.embedders,
    sklearn_asd.features,
    sklearn_asd.model_selection,
]
ESTIMATORS = sorted(
    {
        obj
        for module in MODULES
        for name in module.__all__
        if inspect.isclass(obj := getattr(module, name)) and issubclass(obj, BaseEstimator)
    },
    key=lambda c: c.__name__,
)


def documented_names(doc):
    """The names of the Parameters section: ``name : ...`` lines, ``a, b : ...`` lists, ``**kwargs``."""
    section = re.search(r"\n\s*Parameters\n\s*-+\n(.*?)(\n\s*\n\s*[A-Z][a-z ]+\n\s*-+\n|\Z)", doc, re.S)
    assert section, "no Parameters section"
    names = set()
    for line in section.group(1).splitlines():
        m = re.match(r"^    (\*{0,2}\w[\w, *]*?)(\s:\s|$)", line)
        if m:
            names.update(n.strip().lstrip("*") for n in m.group(1).split(","))
    return names


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_is_documented(estimator):
    params = [
        p.name
        for p in inspect.signature(estimator.__init__).parameters.values()
        if p.name != "self" and p.kind is not p.VAR_KEYWORD
    ]
    if inspect.isabstract(estimator) or estimator.__name__.startswith("Base"):
        pytest.skip("a base class: its subclasses document their parameters")
    missing = [p for p in params if p not in documented_names(estimator.__doc__)]
    assert not missing, f"{estimator.__name__} does not document {missing}"
    assert "{" + "device}" not in estimator.__doc__  # a shared fragment left unfilled


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda c: c.__name__)
def test_no_benchmark_figures_in_docstrings(estimator):
    # figures measured here live in benchmarks/README (a docstring may point there, and quote
    # the papers' own numbers, which are percentages); our tables' form is a 3-decimal AUC
    assert not re.search(r"\b(AUC|score|official)\s+(of\s+)?0\.\d{3}\b", estimator.__doc__)
    assert not re.search(r"\d+(\.\d+)?\s?s on (2|two)( busy)? cores", estimator.__doc__)
