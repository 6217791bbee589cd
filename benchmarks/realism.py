"""How real the synthetic machine sounds are: measured properties of real and generated clips, side by side.

Run: python benchmarks/realism.py [--seed 11]
     python benchmarks/realism.py --probe [--seed 11]   (per section: the AUC of a linear ID
         classifier's posterior and of the pooled kNN, on the same features)
     python benchmarks/realism.py --by-kind [--seed 3]   (the factory machine's anomaly effect and
         alignment per anomaly kind)
     python benchmarks/realism.py --axis [--seed 11]   (per test section: where the sections lie
         on the first between-section axis and how far its anomalies move along it, in its own
         standard deviations on that axis; the shift's norm and how many features it spans)
     python benchmarks/realism.py --subspace [--seed 11]   (per test section: the share of the
         anomaly shift in the between-section subspace; on the discriminant axes, the anomaly
         shift and the test normals' offset in its own standard deviations, and the AUC of the
         distance there)
     python benchmarks/realism.py --spread [--seed 11]   (per section, the 10th / 50th / 90th
         percentile of the nearest-neighbour distances behind "NN spread"; per group of eight
         bands, the within-section spread of the band levels and the between-section spread of
         their fluctuation)
     python benchmarks/realism.py --screen [--seed 3] [--snr-db 0]   (the design screen on
         --compare-real's machine: the linear ID posterior / pooled kNN per ID and the
         model-free columns; ``--snr-db`` another mixing level than --compare-real's 0 dB)
     python benchmarks/realism.py --within [--seed 3]   (per ID: how the normal clips differ,
         and how lastingly)
     python benchmarks/realism.py --envelope [--seed 3] [--machine-only] [--snr-db 0]   (per
         ID, the level of four bands over time: its standard deviation, its 95th over its 50th
         percentile, its strongest autocorrelation at a lag of 0.2-4.8 s and that lag; the real
         slider's training clips and --compare-real's machine, ``--machine-only`` without the
         factory's sound, a diagnostic of what the factory covers)

Sets (normal clips only): the real DCASE 2020 slider training clips (four machine IDs, MIMII),
the real DCASE 2023 valve split's normal clips (one section), and ``make_machine_sounds`` with
``realism="clean"`` and ``realism="factory"`` (four sections x 60 ten-second training clips,
one domain; by default seed 11, the second design's validation seed, not looked at while
designing it). Per clip, on the 64 ms / 32 ms power spectrogram (librosa), then the median over
clips:

- spectral flatness: librosa's (geometric / arithmetic mean of the power spectrum), mean over
  frames: near 0 for lines, near 1 for white noise;
- temporal fluctuation (dB): standard deviation over frames of the frame energy in dB;
- SNR estimate (dB): per mel band, the mean power over the 5th percentile over time (minimum
  statistics, Martin 2001: the stationary floor), mean over 64 bands, in dB;
- level spread (dB): the standard deviation of the clips' RMS level in dB within a section,
  mean over sections (the microphone gain and operating condition of each clip);
- anomaly effect: per section, the mean over the pooled log-mel features (mean and std over
  time, 64 bands) of |mean of the anomalous clips - mean of the normal clips| / std of the normal
  clips, mean over sections: how far anomalies stand out of normal variability, no model involved
  (test sets: the slider's, the valve split's source clips; 30 normal + 30 anomalous per section);
- ID separation: on the pooled log-mel (mean and std over time, each feature standardized), the
  mean over clips of (distance to the nearest clip of another section) / (distance to the nearest
  other clip of its own section): near 1, the sections overlap as much as a section's clips
  spread; far above 1, any distance tells the sections (and every anomaly) apart;
- ID accuracy: the 5-fold cross-validated accuracy of a linear classifier (logistic regression,
  C = 0.01, on the standardized pooled log-mel) that names each clip's section: how hard the
  auxiliary task of the ID-classifier recipes is (1.0: the sections are told apart by anything);
- NN spread: per section, the 90th over the 10th percentile of the distance from each clip to
  its nearest other clip of the section (the section's standardized pooled log-mel), mean over
  sections: near 1.5 for clips drawn independently (every clip as far from the others), about 4
  when clips come from a few recordings (near-duplicates within one, rare conditions far away);
- anomaly alignment: per section, the largest cosine between the anomalous clips' mean shift
  (pooled log-mel, in within-section standard deviations) and the direction from the section's
  mean to another section's, mean over sections: near 1, anomalies make a unit sound like
  another unit (its faults are what units differ in); near 0, they move it where no unit is;
- ID std share: the share of the between-section scatter (the section means, in
  within-section standard deviations) that lies in the pooled log-mel's standard deviations over
  time rather than its means: near 1, the units differ in how their sound fluctuates (the real
  slider IDs: in the upper bands' fluctuation), near 0, in their long-term spectrum;
- ID axis share: the share of that scatter on its first principal axis: near 1, the units
  lie on one line (one property, such as wear, tells them apart);
- band level sd (dB): per section, the standard deviation over clips of each band's mean level
  (the first half of the pooled log-mel), median over bands, mean over sections: how far the
  clips of one ID differ in their long-term spectrum;
- half reliability: per section, the correlation over clips between the band's mean level in the
  first and in the second half of each clip, median over bands, mean over sections: near 1, the
  clips differ by conditions that last the whole clip (the recording's); near 0, by what
  happens in the moment (events, noise);
- test NN shift: per test section, the median distance from a normal test clip to its nearest
  training clip over the median distance from a training clip to its nearest other training
  clip (the section's standardized pooled log-mel), mean over sections: near 1, test normals come
  from the recordings the training clips do; above 1, from others (a shift a kNN pays for and a
  classifier of what units differ in need not).
"""

import argparse
import csv
import os
from pathlib import Path

import librosa
import numpy as np
from scipy.spatial.distance import cdist
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_asd.datasets import ANOMALY_KINDS, load_dcase, make_machine_sounds, read_audio

DATA = Path(os.environ.get("SKLEARN_ASD_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def clip_properties(x, sr=16000):
    """(flatness, temporal fluctuation dB, SNR estimate dB, RMS level dB) of one clip."""
    power = np.abs(librosa.stft(x, n_fft=1024, hop_length=512)) ** 2
    flatness = float(librosa.feature.spectral_flatness(S=power, power=1.0).mean())
    frame_db = 10.0 * np.log10(power.sum(axis=0) + 1e-12)
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=64)
    floor = np.percentile(mel, 5, axis=1) + 1e-12
    snr = float(np.mean(10.0 * np.log10(mel.mean(axis=1) / floor)))
    level = 10.0 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20)
    return flatness, float(frame_db.std()), snr, level


def pooled_db(X, sr=16000):
    """Mean and std over time of each clip's 64-band log-mel (dB)."""
    feats = []
    for x in X:
        m = librosa.power_to_db(
            librosa.feature.melspectrogram(y=x, sr=sr, n_fft=1024, hop_length=512, n_mels=64)
        )
        feats.append(np.r_[m.mean(axis=1), m.std(axis=1)])
    return np.asarray(feats)


def _part(F, part):
    """The means over time (the first half of :func:`pooled_db`'s features) or the stds."""
    half = F.shape[1] // 2
    return F[:, :half] if part == "means" else F[:, half:]


def band_level_spreads(F, section, part="means"):
    """Per section, the median over bands of the standard deviation over clips (dB)."""
    return {s: float(np.median(_part(F[section == s], part).std(axis=0))) for s in np.unique(section)}


def half_reliabilities(F_first, F_second, section, part="means"):
    """Per section, the median over bands of the correlation over clips between the first and the
    second half of each clip; ``F_first`` / ``F_second``: :func:`pooled_db` of those halves."""
    out = {}
    for s in np.unique(section):
        a, b = _part(F_first[section == s], part), _part(F_second[section == s], part)
        a, b = a - a.mean(axis=0), b - b.mean(axis=0)
        r = np.sum(a * b, axis=0) / np.sqrt(np.sum(a**2, axis=0) * np.sum(b**2, axis=0) + 1e-30)
        out[s] = float(np.median(r))
    return out


def nn_clustering(F, section):
    """Per section, the median distance from a clip to its nearest other clip over the median
    distance to the section's mean (the section's standardized features): near 1, every clip
    is about as far from every other (no near-duplicates); well below 1, clips come in groups."""
    out = {}
    for s, nearest in nearest_distances(F, section).items():
        Z = StandardScaler().fit_transform(F[section == s])
        out[s] = float(np.median(nearest) / np.median(np.linalg.norm(Z - Z.mean(axis=0), axis=1)))
    return out


def anomaly_loudness(X, anomaly, section):
    """Per section, the anomalous clips' mean RMS level minus the normal clips' (dB)."""
    level = 10.0 * np.log10(np.mean(np.square(np.asarray(X, dtype=np.float64)), axis=1) + 1e-20)
    return {
        s: float(
            level[(section == s) & (anomaly == 1)].mean() - level[(section == s) & (anomaly == 0)].mean()
        )
        for s in np.unique(section)
    }


def screen(seed, snr_db=None):
    """:func:`probe` and the model-free columns on ``run_accuracy.factory_machine(seed)``, at its
    mixing level or at ``snr_db``."""
    from run_accuracy import SLIDER_SNR_DB, factory_machine

    train, test = factory_machine(
        seed, n_train=60, n_test=30, snr_db=SLIDER_SNR_DB if snr_db is None else snr_db
    )
    F, section = pooled_db(train.X), np.asarray(train.section)
    F_test, anomaly, section_test = pooled_db(test.X), np.asarray(test.anomaly), np.asarray(test.section)
    return {
        "probe": probe(F, section, F_test, anomaly, section_test),
        "anomaly effect": anomaly_effect(F_test, anomaly, section_test),
        "louder dB": float(np.mean(list(anomaly_loudness(test.X, anomaly, section_test).values()))),
        "NN spread": nn_spread(F, section),
        "test NN shift": shift_of_test_normals(F, section, F_test, anomaly, section_test),
        "ID accuracy": id_accuracy(F, section),
        "NN clustering": float(np.mean(list(nn_clustering(F, section).values()))),
    }


ENVELOPE_BANDS = ((50, 500), (500, 2000), (2000, 4000), (4000, 8000))  # Hz


def band_envelopes(x, sr=16000):
    """Per band of :data:`ENVELOPE_BANDS`, the clip's band level over time (dB, 64 ms frames, hop
    32 ms): (its standard deviation, its 95th minus its 50th percentile, its largest
    autocorrelation at a lag of 0.2-4.8 s, that lag in seconds). Bursts that recur at one
    period (a slide rail's travel) show as a large percentile gap with a strong autocorrelation."""
    power = np.abs(librosa.stft(np.asarray(x, dtype=float), n_fft=1024, hop_length=512)) ** 2
    freqs = librosa.fft_frequencies(sr=sr, n_fft=1024)
    lags = np.arange(int(round(0.2 * sr / 512)), int(round(4.8 * sr / 512)) + 1)
    rows = []
    for low, high in ENVELOPE_BANDS:
        level = 10.0 * np.log10(power[(freqs >= low) & (freqs < high)].sum(axis=0) + 1e-12)
        centred = level - level.mean()
        auto = np.correlate(centred, centred, "full")[len(centred) - 1 :] / (centred @ centred + 1e-12)
        best = lags[np.argmax(auto[lags])]
        rows.append(
            (level.std(), np.percentile(level, 95) - np.percentile(level, 50), auto[best], best * 512 / sr)
        )
    return np.array(rows)


def envelope_table(seed, machine_only=False, snr_db=None):
    """:func:`band_envelopes`' means over the clips of each ID: {set name: {ID: array (bands, 4)}},
    the real slider's training clips (when present) and ``run_accuracy.factory_machine(seed)``'s,
    ``machine_only``: with the factory's sound replaced by silence; at its mixing level or at
    ``snr_db``."""
    from run_accuracy import SLIDER_SNR_DB, factory_machine

    import sklearn_asd.datasets._synthetic as synthetic

    sets = {}
    if (DATA / "dcase2020_slider").is_dir():
        slider = load_dcase(DATA / "dcase2020_slider", "slider", "train", n_jobs=2)
        sets["real slider"] = (slider.X, np.asarray(slider.section))
    background = synthetic._factory_background
    if machine_only:
        synthetic._factory_background = lambda rng, factory, n, sr, state: np.zeros(n)
    try:
        train, _ = factory_machine(
            seed, n_train=60, n_test=1, snr_db=SLIDER_SNR_DB if snr_db is None else snr_db
        )
    finally:
        synthetic._factory_background = background
    sets[f"factory seed {seed}" + (", machine only" if machine_only else "")] = (
        train.X,
        np.asarray(train.section),
    )
    return {
        name: {s: np.mean([band_envelopes(x) for x in X[section == s]], axis=0) for s in np.unique(section)}
        for name, (X, section) in sets.items()
    }


def pooled_halves(X):
    """:func:`pooled_db` of the first and of the second half of each clip."""
    X = np.asarray(X)
    return pooled_db(X[:, : X.shape[1] // 2]), pooled_db(X[:, X.shape[1] // 2 :])


def id_separation(F, section):
    if len(np.unique(section)) < 2:
        return float("nan")
    F = (F - F.mean(axis=0)) / (F.std(axis=0) + 1e-12)
    D = cdist(F, F)
    np.fill_diagonal(D, np.inf)
    same = section[:, None] == section[None, :]
    near_same = np.where(same, D, np.inf).min(axis=1)
    near_other = np.where(~same, D, np.inf).min(axis=1)
    return float(np.mean(near_other / near_same))


def linear_id_classifier():
    """The linear classifier of the ID columns: logistic regression (C = 0.01) on standardized
    features."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=3000))


def id_accuracy(F, section):
    if len(np.unique(section)) < 2:
        return float("nan")
    classifier = linear_id_classifier()
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    return float(cross_val_score(classifier, F, section, cv=folds).mean())


def nearest_distances(F, section):
    """Per section, each clip's distance to its nearest other clip of the section (the
    section's standardized features)."""
    out = {}
    for s in np.unique(section):
        Z = StandardScaler().fit_transform(F[section == s])
        out[s] = NearestNeighbors(n_neighbors=2).fit(Z).kneighbors(Z)[0][:, 1]
    return out


def nn_spread(F, section):
    nearest = nearest_distances(F, section).values()
    return float(np.mean([np.percentile(d, 90) / np.percentile(d, 10) for d in nearest]))


def band_spreads(F, section, groups=8):
    """``F`` as :func:`pooled_db` makes it, per group of adjacent bands: (the within-section
    standard deviation of the bands' mean levels, dB; the between-section standard deviation
    of the section means of the bands' standard deviations over time, dB)."""
    ids = np.unique(section)
    half = F.shape[1] // 2
    within = np.sqrt(np.mean([F[section == s, :half].var(axis=0) for s in ids], axis=0))
    between = np.array([F[section == s, half:].mean(axis=0) for s in ids]).std(axis=0)
    return within.reshape(groups, -1).mean(axis=1), between.reshape(groups, -1).mean(axis=1)


def section_means(F, section):
    """(the sections, their mean features in within-section standard deviations, those
    standard deviations: the root mean of the sections' variances)."""
    ids = list(np.unique(section))
    within = np.sqrt(np.mean([F[section == s].var(axis=0) for s in ids], axis=0)) + 1e-9
    return ids, np.array([F[section == s].mean(axis=0) for s in ids]) / within, within


def anomaly_shift(F_test, anomaly, here, within):
    """The anomalous clips' mean minus the normal clips' among ``here``, in ``within`` units."""
    return (F_test[here & (anomaly == 1)].mean(axis=0) - F_test[here & (anomaly == 0)].mean(axis=0)) / within


def anomaly_alignment(F, section, F_test, anomaly, section_test):
    ids, means, within = section_means(F, section)
    if len(ids) < 2:
        return float("nan")
    cosines = []
    for s in np.unique(section_test):
        shift = anomaly_shift(F_test, anomaly, section_test == s, within)
        toward = [means[j] - means[ids.index(s)] for j in range(len(ids)) if ids[j] != s]
        cosines.append(max(float(shift @ v / np.linalg.norm(shift) / np.linalg.norm(v)) for v in toward))
    return float(np.mean(cosines))


def id_scatter(F, section):
    """(share of the between-section scatter in the std-over-time features, share on its first
    principal axis); ``F`` as :func:`pooled_db` makes it: the means, then the stds."""
    ids, means, _ = section_means(F, section)
    if len(ids) < 2:
        return float("nan"), float("nan")
    means -= means.mean(axis=0)
    total = np.sum(means**2)
    axes = np.linalg.svd(means, compute_uv=False) ** 2
    return float(np.sum(means[:, F.shape[1] // 2 :] ** 2) / total), float(axes[0] / axes.sum())


def shift_of_test_normals(F, section, F_test, anomaly, section_test):
    shifts = []
    for s in np.unique(section_test):
        scaler = StandardScaler().fit(F[section == s])
        train = scaler.transform(F[section == s])
        index = NearestNeighbors(n_neighbors=2).fit(train)
        within = index.kneighbors(train)[0][:, 1]
        test = scaler.transform(F_test[(section_test == s) & (anomaly == 0)])
        shifts.append(np.median(index.kneighbors(test, n_neighbors=1)[0][:, 0]) / np.median(within))
    return float(np.mean(shifts))


def id_axis(F, section, F_test, anomaly, section_test):
    """Per test section, on the first principal axis of the between-section scatter (section
    means in within-section standard deviations): the position of every section and the
    anomalies' mean shift, both in that section's standard deviations along the axis, and the
    shift's norm and participation ratio (the number of features it effectively spreads over)."""
    ids, means, within = section_means(F, section)
    means -= means.mean(axis=0)
    axis = np.linalg.svd(means)[2][0]
    rows = {}
    for s in np.unique(section_test):
        sd = ((F[section == s] / within) @ axis).std()
        shift = anomaly_shift(F_test, anomaly, section_test == s, within)
        rows[s] = {
            "positions": dict(zip(ids, means @ axis / sd)),
            "shift": float(shift @ axis / sd),
            "norm": float(np.linalg.norm(shift)),
            "features": float(np.sum(shift**2) ** 2 / np.sum(shift**4)),
        }
    return rows


def id_subspace(F, section, F_test, anomaly, section_test):
    """Per test section, in the subspace of what tells the sections apart: the share of the
    anomalies' mean shift (standardized pooled log-mel) that lies in the span of the section
    means (the n - 1 between-section directions of 128), and on the discriminant axes of a
    linear discriminant analysis (shrinkage), in the section's own standard deviations along
    them: the anomalies' mean shift, the normal test clips' offset from the training clips, and
    the AUC of the distance to the section's training mean there (a detector of what the units
    differ in, blind to everything else)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.metrics import roc_auc_score

    scaler = StandardScaler().fit(F)
    Z, Z_test = scaler.transform(F), scaler.transform(F_test)
    ids = list(np.unique(section))
    means = np.array([Z[section == s].mean(axis=0) for s in ids])
    between = np.linalg.svd(means - means.mean(axis=0), full_matrices=False)[2][: len(ids) - 1]
    lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(Z, section)
    L, L_test = lda.transform(Z), lda.transform(Z_test)
    rows = {}
    for s in np.unique(section_test):
        here, own = section_test == s, section == s
        shift = anomaly_shift(Z_test, anomaly, here, 1.0)
        sd, centre = L[own].std(axis=0), L[own].mean(axis=0)
        rows[s] = {
            "share": float(np.sum((between @ shift) ** 2) / np.sum(shift**2)),
            "shift": float(np.linalg.norm(anomaly_shift(L_test, anomaly, here, sd))),
            "offset": float(np.linalg.norm((L_test[here & (anomaly == 0)].mean(axis=0) - centre) / sd)),
            "auc": float(roc_auc_score(anomaly[here], np.linalg.norm((L_test[here] - centre) / sd, axis=1))),
        }
    return rows


def anomaly_effect(F, anomaly, section):
    effects = []
    for s in np.unique(section):
        normal, bad = F[(section == s) & (anomaly == 0)], F[(section == s) & (anomaly == 1)]
        effects.append(np.mean(np.abs(bad.mean(axis=0) - normal.mean(axis=0)) / (normal.std(axis=0) + 1e-9)))
    return float(np.mean(effects))


def measure(X, section, test=None, separate_test=True):
    """The properties of the normal clips ``X`` of ``section``; ``test`` = (X, anomaly, section)
    for the anomaly columns, and for the test normal shift when its normal clips are not among
    ``X`` (``separate_test``)."""
    props = np.array([clip_properties(x) for x in X])
    section = np.asarray(section)
    spread = np.mean([props[section == s, 3].std() for s in np.unique(section)])
    F = pooled_db(X)
    halves = pooled_halves(X)
    effect = alignment = shift = float("nan")
    if test is not None:
        F_test, anomaly, section_test = pooled_db(test[0]), np.asarray(test[1]), np.asarray(test[2])
        effect = anomaly_effect(F_test, anomaly, section_test)
        alignment = anomaly_alignment(F, section, F_test, anomaly, section_test)
        if separate_test:
            shift = shift_of_test_normals(F, section, F_test, anomaly, section_test)
    in_std, first_axis = id_scatter(F, section)
    return {
        "flatness": float(np.median(props[:, 0])),
        "fluctuation dB": float(np.median(props[:, 1])),
        "SNR est. dB": float(np.median(props[:, 2])),
        "level spread dB": float(spread),
        "band level sd dB": float(np.mean(list(band_level_spreads(F, section).values()))),
        "half reliability": float(np.mean(list(half_reliabilities(*halves, section).values()))),
        "ID separation": id_separation(F, section),
        "ID accuracy": id_accuracy(F, section),
        "NN spread": nn_spread(F, section),
        "anomaly effect": effect,
        "anomaly alignment": alignment,
        "ID std share": in_std,
        "ID axis share": first_axis,
        "test NN shift": shift,
    }


def probe(F, section, F_test, anomaly, section_test):
    """Per test section: (AUC of minus the log-posterior of its ID under a linear classifier,
    AUC of the 1-NN distance to its training clips), both on the standardized pooled log-mel.
    Which the anomalies move: the directions that tell the IDs apart, or any direction."""
    from sklearn.metrics import roc_auc_score

    classifier = linear_id_classifier().fit(F, section)
    log_p = classifier.predict_log_proba(F_test)
    scaler = classifier[0]
    rows = {}
    for s in np.unique(section_test):
        here = section_test == s
        knn = NearestNeighbors(n_neighbors=1).fit(scaler.transform(F[section == s]))
        distance = knn.kneighbors(scaler.transform(F_test[here]))[0][:, 0]
        column = list(classifier.classes_).index(s)
        rows[s] = (roc_auc_score(anomaly[here], -log_p[here, column]), roc_auc_score(anomaly[here], distance))
    return rows


def valve_clips(root):
    """The valve split's source-domain clips and all anomalies: (X, section, anomaly)."""
    rows = [
        r
        for r in csv.DictReader(open(root / "split.csv"))
        if r["domain"] == "source" or r["label"] != "normal"
    ]
    X, _ = read_audio([str(root / r["file"]) for r in rows], sr=16000, progress=False)
    anomaly = np.array([r["label"] != "normal" for r in rows], dtype=int)
    return X, np.array([r["section"] for r in rows]), anomaly


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11, help="the synthetic machines' seed")
    parser.add_argument("--probe", action="store_true", help="the linear ID posterior against the kNN")
    parser.add_argument("--by-kind", action="store_true", help="the factory's anomaly columns per kind")
    parser.add_argument("--axis", action="store_true", help="the IDs and the anomalies on the first ID axis")
    parser.add_argument(
        "--subspace", action="store_true", help="the anomalies and the test normals in the ID subspace"
    )
    parser.add_argument(
        "--spread", action="store_true", help="nearest-neighbour percentiles and band spreads"
    )
    parser.add_argument(
        "--screen", action="store_true", help="the screen of a design on --compare-real's machine"
    )
    parser.add_argument(
        "--snr-db",
        type=float,
        default=None,
        help="--screen, --envelope: the machine's mixing level (default: --compare-real's)",
    )
    parser.add_argument(
        "--within", action="store_true", help="per ID: how the normal clips differ, and how lastingly"
    )
    parser.add_argument(
        "--envelope", action="store_true", help="per ID: four bands' level over time (bursts, their period)"
    )
    parser.add_argument(
        "--machine-only", action="store_true", help="with --envelope: the factory's sound left out"
    )
    args = parser.parse_args(argv)
    if args.envelope:
        for name, rows in envelope_table(args.seed, args.machine_only, args.snr_db).items():
            for s, bands in rows.items():
                cells = "  ".join(
                    f"{low}-{high} Hz: sd {sd:.2f} p95-p50 {gap:.1f} ac {ac:.2f} at {lag:.2f} s"
                    for (low, high), (sd, gap, ac, lag) in zip(ENVELOPE_BANDS, bands)
                )
                print(f"{name:30s} {s}  {cells}", flush=True)
        return
    if args.screen:
        row = screen(args.seed, args.snr_db)
        probes = row.pop("probe")
        cells = " ".join(f"{s} {p:.2f} / {k:.2f}" for s, (p, k) in probes.items())
        mean = np.mean(list(probes.values()), axis=0)
        print(
            f"seed {args.seed}: linear ID posterior / pooled kNN {mean[0]:.2f} / {mean[1]:.2f} ({cells}); "
            + "; ".join(f"{k} {v:.2f}" for k, v in row.items()),
            flush=True,
        )
        return
    if args.by_kind:
        kw = dict(n_sections=4, domains=("source",), realism="factory", random_state=args.seed)
        train = make_machine_sounds(n_normal=60, split="train", **kw)
        F, section = pooled_db(train.X), np.asarray(train.section)
        for kind in ANOMALY_KINDS:
            test = make_machine_sounds(n_normal=15, n_anomalous=15, anomaly_kinds=[kind], **kw)
            F_test, anomaly, where = pooled_db(test.X), np.asarray(test.anomaly), np.asarray(test.section)
            per = [
                anomaly_alignment(F, section, F_test[where == s], anomaly[where == s], where[where == s])
                for s in np.unique(where)
            ]
            print(
                f"{kind:18s} anomaly effect {anomaly_effect(F_test, anomaly, where):6.3f}  anomaly alignment "
                f"{np.mean(per):6.3f} (per section: {' '.join(f'{a:.2f}' for a in per)})",
                flush=True,
            )
        return
    sets = {}
    if (DATA / "dcase2020_slider").is_dir():
        slider = load_dcase(DATA / "dcase2020_slider", "slider", "train", n_jobs=2)
        test = load_dcase(DATA / "dcase2020_slider", "slider", "test", n_jobs=2)
        sets["real: DCASE 2020 slider, 4 IDs"] = (
            slider.X,
            slider.section,
            (test.X, test.anomaly, test.section),
            True,
        )
        X, section, anomaly = valve_clips(DATA / "dcase2023_valve")
        normal = anomaly == 0
        # the valve's normal clips are its test set's too: no test normal shift
        sets["real: DCASE 2023 valve"] = (X[normal], section[normal], (X, anomaly, section), False)
    for realism in ("clean", "factory"):
        kw = dict(n_sections=4, domains=("source",), realism=realism, random_state=args.seed)
        data = make_machine_sounds(n_normal=60, split="train", **kw)
        test = make_machine_sounds(n_normal=30, n_anomalous=30, split="test", **kw)
        sets[f"synthetic, realism={realism!r}"] = (
            data.X,
            data.section,
            (test.X, test.anomaly, test.section),
            True,
        )
    # the per-section reports: the sets of more than one ID, with their features
    reports = [
        (
            name,
            pooled_db(X),
            np.asarray(section),
            pooled_db(test[0]),
            np.asarray(test[1]),
            np.asarray(test[2]),
        )
        for name, (X, section, test, _) in sets.items()
        if (args.axis or args.probe or args.subspace or args.spread) and len(np.unique(section)) > 1
    ]
    if args.axis:
        for name, *features in reports:
            for s, row in id_axis(*features).items():
                where = " ".join(f"{k} {v:+.1f}" for k, v in row["positions"].items())
                print(
                    f"{name:36s} {s}: IDs at {where}; its anomalies move {row['shift']:+.1f} (shift norm "
                    f"{row['norm']:.1f}, over {row['features']:.0f} of {features[0].shape[1]} features)",
                    flush=True,
                )
        return
    if args.within:
        for name, (X, section, *_) in sets.items():
            section = np.asarray(section)
            F, halves = pooled_db(X), pooled_halves(X)
            cells = []
            for part in ("means", "stds"):
                sd, r = band_level_spreads(F, section, part), half_reliabilities(*halves, section, part)
                cells.append(f"{part}: band sd " + " ".join(f"{sd[s]:.2f}" for s in sd))
                cells.append("half reliability " + " ".join(f"{r[s]:.2f}" for s in r))
            clustering = nn_clustering(F, section)
            cells.append("NN / to-mean " + " ".join(f"{clustering[s]:.2f}" for s in clustering))
            print(f"{name:36s} per ID, " + "; ".join(cells), flush=True)
        return
    if args.spread:
        for name, F, section, *_ in reports:
            nearest = nearest_distances(F, section)
            cells = " ".join(
                f"{s} {np.percentile(d, 10):.1f}/{np.median(d):.1f}/{np.percentile(d, 90):.1f}"
                for s, d in nearest.items()
            )
            within, between = band_spreads(F, section)
            print(
                f"{name:36s} NN distance p10/p50/p90: {cells}; band level sd within IDs (dB, low to high) "
                f"{' '.join(f'{v:.1f}' for v in within)}; between-ID sd of band fluctuation (dB) "
                f"{' '.join(f'{v:.2f}' for v in between)}",
                flush=True,
            )
        return
    if args.subspace:
        for name, *features in reports:
            for s, row in id_subspace(*features).items():
                print(
                    f"{name:36s} {s}: {row['share']:.2f} of the anomaly shift in the ID subspace; on the "
                    f"discriminant axes the anomalies move {row['shift']:.1f}, the test normals lie "
                    f"{row['offset']:.1f} from the training clips; distance AUC {row['auc']:.3f}",
                    flush=True,
                )
        return
    if args.probe:
        for name, *features in reports:
            cells = "  ".join(f"{s}: {p:.3f} / {k:.3f}" for s, (p, k) in probe(*features).items())
            print(f"{name:36s} linear ID posterior / pooled kNN AUC  {cells}", flush=True)
        return
    header = None
    for name, (X, section, test, separate_test) in sets.items():
        row = measure(X, section, test, separate_test)
        if header is None:
            header = f"{'set':36s}" + "".join(f"{k:>18s}" for k in row)
            print(header)
            print("-" * len(header))
        print(f"{name:36s}" + "".join(f"{v:18.3f}" for v in row.values()), flush=True)


if __name__ == "__main__":
    main()
