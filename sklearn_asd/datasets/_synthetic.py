"""Synthetic machine sounds: the built-in data set for demos, tests and benchmarks."""

from numbers import Integral, Real

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


def _add_clicks(rng, signal, sr, amplitude, freq=None, rate=None):
    """Impulsive knocks, in place: decaying resonant bursts (at ``freq``, else 1.4-5.9 kHz at
    16 kHz) at random times, ``rate`` per second (else 2-6)."""
    n = len(signal)
    n_clicks = max(1, int((rng.uniform(2.0, 6.0) if rate is None else rate) * n / sr))
    click_len = int(0.006 * sr)
    tc = np.arange(click_len) / sr
    fc = rng.uniform(0.09, 0.37) * sr if freq is None else freq
    click = np.sin(2 * np.pi * fc * tc) * np.exp(-tc / 0.0012)
    for start in rng.integers(0, n - click_len, n_clicks):
        signal[start : start + click_len] += amplitude * rng.uniform(0.5, 1.0) * click


def _friction(rng, n, sr, low=None, rate=None):
    """Rubbing: band-limited high-frequency noise from ``low`` (else 2.6-4.5 kHz at 16 kHz) to
    1.6 ``low`` (below 0.45 sr) in bursts ``rate`` per second (else 0.3-1.5); unit-variance
    band, gated."""
    t = np.arange(n) / sr
    lo = rng.uniform(0.16, 0.28) * sr if low is None else low
    band = _shaped_noise(rng, n, sr, lambda f: ((f > lo) & (f < lo * 1.6)).astype(float))
    rate = rng.uniform(0.3, 1.5) if rate is None else rate
    return band * (np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi)) > -0.2)


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
        _add_clicks(rng, signal, sr, 6.0 * severity * _TARGET_RMS)
    elif kind == "friction":
        signal += 0.25 * severity * _TARGET_RMS * _friction(rng, n, sr)

    # Acoustic background of the site (stronger in the target domain).
    background = _shaped_noise(rng, n, sr, lambda f: 1.0 / np.maximum(f, 50.0) ** 0.8)
    signal += bg_level * _TARGET_RMS * background
    return np.clip(signal, -1.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------- the factory machine

_SOURCE_SPEEDS = (0.94, 1.0, 1.06)
_LOADS = (1, 2, 3)
_SNR_DB = (-6.0, 0.0, 6.0)  # MIMII's three mixing levels: one per machine
_SNR_SPREAD_DB = 0.5  # the clip's own SNR, around its session's
_EVENT_KINDS = ("impact", "hiss", "beep", "engine")
_N_EVENT_SOURCES = 8  # the factory's sources of events, two of each kind
_EVENT_LENGTHS = {"impact": 0.15, "hiss": 1.0, "beep": 0.3, "engine": 2.0}  # seconds, x0.5-1.5
# the factory's other anomalies (not of the wear) at a severity: ten times the clean machine's
# strengths, for they must stand out of a unit's normal variability and of the factory's noise
# (calibrated on one seed at MIMII's -6 dB by benchmarks/realism.py's model-free anomaly
# effect, before any model ran)
_FACTORY_STRENGTH = 10.0
# units of one product model: how far a unit's build lies from the model's (a scale on each
# property's spread: speed 0.6 %, harmonic balance and resonance gains 9 %, resonance
# frequencies 1.2 %); at 0.3 a linear classifier on pooled log-mel tells the four units of the
# design seeds apart 86-95 % of the time, the real slider IDs 92 % (benchmarks/realism.py)
_UNIT_SPREAD = 0.3
# every unit's normal wear, relative to the unit-RMS machine: its rubbing's level, its knocks'
# amplitude (two modes at one power), its unbalance's largest modulation depth
_WEAR = {"rub": 1.2, "knock": 24.0, "wobble": 0.8}
# what the units' wear differs in, its character: three shares (the rubbing's in bursts, the
# knocks' in their upper mode, the unbalance's depth), logit-normal over units with this sigma
# (a share of 0.05-0.95 two sigma apart); a fault of the kind moves its share this many logits
# to the other side of one half, toward the units of the other character, and its wear (rubbing,
# knocks) this much louder
_CHARACTER_SPREAD = 1.5
_CHARACTER_STEP = 5.0
_FAULT_GAIN = 1.25
# recording sessions per unit and domain (one operating condition and machine state each), the
# factory's states (its background recordings, shared by all units), the Dirichlet
# concentration of the shares of the clips each holds (below 1: some are rare), a state's SNR
# around the machine's, and how far a clip varies within its session (a scale on the clip's
# harmonic balance 2 %, noise 1.5 %, speed 0.08 %)
_N_SESSIONS = 16
_N_FACTORY_STATES = 16
_N_TARGET_SESSIONS = 2
_SESSION_CONCENTRATION = 0.7
_SESSION_SNR_DB = 3.0
_CLIP_SPREAD = 0.1
# each factory state's noise bed has a colour of its own (a recording of its own): a smooth
# gain over log frequency, this many dB (sd) at each of its knots; the real slider's normal
# clips of one ID spread 2.2-3.6 dB in each band's mean level (sd; the first and the second
# half of a clip correlate 0.90-0.95 in it: a condition of the recording, not of the moment),
# the factory's states without it 0.9-1.4 dB (0.49-0.86), with it 2.4-3.1 (0.91-0.96) on the
# design seeds (benchmarks/README)
_STATE_COLOUR_DB = 6.0
_N_COLOUR_KNOTS = 8


def _design_factory(rng, n_sections, sr):
    """A factory and its units: each section a separate physical unit of one product model, the
    background shared.

    The product model (its rotation speed, harmonic profile, resonances, bearing noise, rhythm
    and mechanical strokes) is drawn first; each unit is a specimen of it, with its own
    deviations (a speed within a few percent, its own harmonic balance, resonances, noise and
    rhythm), as the machine IDs of MIMII and DCASE are: the real slider IDs' long-term spectra
    lie within 1-3 dB of each other, and a linear classifier on pooled log-mel tells them apart
    92 % of the time, not always (``benchmarks/realism.py``). The factory (its noise bed and the
    other machines running in it) is the same for all.
    """
    nyquist = 0.5 * sr
    spread = _UNIT_SPREAD
    f0 = rng.uniform(40.0, 160.0)
    n_harm = int(max(4, min(32, (0.45 * sr) // (f0 * 1.3))))
    k = np.arange(1, n_harm + 1)
    n_res = 4
    model = {
        "amps": rng.lognormal(0.0, 0.7, n_harm) * k ** -rng.uniform(0.4, 1.2),
        "res_freqs": np.sort(rng.uniform(300.0, min(7000.0, 0.8 * nyquist), n_res)),
        "res_gains": rng.uniform(1.0, 10.0, n_res),
        "res_widths": rng.uniform(50.0, 400.0, n_res),
        "noise_level": rng.uniform(0.3, 1.2),
        "rhythm_rate": rng.uniform(0.3, 4.0),
        "rhythm_depth": rng.uniform(0.05, 0.5),
        # mechanical strokes (a slide rail's travel, a valve's opening): some models have none
        "stroke_rate": rng.uniform(0.3, 2.0),
        "stroke_level": rng.choice([0.0, rng.uniform(0.5, 3.0)]),
        "stroke_freq": rng.uniform(0.05, 0.35) * sr,
        "stroke_decay": rng.uniform(0.004, 0.03),
        # the wear that faults change: rubbing in a high band, knocks of a loose part (below the
        # rubbing's band, not masked by it), an unbalance that modulates the sound; every unit
        # has some of each
        "rub_low": rng.uniform(0.16, 0.28) * sr,
        "rub_rate": rng.uniform(0.3, 1.5),
        "knock_below": rng.uniform(0.45, 0.75),
        "knock_rate": rng.uniform(1.0, 4.0),
        "wobble_rate": rng.uniform(4.0, 12.0),
    }
    units = []
    for _ in range(n_sections):
        units.append(
            {
                "f0": f0 * rng.lognormal(0.0, 0.02 * spread),
                "amps": model["amps"] * rng.lognormal(0.0, 0.3 * spread, n_harm),
                "res_freqs": model["res_freqs"] * rng.lognormal(0.0, 0.04 * spread, n_res),
                "res_gains": model["res_gains"] * rng.lognormal(0.0, 0.3 * spread, n_res),
                "res_widths": model["res_widths"] * rng.lognormal(0.0, 0.2 * spread, n_res),
                "noise_level": model["noise_level"] * rng.lognormal(0.0, 0.15 * spread),
                "rhythm_rate": model["rhythm_rate"] * rng.lognormal(0.0, 0.2 * spread),
                "rhythm_depth": model["rhythm_depth"] * rng.lognormal(0.0, 0.2 * spread),
                "stroke_rate": model["stroke_rate"] * rng.lognormal(0.0, 0.05 * spread),
                "stroke_level": model["stroke_level"] * rng.lognormal(0.0, 0.2 * spread),
                "stroke_freq": model["stroke_freq"] * rng.lognormal(0.0, 0.05 * spread),
                "stroke_decay": model["stroke_decay"] * rng.lognormal(0.0, 0.2 * spread),
                # its wear: rubbing, knocking and unbalance at its own band and rate, and their
                # character, in which units differ by far more than in their build
                "rub_low": model["rub_low"] * rng.lognormal(0.0, 0.04 * spread),
                "rub_rate": model["rub_rate"] * rng.lognormal(0.0, 0.2 * spread),
                "knock_freq": model["knock_below"] * model["rub_low"] * rng.lognormal(0.0, 0.04 * spread),
                "knock_rate": model["knock_rate"] * rng.lognormal(0.0, 0.2 * spread),
                "wobble_rate": model["wobble_rate"] * rng.lognormal(0.0, 0.05 * spread),
                "character": rng.normal(0.0, _CHARACTER_SPREAD, 3),
                # the target domain: a speed outside the source speeds
                "target_speed": 1.0 + rng.choice([-1, 1]) * rng.uniform(0.12, 0.2),
            }
        )
    hum_f0 = rng.uniform(30.0, 120.0, 3)
    factory = {
        "bed_slope": rng.uniform(0.6, 1.4),
        "bed_peaks": rng.uniform(100.0, min(4000.0, 0.5 * nyquist), 3),
        "hums": [
            {
                "f0": f,
                "amps": rng.lognormal(0.0, 0.5, 8) * np.arange(1, 9) ** -1.0,
                "level": rng.uniform(0.2, 0.8),
            }
            for f in hum_f0
        ],
        "event_rate": rng.uniform(0.06, 0.18),  # events per second (a state: x0.45-2.2)
        "snr_db": float(rng.choice(_SNR_DB)),
    }
    factory["states"] = _design_factory_states(rng, factory)
    for unit in units:
        unit["sessions"] = {domain: _design_sessions(rng, unit, domain) for domain in ("source", "target")}
    # drawn last, so that the rest of a seed's design stays as it was without them
    factory["sources"] = _design_event_sources(rng, sr)
    for state in factory["states"][0]:
        state["source_weights"] = rng.dirichlet(np.full(_N_EVENT_SOURCES, _SESSION_CONCENTRATION))
        state["colour_db"] = rng.normal(0.0, _STATE_COLOUR_DB, _N_COLOUR_KNOTS)
    return {"units": units, "factory": factory}


def _design_event_sources(rng, sr):
    """The factory's sources of events: its own impacts, air valves, beepers and vehicles, each
    of one sound (an impact's ring, a hiss's band, a beep's pitch, an engine's), so that the
    events of its clips recur as those of a real factory do; events drawn afresh each time make
    every clip differ from every other in bands of its own, and leave no two normal clips of a
    unit near-duplicates (``benchmarks/README``)."""
    sources = []
    for j in range(_N_EVENT_SOURCES):
        kind = _EVENT_KINDS[j % len(_EVENT_KINDS)]
        sources.append(
            {
                "kind": kind,
                "length": _EVENT_LENGTHS[kind] * rng.uniform(0.5, 1.5),
                "decay": rng.uniform(0.01, 0.05),
                "low": rng.uniform(0.1, 0.3) * sr,
                "pitch": rng.uniform(800.0, 3000.0),
                "f0": rng.uniform(25.0, 60.0),
                "level": rng.uniform(0.5, 1.5),
            }
        )
    return sources


def _design_factory_states(rng, factory):
    """The factory's states (its noise colour and level, which other machines run, how busy it
    is, its SNR around the machine's) and the share of the clips of each split each holds.

    MIMII records the machines and the factory apart and mixes them: the background of a
    clip is a stretch of the factory's own recordings, the same for every machine ID, so which
    state a clip's background is in tells nothing about the unit. (Drawn per unit, the states'
    differences become the units' on a few training clips, and a classifier of the units flags
    normal test clips from states rare in training: ``benchmarks/README``.)
    """
    states = [
        {
            "snr_db": rng.uniform(-_SESSION_SNR_DB, _SESSION_SNR_DB),
            "bed_slope": factory["bed_slope"] + rng.uniform(-0.3, 0.3),
            "bed_walk_db": rng.uniform(0.3, 1.5),
            "hums": rng.random(len(factory["hums"])) < 0.5,
            "hum_levels": rng.lognormal(0.0, 0.3, len(factory["hums"])),
            "event_rate": factory["event_rate"] * rng.lognormal(0.0, 0.8),
        }
        for _ in range(_N_FACTORY_STATES)
    ]
    weights = {
        split: rng.dirichlet(np.full(_N_FACTORY_STATES, _SESSION_CONCENTRATION)) for split in _SPLIT_CODES
    }
    return states, weights


def _design_sessions(rng, unit, domain):
    """The recording sessions of one unit in one domain, and the share of its clips each holds.

    Real clips are cut from a few long recordings: clips of one session are near-duplicates,
    clips of two sessions differ in the machine's state (warm or cold: its harmonic balance and
    noise) and in the factory's (its background, :func:`_design_factory_states`), and some
    sessions are rare. On standardized pooled log-mel, the real slider's
    nearest-neighbour distances between normal clips of one ID spread by a factor of 4 from
    the 10th to the 90th percentile (``benchmarks/realism.py``); clips drawn independently
    spread by 1.5. Each split has its own shares (``{"train": ..., "test": ...}``): the real
    slider's normal test clips lie 1.34 times as far from its training clips as these from each
    other (median nearest-neighbour distances); with one set of shares for both, 0.93 times.
    """
    n = _N_SESSIONS if domain == "source" else _N_TARGET_SESSIONS
    n_harm = len(unit["amps"])
    sessions = [
        {
            # the operating condition (DCASE records one condition per session)
            "spd": unit["target_speed"] if domain == "target" else rng.choice(_SOURCE_SPEEDS),
            "load": int(rng.choice(_LOADS)),
            "harmonic_balance": rng.lognormal(0.0, 0.4, n_harm),
            "noise_level": rng.lognormal(0.0, 0.3),
        }
        for _ in range(n)
    ]
    weights = {split: rng.dirichlet(np.full(n, _SESSION_CONCENTRATION)) for split in _SPLIT_CODES}
    return sessions, weights


def _level_walk(rng, n, sr, depth_db):
    """A slow random level (gain) curve: a smoothed random walk of about ``depth_db`` dB."""
    n_knots = max(2, int(n / sr * 2) + 2)
    knots = np.cumsum(rng.normal(0.0, depth_db / 2.0, n_knots))
    knots -= knots.mean()
    return 10.0 ** (np.interp(np.linspace(0, n_knots - 1, n), np.arange(n_knots), knots) / 20.0)


def _colour(f, sr, knots_db):
    """A smooth gain curve over frequency: ``knots_db`` (dB) spread evenly on a log-frequency
    axis from 50 Hz to the Nyquist frequency, interpolated between them."""
    where = np.linspace(np.log(50.0), np.log(0.5 * sr), len(knots_db))
    return 10.0 ** (np.interp(np.log(np.maximum(f, 50.0)), where, knots_db) / 20.0)


def _factory_background(rng, factory, n, sr, state):
    """The factory's sound in one clip: a noise bed of slowly varying level, other machines that
    run or not, and intermittent events (impacts, hiss of air, beeps, an engine passing) that
    are not anomalies; in the factory's ``state`` (which machines run, the bed's colour and
    level walk, how busy the factory is). Unit variance."""
    t = np.arange(n) / sr
    bed = _shaped_noise(
        rng,
        n,
        sr,
        lambda f: (
            (1.0 / np.maximum(f, 30.0) ** (state["bed_slope"] / 2.0))
            * (1.0 + sum(2.0 / (1.0 + ((f - p) / 80.0) ** 2) for p in factory["bed_peaks"]))
            * _colour(f, sr, state["colour_db"])
        ),
    )
    out = bed * _level_walk(rng, n, sr, state["bed_walk_db"])
    for hum, on, gain in zip(factory["hums"], state["hums"], state["hum_levels"]):
        if on:
            phase = 2 * np.pi * hum["f0"] * (1.0 + rng.uniform(-0.01, 0.01)) * t
            coefs = hum["amps"] * np.exp(1j * rng.uniform(0, 2 * np.pi, len(hum["amps"])))
            wave = _harmonic_sum(coefs, phase)
            out = out + gain * hum["level"] * rng.uniform(0.8, 1.2) * wave / (np.std(wave) + 1e-12)
    sources = factory["sources"]
    for _ in range(rng.poisson(state["event_rate"] * n / sr)):
        source = sources[rng.choice(len(sources), p=state["source_weights"])]
        kind = source["kind"]
        length = min(int(sr * source["length"] * rng.uniform(0.8, 1.25)), n)
        start = int(rng.integers(0, n - length + 1))
        te = np.arange(length) / sr
        if kind == "impact":
            event = rng.standard_normal(length) * np.exp(-te / source["decay"])
        elif kind == "hiss":
            lo = source["low"]
            event = _shaped_noise(rng, length, sr, lambda f, lo=lo: ((f > lo) & (f < 1.5 * lo)).astype(float))
            event *= np.sin(np.pi * te / te[-1]) if length > 1 else 1.0
        elif kind == "beep":
            event = np.sin(2 * np.pi * source["pitch"] * te) * (np.sin(2 * np.pi * 2.0 * te) > 0)
        else:
            f0 = source["f0"] * rng.uniform(0.95, 1.05) * (1.0 + 0.3 * te / te[-1])
            event = _harmonic_sum(np.ones(6) / np.arange(1, 7), 2 * np.pi * np.cumsum(f0) / sr)
            event *= np.sin(np.pi * te / te[-1])
        event /= np.std(event) + 1e-12
        out[start : start + length] += source["level"] * rng.uniform(0.8, 1.25) * event
    return out / (np.std(out) + 1e-12)


def _rub(rng, unit):
    """The clip's rubbing band and burst rate: the unit's, within a few percent."""
    return unit["rub_low"] * rng.lognormal(0.0, 0.03), unit["rub_rate"] * rng.lognormal(0.0, 0.1)


def _knock(rng, unit):
    """The clip's knock resonance and rate: the unit's, within a few percent (the rate, 30 %)."""
    return unit["knock_freq"] * rng.lognormal(0.0, 0.03), unit["knock_rate"] * rng.lognormal(0.0, 0.3)


# the faults that change the character of the unit's wear: the index of their share
_CHARACTER_KINDS = {"friction": 0, "clicks": 1, "modulation": 2}


def _character(unit, kind=None, step=0.0):
    """The unit's three wear shares (rubbing in bursts, knocks in their upper mode, unbalance
    depth); a fault ``kind`` of them moves its share ``step`` logits toward the other side of
    one half (past it when the share is within ``step`` of it)."""
    z = np.array(unit["character"], dtype=float)
    if kind in _CHARACTER_KINDS:
        j = _CHARACTER_KINDS[kind]
        z[j] -= np.copysign(step, z[j])
    return 1.0 / (1.0 + np.exp(-z))


def _rubbing(rng, n, sr, low, rate, share):
    """Rubbing in the band from ``low`` to 1.6 ``low``: a steady hiss and bursts half the time,
    two independent noises, ``share`` of the power in the bursts; unit variance."""
    t = np.arange(n) / sr

    def band():
        return _shaped_noise(rng, n, sr, lambda f: ((f > low) & (f < low * 1.6)).astype(float))

    gate = np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi)) > 0
    return np.sqrt(1.0 - share) * band() + np.sqrt(2.0 * share) * gate * band()


def _knocks(seed, n, sr, amplitude, freq, rate, share):
    """Knocks of a loose part that ring in two modes (``freq`` and 1.3 ``freq``), ``share`` of
    their power in the upper one; one draw of knock times per ``seed``, so that a unit's normal
    and changed knocks differ in their modes only."""
    out = np.zeros(n)
    for f, part in ((freq, 1.0 - share), (1.3 * freq, share)):
        _add_clicks(np.random.default_rng(seed), out, sr, amplitude * np.sqrt(part), f, rate)
    return out


def _synthesize_factory(rng, unit, factory, session, kind, severity, sr, n):
    """One clip of a unit in the factory: the machine at the clip's speed and load, with the
    variability of normal operation and the anomaly, then the factory's sound at the clip's SNR.

    Levels are those of the **normal** machine: the machine is scaled by its normal RMS and
    the clip by the normal mix's expected RMS, so that an anomaly that adds (or removes) sound
    changes the clip's level, as a rattling machine is louder (the real slider's anomalous clips
    of id_00 are 2.3 dB louder than its normal clips, which spread 0.1 dB).
    """
    t = np.arange(n) / sr
    speed, load = float(session["spd"]), session["load"]
    severity = _FACTORY_STRENGTH * severity
    n_harm = len(unit["amps"])
    k = np.arange(1, n_harm + 1)
    # normal operation varies: the session's harmonic balance and noise, each clip's own a
    # little around them, its speed and rhythm
    amps = (
        unit["amps"]
        * session["harmonic_balance"]
        * rng.lognormal(0.0, _CLIP_SPREAD * 0.2, n_harm)
        * k ** (0.15 * (load - 2))
    )
    f0 = unit["f0"] * speed * rng.lognormal(0.0, _CLIP_SPREAD * 0.008)
    wander = _level_walk(rng, n, sr, 0.15)  # a wandering speed (a fraction of a percent)
    if kind == "drift":
        wander = wander * (1.0 + rng.choice([-1.0, 1.0]) * 0.06 * severity * t / t[-1])
    phase = 2 * np.pi * np.cumsum(f0 * wander) / sr
    gain = np.ones(n_harm)
    if kind == "missing_harmonic":
        # one of the first harmonics fades (up to 95 %); past severity 1, more of them
        lost = rng.permutation(min(6, n_harm))[: max(1, int(np.ceil(severity)))]
        gain[lost] = 1.0 - 0.95 * min(1.0, severity)
    valid = k * f0 * wander.max() < 0.48 * sr
    coefs = amps * valid * np.exp(1j * rng.uniform(0, 2 * np.pi, n_harm))
    # a sum of sines at distinct frequencies: its RMS is that of its coefficients
    unit_rms = np.sqrt(0.5 * np.sum(np.abs(coefs) ** 2)) + 1e-12
    normal = _harmonic_sum(coefs, phase) / unit_rms
    harmonics = _harmonic_sum(coefs * gain, phase) / unit_rms if kind == "missing_harmonic" else normal
    if kind == "extra_harmonic":
        j = min(int(rng.integers(1, 6)), n_harm)
        line = np.sin((j + rng.uniform(0.3, 0.7)) * phase + rng.uniform(0, 2 * np.pi))
        harmonics = harmonics + 1.5 * severity * np.abs(coefs[j - 1]) / unit_rms * line
    broadband = _shaped_noise(rng, n, sr, lambda f: _noise_envelope(f, unit))
    noise_level = (
        unit["noise_level"]
        * session["noise_level"]
        * (1.0 + 0.2 * (load - 2))
        * rng.lognormal(0.0, _CLIP_SPREAD * 0.15)
    )
    other = noise_level * broadband
    if unit["stroke_level"] > 0:
        rate = unit["stroke_rate"] * speed * rng.uniform(0.9, 1.1)
        times = np.arange(rng.uniform(0, 1.0 / rate), n / sr, 1.0 / rate)
        tc = np.arange(int(5 * unit["stroke_decay"] * sr)) / sr
        stroke = np.sin(2 * np.pi * unit["stroke_freq"] * tc) * np.exp(-tc / unit["stroke_decay"])
        for start in (times * sr).astype(int):
            stop = min(n, start + len(stroke))
            other[start:stop] += unit["stroke_level"] * rng.uniform(0.7, 1.3) * stroke[: stop - start]
    # the unit's wear, of its own character: rubbing in its band, knocks of a loose part,
    # an unbalance that modulates the sound
    rub_share, knock_share, wobble_share = _character(unit)
    rub, rub_level = _rub(rng, unit), _WEAR["rub"] * rng.lognormal(0.0, 0.2)
    rubbing = rub_level * _rubbing(rng, n, sr, *rub, rub_share)
    knock, knock_seed = _knock(rng, unit), rng.integers(2**63)
    knocks = _knocks(knock_seed, n, sr, _WEAR["knock"], *knock, knock_share)
    wobble_rate = unit["wobble_rate"] * rng.lognormal(0.0, 0.03)
    wobble = (
        _WEAR["wobble"]
        * rng.lognormal(0.0, 0.2)
        * np.sin(2 * np.pi * wobble_rate * t + rng.uniform(0, 2 * np.pi))
    )
    rhythm = 1.0 + unit["rhythm_depth"] * np.sin(
        2 * np.pi * unit["rhythm_rate"] * rng.uniform(0.9, 1.1) * t + rng.uniform(0, 2 * np.pi)
    )
    normal_rms = np.sqrt(
        np.mean(((normal + other + rubbing + knocks) * rhythm * (1.0 + wobble_share * wobble)) ** 2)
    )
    # the faults of the wear change its character (toward that of other units: the real slider's
    # anomalies move an ID toward the others, benchmarks/README) and make it a little louder
    step, fault_gain = _CHARACTER_STEP * severity / 3.0, 1.0 + (_FAULT_GAIN - 1.0) * severity / 3.0
    changed = _character(unit, kind, step)
    if kind == "friction":
        rubbing = fault_gain * rub_level * _rubbing(rng, n, sr, *rub, changed[0])
    elif kind == "clicks":
        knocks = _knocks(knock_seed, n, sr, fault_gain * _WEAR["knock"], *knock, changed[1])
    elif kind == "modulation":
        wobble_share = changed[2]
    machine = (
        (harmonics + other + rubbing + knocks) * rhythm * (1.0 + wobble_share * wobble) / (normal_rms + 1e-12)
    )
    state = session["state"]
    snr_db = factory["snr_db"] + state["snr_db"] + rng.uniform(-_SNR_SPREAD_DB, _SNR_SPREAD_DB)
    noise_gain = 10.0 ** (-snr_db / 20.0)
    signal = machine + noise_gain * _factory_background(rng, factory, n, sr, state)
    # the normal clip's level: the mix of a unit-RMS machine and its background, within
    # +-0.3 dB (real clips of a section spread 0.1-0.2 dB: benchmarks/realism.py)
    level = _TARGET_RMS * 10.0 ** (rng.uniform(-0.3, 0.3) / 20.0) / np.sqrt(1.0 + noise_gain**2)
    return np.clip(signal * level, -1.0, 1.0).astype(np.float32)


def _factory_session(rng, unit, factory, domain, split):
    """The clip's recording session (its operating condition and the machine's state, with the
    factory's state under ``"state"``), and the attributes it names: the speed (a source speed,
    or the target domain's) and the load."""
    sessions, weights = unit["sessions"][domain]
    states, state_weights = factory["states"]
    session = {
        **sessions[rng.choice(len(sessions), p=weights[split])],
        "state": states[rng.choice(len(states), p=state_weights[split])],
    }
    return session, {"spd": f"{session['spd']:.2f}", "load": str(session["load"])}


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
    realism="clean",
    snr_db=None,
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

    ``realism="factory"`` records the machine as MIMII and DCASE record theirs: the sections are
    separate physical units of one product model, each with its own build (a speed within a few
    percent of the model's, its own harmonic balance, resonances, noise and rhythm) and its own
    normal wear (rubbing, knocks of a loose part, an unbalance that modulates the sound) of its
    own character, in which units differ most: how much of its rubbing comes in bursts rather
    than as a steady hiss, which of two modes its knocks ring in, how deeply its unbalance
    modulates. Each unit is recorded in sessions (16 in the source domain, 2 in the target
    domain, some rare), each one operating condition, the attributes ``spd`` (one of 0.94 / 1.00
    / 1.06 in the source domain, a speed 12-20 % away in the target domain) and ``load`` (1-3:
    harmonic balance and noise), and one state of the machine (its harmonic balance and noise).
    The factory's sound is mixed in as MIMII mixes its factory recordings, from one set of 16
    states shared by all units (some rare), at the machine's SNR (one of MIMII's -6, 0 and 6 dB,
    drawn with the machine, or ``snr_db``) +-3 dB per state and +-0.5 dB per clip: a noise bed of slowly
    varying level and of its state's colour (each state a recording of its own: a smooth gain
    over log frequency, 6 dB per knot), other machines that run or not, and intermittent events
    that are not anomalies (impacts, hiss of air, beeps, an engine passing) from the factory's
    own eight sources, more or fewer per state. Clips of one session are near-duplicates, clips
    of two sessions are not; the training and the test clips come from the same sessions and
    states in shares of their own (a session frequent in training may be rare at test time).
    Levels are those of the normal machine (within +-0.3 dB per clip: real clips of a section
    spread 0.1-0.2 dB), so an anomaly that adds sound makes the clip louder, as on real
    machines. The anomalies are applied to the machine before the mixing. Clicks, friction and
    modulation change the character of the unit's wear toward that of the other units (its
    knocks' power into the other mode, its rubbing from hiss into bursts or back, its unbalance
    deeper or shallower: at ``severity=0.3`` a share moves 5 logits across one half, and the
    knocks and the rubbing get 1.25 times louder; both scale with ``severity``), as the real
    slider's faults move an ID toward the others; the other kinds are the clean machine's, ten
    times as strong at the same ``severity`` (they must stand out of a unit's normal variability
    and of the factory's noise).
    ``benchmarks/README`` measures both settings against real recordings.

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
    realism : {"clean", "factory"}, default="clean"
        ``"clean"``: one unit per machine, sections a few percent apart in speed, a quiet
        steady background (the data set of the examples and tests so far); ``"factory"``:
        separate units in a factory, per-clip attributes and SNR (above).
    snr_db : float or None, default=None
        With ``realism="factory"``, the machine's mixing level in dB (the machine's power over
        the factory's, before each state's +-3 dB and each clip's +-0.5 dB); ``None`` draws one
        of MIMII's -6, 0 and 6 dB with the machine. The machine's other draws do not depend on
        it: one ``random_state`` at two levels is one machine in a quieter or a louder factory.
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
    if realism not in ("clean", "factory"):
        raise ValueError(f"realism must be 'clean' or 'factory', got {realism!r}.")
    if snr_db is not None:
        if realism != "factory":
            raise ValueError(f"snr_db applies to realism='factory' only, got realism={realism!r}.")
        if isinstance(snr_db, bool) or not isinstance(snr_db, Real) or not np.isfinite(snr_db):
            raise ValueError(f"snr_db must be a finite number of dB or None, got {snr_db!r}.")
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
    machine = (_design_machine if realism == "clean" else _design_factory)(rng, n_sections, sr)
    if snr_db is not None:
        machine["factory"]["snr_db"] = float(snr_db)
    if isinstance(random_state, Integral):
        clip_rng = np.random.default_rng([int(random_state), _SPLIT_CODES[split]])
    else:
        clip_rng = np.random.default_rng(rng.randint(0, 2**31 - 1))

    n = int(round(duration * sr))
    waves, rows = [], []
    index = 0
    units = machine["sections"] if realism == "clean" else machine["units"]
    for s, sec in enumerate(units):
        for domain in domains:
            kinds = [""] * normal_counts[domain] + list(
                clip_rng.choice(anomaly_kinds, anomalous_counts[domain])
            )
            for kind in kinds:
                if realism == "clean":
                    speed = sec["target_speed"] if domain == "target" else 1.0
                    attributes = {"spd": f"{speed:.2f}"}
                    wave = _synthesize(clip_rng, machine, sec, domain, kind or None, severity, sr, n)
                else:
                    session, attributes = _factory_session(clip_rng, sec, machine["factory"], domain, split)
                    wave = _synthesize_factory(
                        clip_rng, sec, machine["factory"], session, kind or None, severity, sr, n
                    )
                waves.append(wave)
                label = "anomaly" if kind else "normal"
                section = f"section_{s:02d}"
                pairs = "".join(f"_{key}_{value}" for key, value in attributes.items())
                rows.append(
                    {
                        "section": section,
                        "domain": domain,
                        "anomaly": int(bool(kind)),
                        "kind": kind,
                        "attributes": attributes,
                        "filename": f"{section}_{domain}_{split}_{label}_{index:04d}{pairs}.wav",
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


def save_machine_sounds(data, root, machine="synthetic", *, overwrite=False):
    """Write generated clips in the DCASE 2023/2024 folder layout, with the attribute CSV files.

    ``root/<machine>/train/`` and ``root/<machine>/test/`` hold one 16-bit WAV file per clip,
    named as ``data.filenames`` (DCASE's ``section_XX_<domain>_<split>_<label>_<index>_<key>_<value>...``
    scheme), and ``root/<machine>/attributes_XX.csv`` lists each section's files with their
    attributes (``file_name,d1p,d1v,d2p,d2v,...``), as DCASE 2023-2024 ship them.
    :func:`load_dcase` and the command line read the result like a downloaded machine type.

    Parameters
    ----------
    data : Bunch or sequence of Bunch
        What :func:`make_machine_sounds` returns (a training and a test part, say).
    root : str or path-like
        The data root to write into (created if needed).
    machine : str, default="synthetic"
        The machine type: the folder name under ``root``.
    overwrite : bool, default=False
        Replace files that exist; otherwise an existing file is an error.

    Returns
    -------
    machine_dir : Path
        ``root/<machine>``.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_asd.datasets import load_dcase, make_machine_sounds, save_machine_sounds
    >>> kw = dict(n_sections=1, duration=0.5, realism="factory", random_state=0)
    >>> train = make_machine_sounds(n_normal=2, split="train", **kw)
    >>> test = make_machine_sounds(n_normal=1, n_anomalous=1, **kw)
    >>> root = tempfile.mkdtemp()
    >>> folder = save_machine_sounds([train, test], root)
    >>> sorted(p.name for p in folder.iterdir())
    ['attributes_00.csv', 'test', 'train']
    >>> back = load_dcase(root, "synthetic", "test")
    >>> len(back.X), int(back.anomaly.sum()), sorted(back.attributes[0])
    (4, 2, ['load', 'spd'])
    """
    import csv
    from pathlib import Path

    import soundfile as sf

    parts = [data] if isinstance(data, Bunch) else list(data)
    machine_dir = Path(root) / machine
    rows = {}
    for part in parts:
        for x, name, split, section, attributes in zip(
            part.X, part.filenames, part.split, part.section, part.attributes, strict=True
        ):
            folder = machine_dir / str(split)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / str(name)
            if path.exists() and not overwrite:
                raise FileExistsError(f"{path} exists: pass overwrite=True to replace it.")
            sf.write(path, np.asarray(x), int(part.sr), subtype="PCM_16")
            pairs = [item for kv in attributes.items() for item in kv]
            rows.setdefault(str(section), []).append([f"{machine}/{split}/{name}", *pairs])
    for section, lines in rows.items():
        number = section.rsplit("_", 1)[-1]
        width = max(len(line) for line in lines) - 1
        header = ["file_name"] + [f"d{i // 2 + 1}{'pv'[i % 2]}" for i in range(width)]
        with open(machine_dir / f"attributes_{number}.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(line + [""] * (width + 1 - len(line)) for line in lines)
    return machine_dir
