"""Scoring throughput of every recipe against the floor of its parts, at 1 and 2 torch threads.

Run: python benchmarks/bench_scoring.py [--clips 32] [--repeat 3] [--load 1] [--recipes ...]

Each recipe is fitted once (CPU setting, one epoch: throughput does not depend on how well it
learned) on synthetic 10-second clips, then ``decision_function`` scores --clips clips. Beside it,
in the same run, its floor: the feature steps alone (the leading steps without a network) plus the
network forward passes alone, replayed on the very batches the scoring fed them (recorded by
hooks, so the batch size is the same), under ``torch.no_grad``. The ratio full / floor is what
the library adds on top of features and networks (batching, stacking, detectors, copies).

Every figure is the min and the median of --repeat runs, at torch_threads=1 and 2 (set with
``sklearn_asd.config_context``), with --load busy background processes running (a laptop or a
shared server always has other work; 0 for an idle machine). The last column is the slowdown of
2 threads against 1: the thread collapse of GNU OpenMP's spinning threads is 10-40x; importing
sklearn_asd sets OMP_WAIT_POLICY=PASSIVE, and ``--active`` shows what it prevents.
"""

import argparse
import os
import subprocess
import sys

# What `import sklearn_asd` does when it comes before torch (here torch sorts first); --active:
# GNU OpenMP's spinning default, to show the collapse. Read when torch loads: set it first.
os.environ.setdefault("OMP_WAIT_POLICY", "ACTIVE" if "--active" in sys.argv else "PASSIVE")

import sklearn
import torch
from _timing import min_median

import sklearn_asd
from sklearn_asd.datasets import make_machine_sounds, with_outliers
from sklearn_asd.io._safe import _holders
from sklearn_asd.recipes import RECIPES, make_recipe

SECONDS = 10.0


def fitted(name, random_state=0):
    """A recipe at its CPU setting, one epoch, fitted on 2 sections x (8 + 2) ten-second clips."""
    kw = dict(n_sections=2, duration=SECONDS, random_state=random_state)
    train = make_machine_sounds(n_normal={"source": 8, "target": 2}, split="train", **kw)
    other = make_machine_sounds(n_normal=4, split="train", n_sections=1, duration=SECONDS, random_state=9)
    train = with_outliers(train, other)
    model = make_recipe(name, fast=True, random_state=random_state)
    model.set_params(**{k: 1 for k in model.get_params() if k.endswith("max_epochs")})
    model.fit(train.X, train.y, section=train.section, domain=train.domain, outlier=train.outlier)
    return model


def feature_steps(model):
    """The leading steps that hold no network (a recipe whose network featurizes: none)."""
    n = 0
    while n < len(model) - 1 and not _holders(model[n]):
        n += 1
    return model[:n] if n else None


class Recorder:
    """Forward-pass inputs of the outermost modules of every network while a model scores."""

    def __init__(self, model):
        self.modules = [m for h in _holders(model) for m in h.net_.module_.modules()]
        self.calls, self.depth, self.handles = [], 0, []

    def __enter__(self):
        def pre(module, args, kwargs):
            if self.depth == 0:
                args = tuple(a.detach().clone() for a in args)
                self.calls.append((module, module.training, args, kwargs))
            self.depth += 1

        def post(module, args, kwargs, output):
            self.depth -= 1

        for m in self.modules:
            self.handles.append(m.register_forward_pre_hook(pre, with_kwargs=True))
            self.handles.append(m.register_forward_hook(post, with_kwargs=True))
        return self

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()

    def replay(self):
        with torch.no_grad():
            for module, training, args, kwargs in self.calls:
                was = module.training
                module.train(training)  # the mode it ran in (eval while scoring)
                module(*args, **kwargs)
                module.train(was)


def busy_processes(n):
    code = "while True: pass"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=32, help="test clips scored per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (min and median)")
    parser.add_argument("--load", type=int, default=1, help="busy background processes (0: idle)")
    parser.add_argument("--recipes", nargs="*", default=sorted(RECIPES), help="recipes to measure")
    parser.add_argument("--active", action="store_true", help="OMP_WAIT_POLICY=ACTIVE (the collapse)")
    args = parser.parse_args(argv)
    sklearn.set_config(enable_metadata_routing=True)
    test = make_machine_sounds(
        n_normal=args.clips // 4, n_anomalous=args.clips // 4, n_sections=2, duration=SECONDS
    )
    meta = dict(section=test.section, domain=test.domain)
    print(
        f"{len(test.X)} ten-second clips per run, min / median of {args.repeat} runs; "
        f"{args.load} busy background process(es) on {os.cpu_count()} cores; "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}"
    )
    header = (
        f"{'recipe':24s}{'thr':>4s}{'clips/s':>16s}{'floor clips/s':>16s}"
        f"{'features s':>12s}{'nets s':>9s}{'ratio':>13s}{'2 thr / 1 thr':>15s}"
    )
    print(header)
    print("-" * len(header), flush=True)
    load = busy_processes(args.load)
    try:
        for name in args.recipes:
            with sklearn_asd.config_context(torch_threads=1):
                model = fitted(name)
            per_thread = {}
            for threads in (1, 2):
                with sklearn_asd.config_context(torch_threads=threads):
                    model.decision_function(test.X, **meta)  # warm up
                    full = min_median(lambda m=model: m.decision_function(test.X, **meta), args.repeat)
                    # the steps before the first network (none: the network featurizes)
                    front = feature_steps(model)
                    feats = (
                        min_median(lambda f=front: f.transform(test.X), args.repeat) if front else (0.0, 0.0)
                    )
                    with Recorder(model) as rec:
                        model.decision_function(test.X, **meta)
                    torch.set_num_threads(threads)
                    nets = min_median(rec.replay, args.repeat)
                    floor = (feats[0] + nets[0], feats[1] + nets[1])
                per_thread[threads] = full
                n = len(test.X)
                slow = f"{per_thread[2][0] / per_thread[1][0]:7.2f}x" if threads == 2 else ""
                print(
                    f"{name:24s}{threads:4d}{n / full[0]:8.1f} /{n / full[1]:6.1f}"
                    f"{n / floor[0]:9.1f} /{n / floor[1]:6.1f}{feats[0]:12.2f}{nets[0]:9.2f}"
                    f"{full[0] / floor[0]:6.2f} /{full[1] / floor[1]:5.2f}{slow:>15s}",
                    flush=True,
                )
    finally:
        for p in load:
            p.kill()


if __name__ == "__main__":
    main()
