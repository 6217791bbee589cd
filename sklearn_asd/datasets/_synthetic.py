"""Synthetic machine sounds: the built-in data set for demos, tests and benchmarks."""

from numbers import Integral

import numpy as np
from sklearn.utils import Bunch, check_random_state

ANOMALY_KINDS = (
    "clicks",
    "extra_harmonic",
    "missing_harmonic",
    "drift",
    "modulation",
    "friction",
)
_SPLIT_CODES = {"train": 1, "test": 2}
_TARGET_RMS = 0.05


def _per_domain(value, domains, name):
    if isinstance(value, dict):
        unknown = set(value) - set(domains)
        if unknown:
            raise ValueError(f"{name} names unknown domain(s) {sorted(unknown)}; domains are {domains}.")
        counts = {d: value.get(d, 0) for d in domains}
    else:
        counts = {d: value for d in domains}
    for d, n in counts.items():
        if not isinstance(n, Integral) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{name} must be a non-negative integer (per domain), got {n!r} for {d!r}.")
    return counts


def _design_machine(rng, n_sections, sr):
    """Draw what makes this machine and each of its sections sound the way they do."""
    base_f0 = rng.uniform(50.0, 110.0)
    n_harm = int(min(24, (0.45 * sr) // (base_f0 * 1.3)))
    base_tilt = rng.uniform(0.6, 1.1)
    base_profile = rng.lognormal(0.0, 0.35, n_harm)
    res_freqs = np.sort(rng.uniform(400.0, min(6000.0, 0.4 * sr), 3))
    sections = []
    for s in range(n_sections):
        # Sections are the same machine type in different units or set-ups: a few
        # percent apart in speed, with their own harmonic colouring and rhythm.
        sections.append(
            {
                "f0": base_f0 * (1.0 + 0.035 * s + rng.uniform(-0.008, 0.008)),
                "amps": base_profile
                * rng.lognormal(0.0, 0.25, n_harm)
                * np.arange(1, n_harm + 1) ** -base_tilt,
                "res_freqs": res_freqs * rng.uniform(0.9, 1.1, 3),
                "res_gains": rng.uniform(2.0, 8.0, 3),
                "res_widths": rng.uniform(80.0, 300.0, 3),
                "noise_level": rng.uniform(0.3, 0.6),
                "rhythm_rate": rng.uniform(0.8, 3.0),
                "rhythm_depth": rng.uniform(0.05, 0.25),
                # The target domain: another speed, load and acoustic background.
                "target_speed": 1.0 + rng.choice([-1, 1]) * rng.uniform(0.06, 0.12),
                "target_tilt": rng.uniform(-0.3, 0.3),
                "target_bg": rng.uniform(0.15, 0.35),
            }
        )
    return {"n_harm": n_harm, "sections": sections}


def _noise_envelope(freqs, sec):
    """Spectral envelope of the broadband part: pink tilt plus resonances."""
    env = 1.0 / np.sqrt(np.maximum(freqs, 20.0) / 20.0)
    for fc, gain, width in zip(sec["res_freqs"], sec["res_gains"], sec["res_widths"]):
        env = env + gain * 0.05 / (1.0 + ((freqs - fc) / width) ** 2)
    return env


def _shaped_noise(rng, n, sr, envelope_fn):
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    out = np.fft.irfft(spec * envelope_fn(freqs), n)
    return out / (np.std(out) + 1e-12)


def _harmonic_sum(coefs, phase):
    """``sum_k |c_k| sin(k * phase + arg c_k)`` for k = 1..K, by Horner's rule.

    Evaluating the polynomial ``sum_k c_k z^k`` at ``z = exp(i * phase)`` costs
    one complex multiply-add per harmonic instead of one ``sin`` per harmonic and
    sample; ``benchmarks/bench_synthetic.py`` measures the gain and the (1e-10)
    difference.
    """
    z = np.exp(1j * phase)
    acc = np.full(phase.shape, coefs[-1], dtype=complex)
    for c in coefs[-2::-1]:
        acc *= z
        acc += c
    acc *= z
    return acc.imag


def _synthesize(rng, machine, sec, domain, kind, severity, sr, n):
    """One clip: harmonics of the rotation, resonant broadband noise, rhythm, anomaly."""
    t = np.arange(n) / sr
    n_harm = machine["n_harm"]
    amps = sec["amps"] * rng.lognormal(0.0, 0.05, n_harm)
    f0 = sec["f0"] * (1.0 + rng.uniform(-0.004, 0.004))
    bg_level = 0.05
    if domain == "target":
        f0 *= sec["target_speed"]
        amps = amps * np.arange(1, n_harm + 1) ** sec["target_tilt"]
        bg_level = sec["target_bg"]

    # Instantaneous rotation frequency, with slow natural wander.
    wander = 1.0 + 0.002 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 2 * np.pi))
    if kind == "drift":
        # The speed control fails: the rotation drifts up or down through the clip.
        direction = rng.choice([-1.0, 1.0])
        wander = wander * (1.0 + direction * 0.06 * severity * t / t[-1])
    phase = 2 * np.pi * np.cumsum(f0 * wander) / sr
    harmonic_gain = np.ones(n_harm)
    if kind == "missing_harmonic":
        harmonic_gain[rng.integers(0, min(4, n_harm))] = 1.0 - 0.95 * severity
    valid = (np.arange(1, n_harm + 1) * f0 * wander.max()) < 0.48 * sr
    coefs = amps * harmonic_gain * valid * np.exp(1j * rng.uniform(0, 2 * np.pi, n_harm))
    harmonics = _harmonic_sum(coefs, phase)
    if kind == "extra_harmonic":
        # A new line between two harmonics (e.g. a damaged gear tooth).
        j = rng.integers(1, 6)
        frac = rng.uniform(0.3, 0.7)
        harmonics += 1.5 * severity * amps[j - 1] * np.sin((j + frac) * phase + rng.uniform(0, 2 * np.pi))
    harmonics /= np.std(harmonics) + 1e-12

    broadband = _shaped_noise(rng, n, sr, lambda f: _noise_envelope(f, sec))
    signal = harmonics + sec["noise_level"] * broadband

    rhythm = 1.0 + sec["rhythm_depth"] * np.sin(
        2 * np.pi * sec["rhythm_rate"] * t + rng.uniform(0, 2 * np.pi)
    )
    if kind == "modulation":
        # Unbalance or looseness: a faster, deeper amplitude modulation.
        rate = rng.uniform(4.0, 12.0)
        rhythm = rhythm * (1.0 + 0.8 * severity * np.sin(2 * np.pi * rate * t))
    signal = signal * rhythm
    signal *= _TARGET_RMS / (np.std(signal) + 1e-12)

    if kind == "clicks":
        # Impulsive knocks: decaying resonant bursts at random times.
        n_clicks = max(1, int(rng.uniform(2.0, 6.0) * n / sr))
        click_len = int(0.006 * sr)
        tc = np.arange(click_len) / sr
        fc = rng.uniform(0.09, 0.37) * sr  # 1.4-5.9 kHz at 16 kHz
        click = np.sin(2 * np.pi * fc * tc) * np.exp(-tc / 0.0012)
        for start in rng.integers(0, n - click_len, n_clicks):
            signal[start : start + click_len] += 6.0 * severity * _TARGET_RMS * rng.uniform(0.5, 1.0) * click
    elif kind == "friction":
        # Rubbing: band-limited high-frequency noise in bursts.
        lo = rng.uniform(0.16, 0.28) * sr  # 2.6-4.5 kHz at 16 kHz; the band ends below 0.45 sr
        band = _shaped_noise(rng, n, sr, lambda f: ((f > lo) & (f < lo * 1.6)).astype(float))
        gate = (np.sin(2 * np.pi * rng.uniform(0.3, 1.5) * t + rng.uniform(0, 2 * np.pi)) > -0.2).astype(
            float
        )
        signal += 0.25 * severity * _TARGET_RMS * band * gate

    # Acoustic background of the site (stronger in the target domain).
    background = _shaped_noise(rng, n, sr, lambda f: 1.0 / np.maximum(f, 50.0) ** 0.8)
    signal += bg_level * _TARGET_RMS * background
    return np.clip(signal, -1.0, 1.0).astype(np.float32)


def make_machine_sounds(
    n_sections=3,
    n_normal=20,
    n_anomalous=None,
    *,
    split="test",
    domains=("source", "target"),
    sr=16000,
    duration=10.0,
    anomaly_kinds=ANOMALY_KINDS,
    severity=0.3,
    random_state=None,
):
    """Generate machine-like sounds with sections, a domain shift and anomalies.

    The built-in data set of sklearn-asd: a rotating machine (harmonics of a
    rotation frequency with natural speed wander, resonant broadband noise, a
    slow rhythm) recorded over a site background. Sections are units of the
    same machine type a few percent apart in speed and colouring; the target
    domain changes speed (6-12 %), load (harmonic tilt) and background level.
    Anomalies are impulsive clicks, an extra (inharmonic) line, a missing
    harmonic, a drift of the rotation speed, amplitude modulation, or
    friction noise, each scaled by ``severity``.

    The machine (its sections and target shift) is drawn from
    ``random_state`` alone; the clips also depend on ``split``, so the
    ``"train"`` and ``"test"`` parts of one machine come from two calls with
    the **same integer** ``random_state``.

    Parameters
    ----------
    n_sections : int, default=3
        Number of sections (``"section_00"``, ...).
    n_normal : int or dict, default=20
        Normal clips per section and domain, or a dict ``{domain: count}``
        (e.g. ``{"source": 99, "target": 1}`` for DCASE's imbalance).
    n_anomalous : int, dict or None, default=None
        Anomalous clips per section and domain. ``None`` means none for
        ``split="train"`` and as many as normal clips for ``split="test"``.
    split : {"train", "test"}, default="test"
        Which part to generate; training data is normal only.
    domains : tuple of str, default=("source", "target")
        Domains to generate, among ``"source"`` and ``"target"``.
    sr : int, default=16000
        Sampling rate.
    duration : float, default=10.0
        Clip length in seconds.
    anomaly_kinds : sequence of str, default=all kinds
        Kinds drawn (uniformly) for anomalous clips, among
        ``"clicks"``, ``"extra_harmonic"``, ``"missing_harmonic"``,
        ``"drift"``, ``"modulation"``, ``"friction"``.
    severity : float in (0, 1], default=0.3
        Strength of the anomalies. At 0.3 a pooled log-mel + kNN baseline
        reaches an official score near 0.8 (some kinds, such as clicks and
        modulation, stay hard for it); near 1 most anomalies are obvious;
        near 0.1 they are hard to hear.
    random_state : int, RandomState instance or None, default=None
        Seeds the machine and the clips.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        The fields of :func:`load_dcase` (``X``, ``y``, ``section``,
        ``domain``, ``anomaly``, ``attributes``, ``split``, ``filenames``,
        ``sr``) plus ``anomaly_kind`` (``""`` for normal clips).

    Examples
    --------
    >>> from sklearn_asd.datasets import make_machine_sounds
    >>> train = make_machine_sounds(n_normal={"source": 8, "target": 2}, split="train",
    ...                             duration=1.0, random_state=0)
    >>> test = make_machine_sounds(n_normal=4, duration=1.0, random_state=0)
    >>> train.X.shape, test.X.shape, int(test.anomaly.sum())
    ((30, 16000), (48, 16000), 24)
    """
    if not isinstance(n_sections, Integral) or n_sections < 1:
        raise ValueError(f"n_sections must be a positive integer, got {n_sections!r}.")
    if split not in _SPLIT_CODES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    domains = tuple(domains)
    if not domains or set(domains) - {"source", "target"} or len(set(domains)) != len(domains):
        raise ValueError(f"domains must be distinct values among 'source' and 'target', got {domains!r}.")
    if not isinstance(sr, Integral) or sr < 4000:
        raise ValueError(f"sr must be an integer of at least 4000 Hz, got {sr!r}.")
    if not duration > 0 or duration * sr < 256:
        raise ValueError(f"duration must give at least 256 samples, got {duration!r} s at {sr} Hz.")
    if not 0.0 < severity <= 1.0:
        raise ValueError(f"severity must be in (0, 1], got {severity!r}.")
    anomaly_kinds = tuple(anomaly_kinds)
    unknown = set(anomaly_kinds) - set(ANOMALY_KINDS)
    if not anomaly_kinds or unknown:
        raise ValueError(
            f"anomaly_kinds must be a non-empty subset of {ANOMALY_KINDS}, got {anomaly_kinds!r}."
        )
    normal_counts = _per_domain(n_normal, domains, "n_normal")
    if n_anomalous is None:
        n_anomalous = 0 if split == "train" else normal_counts
    anomalous_counts = _per_domain(n_anomalous, domains, "n_anomalous")
    if split == "train" and any(anomalous_counts.values()):
        raise ValueError("the training split holds normal clips only: pass n_anomalous=0 (or None).")
    if not any(normal_counts.values()) and not any(anomalous_counts.values()):
        raise ValueError("n_normal and n_anomalous ask for no clip at all.")

    rng = check_random_state(random_state)
    machine = _design_machine(rng, n_sections, sr)
    if isinstance(random_state, Integral):
        clip_rng = np.random.default_rng([int(random_state), _SPLIT_CODES[split]])
    else:
        clip_rng = np.random.default_rng(rng.randint(0, 2**31 - 1))

    n = int(round(duration * sr))
    waves, rows = [], []
    index = 0
    for s, sec in enumerate(machine["sections"]):
        for domain in domains:
            kinds = [""] * normal_counts[domain] + list(
                clip_rng.choice(anomaly_kinds, anomalous_counts[domain])
            )
            for kind in kinds:
                waves.append(_synthesize(clip_rng, machine, sec, domain, kind or None, severity, sr, n))
                speed = sec["target_speed"] if domain == "target" else 1.0
                label = "anomaly" if kind else "normal"
                section = f"section_{s:02d}"
                rows.append(
                    {
                        "section": section,
                        "domain": domain,
                        "anomaly": int(bool(kind)),
                        "kind": kind,
                        "attributes": {"spd": f"{speed:.2f}"},
                        "filename": f"{section}_{domain}_{split}_{label}_{index:04d}_spd_{speed:.2f}.wav",
                    }
                )
                index += 1

    section = np.array([r["section"] for r in rows], dtype=object)
    return Bunch(
        X=np.stack(waves),
        y=section.copy(),
        section=section,
        domain=np.array([r["domain"] for r in rows], dtype=object),
        anomaly=np.array([r["anomaly"] for r in rows], dtype=int),
        attributes=np.array([r["attributes"] for r in rows], dtype=object),
        split=np.full(len(rows), split, dtype=object),
        filenames=np.array([r["filename"] for r in rows], dtype=object),
        anomaly_kind=np.array([r["kind"] for r in rows], dtype=object),
        sr=sr,
    )
