"""sklearn-asd: scikit-learn compatible anomalous sound detection for machine monitoring."""

import os
import sys

# Torch's OpenMP threads spin while they wait (GNU libgomp's default): on a machine whose cores
# are busy with other work, two spinning threads made a network's forward pass 10-40x slower
# than one (benchmarks/bench_scoring.py). Passive waiting removes the collapse. OpenMP reads the
# setting when torch loads, so this works when sklearn_asd is imported before torch; a value the
# user set is kept. See docs/design.md, "Threads".
if "torch" not in sys.modules:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ._config import config_context, get_config, set_config  # noqa: E402

__version__ = "0.1.0.dev0"

__all__ = ["config_context", "get_config", "set_config"]
