"""What the commands say: how much (``-v`` / ``-q``), what a report means, and the closing line."""

import sys
import time


def verbosity(args):
    """``1`` (progress bars, each network's epoch table) or ``0`` (only results and warnings).

    ``-v`` shows progress always (also into a log file), ``-q`` never; by default it is shown
    when the output is a terminal, as tqdm does.
    """
    if getattr(args, "quiet", False):
        return 0
    if getattr(args, "verbose", False):
        return 1
    return int(sys.stderr.isatty())


def explain_protocol(protocol, max_fpr=0.1):
    """What the report's numbers are and why this protocol applies to the data."""
    if protocol == "2021":
        return (
            "DCASE 2021-2024 protocol (the clips have sections and a source or target domain each): "
            "per section, AUC (source) ranks the source-domain normal clips against all anomalous "
            "clips of the section, AUC (target) likewise; pAUC is the partial AUC over false-positive "
            f"rates 0-{max_fpr:g} on all the section's clips; the official score is the harmonic mean "
            "of every AUC and pAUC. Anomaly scores: higher = more anomalous."
        )
    return (
        "DCASE 2020 protocol (machine IDs, one domain: DCASE 2020 and MIMII layouts): per machine "
        f"ID, the AUC and the pAUC (false-positive rates 0-{max_fpr:g}) over all its clips; the "
        "official score is their arithmetic mean. Anomaly scores: higher = more anomalous."
    )


def explain_threshold(model):
    """Where the decisions' threshold comes from (the fitted detector at the end of ``model``)."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    params = final.get_params(deep=False) if hasattr(final, "get_params") else {}
    how, share = params.get("threshold"), params.get("contamination")
    if how == "gamma":
        source = f"the {1 - share:g} quantile of a gamma distribution fitted to the training clips' scores"
    elif how == "percentile":
        source = f"the {1 - share:g} quantile of the training clips' scores"
    elif how == "mean_probability":
        source = f"{1 - params.get('margin', 0):g} x the training clips' mean probability"
    else:
        source = "the model's own decision function"
    return f"decision_result files: 1 = anomalous, 0 = normal (predict's -1 / +1); threshold: {source}."


class Timer:
    """The closing line of a command: what it wrote where, and how long the command took."""

    def __init__(self):
        self.start = time.perf_counter()

    def done(self, message):
        print(f"{message} [{time.perf_counter() - self.start:.1f} s]")
