"""The package's layers: every import goes down, none up or sideways, so there is no cycle.

One list, lowest first; a subpackage may import only those of lower layers (the design card's
layering, docs/design.md). A new subpackage must be placed here.
"""

import ast
from pathlib import Path

import pytest

import sklearn_asd

LAYERS = [
    {"_config", "__version__"},
    {"utils"},
    {"datasets", "metrics", "model_selection"},
    {"features", "augment"},
    {"nn"},
    {"detectors", "embedders", "io"},
    {"recipes", "plot"},
    {"_cli"},
    {"cli", "__init__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
ROOT = Path(sklearn_asd.__file__).parent


def unit(path):
    """The subpackage (or top-level module) a file belongs to."""
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def imports(path):
    """The units that ``path`` imports from this package (relative imports)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            target = base.joinpath(*(node.module or "").split(".")) if node.module else base
            parts = target.relative_to(ROOT).parts if target != ROOT else ()
            found.update([parts[0].removesuffix(".py")] if parts else [a.name for a in node.names])
    return found


FILES = sorted(ROOT.rglob("*.py"))


def test_every_unit_has_a_layer():
    assert {unit(f) for f in FILES} - set(RANK) == set()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_down_the_layers(path):
    src = unit(path)
    wrong = sorted(d for d in imports(path) - {src} if RANK.get(d, -1) >= RANK[src])
    assert not wrong, f"{src} (layer {RANK[src]}) imports {wrong} of the same or a higher layer"
