"""How real the synthetic machine sounds are: measured properties of real and generated clips, side by side.

Run: python benchmarks/realism.py [--seed 7]

Sets (normal clips only): the real DCASE 2020 slider training clips (four machine IDs, MIMII),
the real DCASE 2023 valve split's normal clips (one section), and ``make_machine_sounds`` with
``realism="clean"`` and ``realism="factory"`` (four sections x 60 ten-second training clips,
one domain; a seed not looked at while designing the generator). Per clip, on the 64 ms /
32 ms power spectrogram (librosa), then the median over clips:

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
  spread; far above 1, any distance tells the sections (and every anomaly) apart.
"""

import argparse
import csv
import os
from pathlib import Path

import librosa
import numpy as np
from scipy.spatial.distance import cdist

from sklearn_asd.datasets import load_dcase, make_machine_sounds, read_audio

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


def id_separation(X, section):
    section = np.asarray(section)
    if len(np.unique(section)) < 2:
        return float("nan")
    F = pooled_db(X)
    F = (F - F.mean(axis=0)) / (F.std(axis=0) + 1e-12)
    D = cdist(F, F)
    np.fill_diagonal(D, np.inf)
    same = section[:, None] == section[None, :]
    near_same = np.where(same, D, np.inf).min(axis=1)
    near_other = np.where(~same, D, np.inf).min(axis=1)
    return float(np.mean(near_other / near_same))


def anomaly_effect(X, anomaly, section):
    F, anomaly, section = pooled_db(X), np.asarray(anomaly), np.asarray(section)
    effects = []
    for s in np.unique(section):
        normal, bad = F[(section == s) & (anomaly == 0)], F[(section == s) & (anomaly == 1)]
        effects.append(np.mean(np.abs(bad.mean(axis=0) - normal.mean(axis=0)) / (normal.std(axis=0) + 1e-9)))
    return float(np.mean(effects))


def measure(X, section, test=None):
    props = np.array([clip_properties(x) for x in X])
    section = np.asarray(section)
    spread = np.mean([props[section == s, 3].std() for s in np.unique(section)])
    return {
        "flatness": float(np.median(props[:, 0])),
        "fluctuation dB": float(np.median(props[:, 1])),
        "SNR est. dB": float(np.median(props[:, 2])),
        "level spread dB": float(spread),
        "ID separation": id_separation(X, section),
        "anomaly effect": float("nan") if test is None else anomaly_effect(*test),
    }


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
    parser.add_argument("--seed", type=int, default=7, help="the synthetic machines' seed")
    args = parser.parse_args(argv)
    sets = {}
    if (DATA / "dcase2020_slider").is_dir():
        slider = load_dcase(DATA / "dcase2020_slider", "slider", "train", n_jobs=2)
        test = load_dcase(DATA / "dcase2020_slider", "slider", "test", n_jobs=2)
        sets["real: DCASE 2020 slider, 4 IDs"] = (
            slider.X,
            slider.section,
            (test.X, test.anomaly, test.section),
        )
        X, section, anomaly = valve_clips(DATA / "dcase2023_valve")
        normal = anomaly == 0
        sets["real: DCASE 2023 valve"] = (X[normal], section[normal], (X, anomaly, section))
    for realism in ("clean", "factory"):
        kw = dict(n_sections=4, domains=("source",), realism=realism, random_state=args.seed)
        data = make_machine_sounds(n_normal=60, split="train", **kw)
        test = make_machine_sounds(n_normal=30, n_anomalous=30, split="test", **kw)
        sets[f"synthetic, realism={realism!r}"] = (data.X, data.section, (test.X, test.anomaly, test.section))
    header = None
    for name, (X, section, test) in sets.items():
        row = measure(X, section, test)
        if header is None:
            header = f"{'set':36s}" + "".join(f"{k:>17s}" for k in row)
            print(header)
            print("-" * len(header))
        print(f"{name:36s}" + "".join(f"{v:17.3f}" for v in row.values()), flush=True)


if __name__ == "__main__":
    main()
