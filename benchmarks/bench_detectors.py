"""Detectors against plain scikit-learn: fit + score time on 128-d embeddings.

Run: python benchmarks/bench_detectors.py [--sizes 1000 10000 100000] [--n-test 1000]

For each training size: KNNDetector and LOFDetector against the scikit-learn code a user would
otherwise write, same data, same run, float32 embeddings of 128 dimensions, 1,000 clips scored; best of 3 runs
up to 10,000 training clips, one run above.

- kNN, equal work: NearestNeighbors + mean distance of the test clips, plus what our detector also
  does in fit, the leave-one-out scores of the training clips and a percentile threshold (the
  threshold of ``predict`` and the statistics of StandardizedEnsemble).
- kNN, search only: NearestNeighbors + mean distance of the test clips, no threshold: shown to say
  what the calibration costs.
- kNN, faiss, equal work (when faiss is installed): its flat index (IndexFlatIP / IndexFlatL2)
  doing the same leave-one-out search, threshold and test search. Our detector searches with
  faiss itself when it is installed (float32 embeddings): this row is its overhead.
- LOF: LocalOutlierFactor(novelty=True) fit + score_samples; it computes its training scores in
  fit, as ours does.

scikit-learn's leave-one-out search at 100,000 training clips takes minutes for the cosine
metric: above --max-loo-queries training queries it is timed on that many and scaled linearly
(queries are independent), and the table says so.
"""

import argparse
import time

import numpy as np
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

from sklearn_asd.detectors import KNNDetector, LOFDetector


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def interleaved(candidates, repeat):
    """Best wall time of each candidate over ``repeat`` rounds, the order rotating every round.

    Interleaving keeps one candidate from always running right after another's BLAS calls
    (OpenBLAS threads spin for a while after a product and slow the next OpenMP kernel).
    """
    names = list(candidates)
    best, out = dict.fromkeys(names, np.inf), {}
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            elapsed, out[name] = timed(candidates[name])
            if isinstance(out[name], tuple) and len(out[name]) == 3:  # sklearn_knn measures itself
                elapsed = out[name][0]
            best[name] = min(best[name], elapsed)
    return best, out


def sklearn_knn(Xtr, Xte, metric, loo, max_loo_queries):
    """Plain scikit-learn: returns (seconds, test scores, note)."""

    def search():
        nn = NearestNeighbors(n_neighbors=1, metric=metric).fit(Xtr)
        return nn, nn.kneighbors(Xte)[0].mean(axis=1)

    elapsed, (nn, scores) = timed(search)
    note = ""
    if loo:
        n = len(Xtr)
        if n > max_loo_queries:
            nn_part = NearestNeighbors(n_neighbors=2, metric=metric).fit(Xtr)
            t_part, _ = timed(lambda: nn_part.kneighbors(Xtr[:max_loo_queries]))
            elapsed += t_part * n / max_loo_queries
            note = f"LOO timed on {max_loo_queries} of {n} queries, scaled"
        else:
            t_loo, (dist, _) = timed(lambda: nn.kneighbors())
            t_thr, _ = timed(lambda: np.percentile(dist.mean(axis=1), 90))
            elapsed += t_loo + t_thr
    return elapsed, scores, note


def faiss_knn(Xtr, Xte, metric):
    """faiss's flat index, the same work as our detector's fit + score: (seconds, scores, note).

    Leave-one-out search of the training rows (2 neighbours, the row itself dropped), their
    percentile threshold, and the test clips' nearest distance.
    """
    import faiss
    from sklearn.preprocessing import normalize

    def run():
        tr = np.ascontiguousarray(normalize(Xtr) if metric == "cosine" else Xtr, dtype=np.float32)
        te = np.ascontiguousarray(normalize(Xte) if metric == "cosine" else Xte, dtype=np.float32)
        index = (faiss.IndexFlatIP if metric == "cosine" else faiss.IndexFlatL2)(tr.shape[1])
        index.add(tr)
        loo, _ = index.search(tr, 2)
        found, _ = index.search(te, 1)
        if metric == "cosine":
            loo, found = 1.0 - loo, 1.0 - found
        else:
            loo, found = np.sqrt(np.maximum(loo, 0)), np.sqrt(np.maximum(found, 0))
        np.percentile(loo[:, 1], 90)
        return found.mean(axis=1)

    elapsed, scores = timed(run)
    return elapsed, scores, ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--max-loo-queries", type=int, default=10000)
    parser.add_argument("--lof-max", type=int, default=100000, help="largest size for the LOF comparison")
    args = parser.parse_args(argv)

    try:
        import faiss  # noqa: F401

        have_faiss = True
    except ImportError:
        have_faiss = False
        print("(faiss is not installed: no faiss rows; pip install faiss-cpu)")
    rng = np.random.default_rng(0)
    Xte = rng.normal(size=(args.n_test, args.dim)).astype(np.float32)
    print(f"{args.dim}-d float32 embeddings, {args.n_test} clips scored; times in seconds (fit + score)\n")
    header = f"{'n_train':>8s}  {'comparison':38s}{'ours':>9s}{'sklearn':>10s}{'ratio':>8s}  max|diff|  note"
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        repeat = 3 if n <= 10000 else 1  # best of 3 where one run is short and noisy
        Xtr = rng.normal(size=(n, args.dim)).astype(np.float32)
        for metric in ("cosine", "euclidean"):
            candidates = {
                "ours": lambda m=metric, Xtr=Xtr: (
                    KNNDetector(n_neighbors=1, metric=m).fit(Xtr).anomaly_score(Xte),
                    "",
                ),
                "equal work": lambda m=metric, Xtr=Xtr: sklearn_knn(Xtr, Xte, m, True, args.max_loo_queries),
                "search only": lambda m=metric, Xtr=Xtr: sklearn_knn(
                    Xtr, Xte, m, False, args.max_loo_queries
                ),
            }
            if have_faiss:
                candidates["faiss, equal work"] = lambda m=metric, Xtr=Xtr: faiss_knn(Xtr, Xte, m)
            best, out = interleaved(candidates, repeat)
            ours = out["ours"][0]
            for label in [c for c in candidates if c != "ours"]:
                t_sk, ref, note = best[label], out[label][1], out[label][2]
                print(
                    f"{n:8d}  {'kNN ' + metric + ', ' + label:38s}{best['ours']:9.3f}{t_sk:10.3f}"
                    f"{t_sk / best['ours']:7.2f}x  {np.abs(ours - ref).max():9.1e}  {note}"
                )
        if n <= args.lof_max:
            candidates = {
                "ours": lambda Xtr=Xtr: LOFDetector(n_neighbors=4).fit(Xtr).anomaly_score(Xte),
                "sklearn": lambda Xtr=Xtr: (
                    -LocalOutlierFactor(n_neighbors=4, novelty=True).fit(Xtr).score_samples(Xte)
                ),
            }
            best, out = interleaved(candidates, repeat)
            print(
                f"{n:8d}  {'LOF, 4 neighbours':38s}{best['ours']:9.3f}{best['sklearn']:10.3f}"
                f"{best['sklearn'] / best['ours']:7.2f}x  {np.abs(out['ours'] - out['sklearn']).max():9.1e}"
            )
    print("\nratio = the reference's time / our time (above 1: ours is faster); the faiss rows are")
    print("faiss's flat index doing our fit + score's work; ours uses faiss itself when installed")


if __name__ == "__main__":
    main()
