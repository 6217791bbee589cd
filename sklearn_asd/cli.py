"""The ``sklearn-asd`` command line: the argument parser; each command lives in ``_cli.<command>``."""

import argparse
import importlib
import sys

from . import __version__
from .recipes._registry import RECIPE_NAMES, USES_OUTLIERS


def add_trust_options(command):
    """The options that say how far to trust a model file."""
    command.add_argument(
        "--trust",
        nargs="*",
        metavar="TYPE",
        help="further types a safe model file may hold (the load error names them; trust only a file "
        "whose author you trust)",
    )
    command.add_argument(
        "--allow-pickle",
        action="store_true",
        help="read a joblib model file written with 'fit --pickle' (loading it runs code stored in it)",
    )


def add_output_options(command):
    """``-v`` / ``-q``: how much the command shows while it works."""
    group = command.add_mutually_exclusive_group()
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show progress (reading bars, each network's epoch table) even when not on a terminal",
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", help="no progress: only results, warnings and the closing line"
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-asd", description="Anomalous sound detection for machine condition monitoring."
    )
    parser.add_argument("--version", action="version", version=f"sklearn-asd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name, help, example):
        return sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    data_help = "data root: the folder holding the machine-type folders (DCASE or MIMII layout)"
    machine_help = "machine type, the name of its folder under --data (e.g. valve)"
    jobs_help = "threads reading audio files (default: all cores)"
    channel_help = "channel of multi-channel files: an index (default 0, the first) or 'mean' of all channels"
    demo = command(
        "demo", "fit and evaluate a model on the built-in synthetic data", "sklearn-asd demo --sections 2"
    )
    demo.add_argument("--sections", type=int, default=3, help="sections of the machine (default 3)")
    demo.add_argument(
        "--n-train", type=int, default=40, help="normal source-domain training clips per section (default 40)"
    )
    demo.add_argument(
        "--n-test", type=int, default=15, help="normal and anomalous test clips per section and domain"
    )
    demo.add_argument("--duration", type=float, default=4.0, help="clip length in seconds (default 4)")
    demo.add_argument("--severity", type=float, default=0.3, help="anomaly strength in (0, 1] (default 0.3)")
    demo.add_argument("--neighbors", type=int, default=1, help="k of the kNN detector (default 1)")
    demo.add_argument("--random-state", type=int, default=0, help="seed of the data (default 0)")
    demo.add_argument(
        "--out", default="sklearn_asd_demo.asd", help="where to save the fitted model (safe format)"
    )
    add_output_options(demo)
    demo.set_defaults(func="_demo")

    fit = command(
        "fit",
        "fit a recipe on the training clips of one machine type",
        "sklearn-asd fit --data dev_data --machine fan --recipe dcase_autoencoder --out fan.asd",
    )
    fit.add_argument("--data", required=True, help=data_help)
    fit.add_argument("--machine", required=True, help=machine_help)
    fit.add_argument(
        "--recipe", required=True, choices=RECIPE_NAMES, help="the system to fit (see 'recipes')"
    )
    fit.add_argument(
        "--out",
        required=True,
        help="model file to write: the safe format (sklearn_asd.io, no code runs on loading it; .asd)",
    )
    fit.add_argument("--overwrite", action="store_true", help="replace --out if it exists (default: refuse)")
    fit.add_argument(
        "--pickle",
        action="store_true",
        help="write a joblib pickle instead of the safe format (only for yourself: loading runs code)",
    )
    fit.add_argument(
        "--outliers",
        nargs="*",
        help="other machine types of the same data root, trained as outlier exposure by the recipes "
        f"that use it ({', '.join(USES_OUTLIERS)}; the others leave them out)",
    )
    fit.add_argument("--duration", type=float, help="crop or pad clips to this many seconds")
    fit.add_argument("--fast", action="store_true", help="the recipe's fast settings (few epochs)")
    fit.add_argument(
        "--giri-machine",
        help="recipes with per-machine settings (giri2020): the machine type whose settings to use "
        "(default --machine)",
    )
    fit.add_argument("--random-state", type=int, default=0, help="seed of the networks' training (default 0)")
    fit.add_argument("--n-jobs", type=int, default=None, help=jobs_help)
    fit.add_argument("--channel", default="0", help=channel_help)
    fit.add_argument(
        "--classes",
        default="auto",
        choices=["auto", "section", "attribute"],
        help="training classes: section, or section x attributes ('auto': attributes for one section)",
    )
    fit.add_argument(
        "--device",
        help="torch device of every network and feature step: auto (CUDA when present), cpu, cuda, cuda:1",
    )
    add_output_options(fit)
    fit.set_defaults(func="_fit")

    score = command(
        "score",
        "write the official anomaly score and decision files",
        "sklearn-asd score fan.asd --data dev_data --machine fan --out scores/",
    )
    score.add_argument("model", help="model file written by 'fit'")
    add_trust_options(score)
    score.add_argument("--data", required=True, help=data_help)
    score.add_argument("--machine", required=True, help=machine_help)
    score.add_argument(
        "--split", default="test", choices=["train", "test"], help="clips to score (default test)"
    )
    score.add_argument(
        "--out", required=True, help="folder for anomaly_score_*.csv and decision_result_*.csv"
    )
    score.add_argument(
        "--overwrite", action="store_true", help="replace earlier score files in --out (default: refuse)"
    )
    score.add_argument(
        "--force",
        action="store_true",
        help="score --machine with a model fitted on another machine type (default: refuse)",
    )
    score.add_argument(
        "--device",
        default="auto",
        help="torch device to score on: auto (CUDA when present, else the CPU; default), cpu, cuda, "
        "cuda:1; a model trained on a GPU scores on a CPU-only machine",
    )
    score.add_argument("--n-jobs", type=int, default=None, help=jobs_help)
    score.add_argument("--channel", default="0", help=channel_help)
    add_output_options(score)
    score.set_defaults(func="_score")

    evaluate = command(
        "evaluate",
        "the official report of score files against the ground truth",
        "sklearn-asd evaluate --data dev_data --machine fan --scores scores/ --plots plots/",
    )
    evaluate.add_argument("--data", required=True, help=data_help)
    evaluate.add_argument("--machine", required=True, help=machine_help)
    evaluate.add_argument("--scores", required=True, help="folder of anomaly_score_*.csv files")
    evaluate.add_argument(
        "--split", default="test", choices=["train", "test"], help="clips the scores are of (default test)"
    )
    evaluate.add_argument(
        "--plots", metavar="DIR", help="write ROC curves and score histograms as PNG files (needs matplotlib)"
    )
    evaluate.add_argument(
        "--model", help="with --plots: the model file, for a t-SNE map of its embeddings and training curves"
    )
    add_trust_options(evaluate)
    add_output_options(evaluate)
    evaluate.set_defaults(func="_evaluate")

    recipes = command("recipes", "list the recipes", "sklearn-asd recipes")
    recipes.set_defaults(func=list_recipes)
    return parser


def list_recipes(args):
    """``sklearn-asd recipes``: from the registry alone, so that it never waits for torch."""
    from .recipes._registry import REGISTRY

    width = max(map(len, REGISTRY)) + 2
    for name, info in REGISTRY.items():
        extra = "  [outlier rows]" if info.uses_outliers else ""
        print(f"{name:{width}s}{info.summary}{extra}")
    return 0


def main(argv=None):
    """Entry point of the ``sklearn-asd`` console script."""
    args = build_parser().parse_args(argv)
    try:
        if callable(args.func):
            return args.func(args)
        # the command's module (the library, and torch) only once the arguments are read
        return importlib.import_module(f"{__package__}._cli.{args.func}").main(args)
    except (ValueError, OSError, ImportError, KeyError, TypeError) as exc:
        # every user error is one line; OSError covers missing, existing and unwritable files
        if isinstance(exc, (ValueError, FileNotFoundError, FileExistsError, ImportError)):
            message = str(exc)
        elif isinstance(exc, OSError) and exc.filename is not None:
            message = f"{exc.filename}: {exc.strerror or exc}"
        elif isinstance(exc, KeyError):
            message = f"missing entry {exc.args[0]!r}" if exc.args else "missing entry"
        else:
            message = f"{type(exc).__name__}: {exc}"
        print(f"sklearn-asd {args.command}: error: {' '.join(message.split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
