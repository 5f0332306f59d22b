"""Procedural drum one-shots: a labelled, seeded data set for training and evaluation.

Every category draws its parameters (pitch, decays, filter bands, drive, stereo width) from wide
ranges with a generator seeded by ``(seed, category)``, so ``render`` is deterministic per seed and
seeds give varied but recognisable hits. Only numpy and scipy are used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from ddbridge.categories import CATEGORIES
from ddbridge.protocol.errors import BadRequest

PEAK = 10 ** (-1.0 / 20)  # -1 dBFS headroom
# Square-wave partials of the classic analogue hi-hat (Hz), scaled per hit.
HAT_PARTIALS = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)
# Overtone ratios of a circular drum head, re its fundamental.
MEMBRANE_MODES = (1.59, 2.14, 2.3, 2.65)
# Every hit fades out over this share of its window and is digital silence for the last SILENCE of it.
RELEASE, SILENCE = 0.13, 0.02
# Ranges (seconds, Hz) tuned so that the medians of 44.1 kHz renders (spectral centroid, energy above
# 8 kHz and below 200 Hz, time to -60 dB, level over time) sit near those of real one-shots.
KICK_TAU = (0.045, 0.11)  # the body's tail, after a punch that dies within tens of milliseconds
HAT_BODY = (0.05, 0.3)  # level of the stick-and-shell noise below a hat's metallic band
HC_LOW, HC_HIGH, HC_TAU = (3000, 8000), (12000, 20000), (0.02, 0.065)
HO_LOW, HO_HIGH, HO_TAU = (2500, 7000), (10000, 18000), (0.12, 0.3)
CLAP_TAU = (0.015, 0.06)
TOM_TAU = (0.12, 0.35)
PERC_TAU = (0.02, 0.2)
BASS_LENGTH = (0.15, 0.5)  # the note is held this long, then released
PLUCK_TAU, PLUCK_LENGTH = (0.2, 0.6), (0.3, 0.6)
# An 808 rings for the whole window it is asked for: its decay is this share of the window (e-folding time).
SUB_TAU = (0.15, 0.6)


def render(category: str, seed: int, sample_rate: int = 44100, seconds: float = 1.0) -> np.ndarray:
    """One stereo hit as float32 ``[2, L]``, peak-normalized to -1 dBFS; the same seed gives the same hit."""
    check_categories([category])
    if sample_rate < 4000 or not seconds > 0:
        raise BadRequest(f"need sample_rate >= 4000 and seconds > 0, got {sample_rate} and {seconds}")
    n = max(1, int(round(seconds * sample_rate)))
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFF, CATEGORIES.index(category)])
    t = np.arange(n) / sample_rate
    audio = _VOICES[category](rng, t, sample_rate)
    audio *= _release(n)
    peak = np.abs(audio).max()
    if peak > 0:
        audio *= PEAK / peak
    return audio.astype(np.float32)


def check_categories(categories: Iterable[str]) -> list[str]:
    """``categories`` as a list, or BadRequest naming the first unknown one."""
    categories = list(categories)
    for c in categories:
        if c not in _VOICES:
            raise BadRequest(f"unknown drum category '{c}'; choose from: {', '.join(CATEGORIES)}")
    return categories


def write_dataset(
    out: str | Path,
    per_category: int,
    seed: int = 0,
    categories: Iterable[str] = CATEGORIES,
    sample_rate: int = 44100,
    seconds: float = 1.0,
    bit_depth: int = 24,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write ``out/<category>/<category>_<i>.wav`` for i < per_category (hit i uses seed ``seed + i``).

    ``progress(done, total)`` is called after each file. Returns the written paths.
    """
    categories = check_categories(categories)
    if per_category < 1:
        raise BadRequest(f"per_category must be >= 1, got {per_category}")
    subtype = {16: "PCM_16", 24: "PCM_24"}.get(bit_depth)
    if subtype is None:
        raise BadRequest(f"bit depth must be 16 or 24, got {bit_depth}")
    paths, total = [], per_category * len(categories)
    for c in categories:
        folder = Path(out) / c
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_category):
            path = folder / f"{c}_{i}.wav"
            sf.write(path, render(c, seed + i, sample_rate, seconds).T, sample_rate, subtype=subtype)
            paths.append(path)
            if progress is not None:
                progress(len(paths), total)
    return paths


def _release(n: int) -> np.ndarray:
    """Ones, then a half-cosine fade over ``RELEASE`` of the window, then exact zeros for its last ``SILENCE``.

    Every hit thus ends in digital silence inside its window, whatever its voice's decay."""
    silent = int(n * SILENCE)
    fade = max(1, int(round(n * RELEASE)))
    env = np.ones(n)
    env[max(0, n - silent - fade) : n - silent] = 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, fade))[-(n - silent) :]
    env[n - silent :] = 0.0
    return env


def _stereo(mono: np.ndarray) -> np.ndarray:
    return np.stack([mono, mono])


def _pan(mono: np.ndarray, pan: float) -> np.ndarray:
    return np.stack([mono * (1 - pan), mono * (1 + pan)])


def _noise(rng: np.random.Generator, n: int, width: float) -> np.ndarray:
    """Stereo white noise whose channels share ``1 - width`` of their signal."""
    mid, left, right = rng.standard_normal((3, n))
    return np.stack([(1 - width) * mid + width * left, (1 - width) * mid + width * right])


def _band(x: np.ndarray, sample_rate: int, low: float | None, high: float | None, order: int = 2) -> np.ndarray:
    """Butterworth band/high/low-pass along the last axis; edges are kept inside (0, Nyquist)."""
    nyq = sample_rate / 2
    low = None if low is None else min(max(low, 10.0), 0.9 * nyq)
    high = None if high is None or high >= 0.95 * nyq else high
    if low is not None and high is not None and high > low * 1.05:
        sos = signal.butter(order, [low, high], btype="bandpass", fs=sample_rate, output="sos")
    elif low is not None:
        sos = signal.butter(order, low, btype="highpass", fs=sample_rate, output="sos")
    elif high is not None:
        sos = signal.butter(order, high, btype="lowpass", fs=sample_rate, output="sos")
    else:
        return x
    return signal.sosfilt(sos, x, axis=-1)


def _sweep(t: np.ndarray, f_start: float, f_end: float, tau: float) -> np.ndarray:
    """Phase (radians) of a tone gliding exponentially from f_start to f_end with time constant tau."""
    freq = f_end + (f_start - f_end) * np.exp(-t / tau)
    dt = t[1] - t[0] if len(t) > 1 else 1.0
    return 2 * np.pi * np.cumsum(freq) * dt


def _decay(t: np.ndarray, tau: float) -> np.ndarray:
    return np.exp(-t / tau)


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.abs(x).max() + 1e-9)


def _kick(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f_end = _log_uniform(rng, 40, 75)
    phase = _sweep(t, f_end * rng.uniform(1.5, 3.5), f_end, _log_uniform(rng, 0.01, 0.04))
    punch = rng.uniform(0.3, 0.6)  # the share of the body that dies within the first tens of milliseconds
    env = punch * _decay(t, _log_uniform(rng, 0.01, 0.03)) + (1 - punch) * _decay(t, _log_uniform(rng, *KICK_TAU))
    drive = rng.uniform(1.0, 1.8)
    body = np.tanh(drive * np.sin(phase) * env) / np.tanh(drive)
    click = _unit(_band(rng.standard_normal(len(t)), sr, _log_uniform(rng, 600, 1500), _log_uniform(rng, 3000, 8000)))
    click *= _decay(t, _log_uniform(rng, 0.004, 0.015))
    return _stereo(body + rng.uniform(0.1, 0.5) * click)


def _snare(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f = _log_uniform(rng, 120, 220)
    tone = np.sin(_sweep(t, f * 1.4, f, 0.01)) + 0.5 * np.sin(_sweep(t, f * 2.4, f * 1.87, 0.01))
    tone *= _decay(t, _log_uniform(rng, 0.03, 0.12))
    low = _log_uniform(rng, 200, 900)
    noise = _unit(_band(_noise(rng, len(t), rng.uniform(0.05, 0.3)), sr, low, low * rng.uniform(4, 12)))
    noise *= _decay(t, _log_uniform(rng, 0.04, 0.12))
    return rng.uniform(0.2, 0.8) * _stereo(_unit(tone)) + noise


def _metal(rng: np.random.Generator, t: np.ndarray, sr: int, low: float, high: float, tau: float) -> np.ndarray:
    """Square-wave partials and noise, band-passed between ``low`` and ``high`` Hz, decaying with ``tau``."""
    scale = rng.uniform(1.0, 2.2)
    metal = sum(np.sign(np.sin(2 * np.pi * f * scale * t + rng.uniform(0, 2 * np.pi))) for f in HAT_PARTIALS)
    metal = _unit(_band(_stereo(metal), sr, low, high))
    noise = _unit(_band(_noise(rng, len(t), rng.uniform(0.1, 0.4)), sr, low, high))
    body = _unit(_band(_noise(rng, len(t), 0.2), sr, _log_uniform(rng, 100, 300), _log_uniform(rng, 1500, 5000)))
    mix = rng.uniform(0.3, 0.7)
    shell = mix * metal + (1 - mix) * noise + _log_uniform(rng, *HAT_BODY) * body
    attack = np.minimum(t / _log_uniform(rng, 0.0005, 0.005), 1.0)
    return shell * _decay(t, tau) * attack


def _hat_closed(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    low = _log_uniform(rng, *HC_LOW)
    return _metal(rng, t, sr, low, _log_uniform(rng, *HC_HIGH), _log_uniform(rng, *HC_TAU))


def _hat_open(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    low = _log_uniform(rng, *HO_LOW)
    return _metal(rng, t, sr, low, _log_uniform(rng, *HO_HIGH), _log_uniform(rng, *HO_TAU))


def _clap(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    env = np.zeros_like(t)
    start = 0.0
    for _ in range(int(rng.integers(3, 6))):
        env += np.where(t >= start, _decay(np.maximum(t - start, 0), rng.uniform(0.002, 0.005)), 0.0)
        start += rng.uniform(0.006, 0.014)
    start -= 0.01
    env += 0.5 * np.where(t >= start, _decay(np.maximum(t - start, 0), _log_uniform(rng, *CLAP_TAU)), 0.0)
    centre = _log_uniform(rng, 550, 1400)
    noise = _band(_noise(rng, len(t), rng.uniform(0.1, 0.35)), sr, centre / 1.8, centre * 3.0)
    return noise * env


def _tom(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f = _log_uniform(rng, 65, 200)
    phase = _sweep(t, f * rng.uniform(1.2, 1.6), f, rng.uniform(0.03, 0.1))
    tau = _log_uniform(rng, *TOM_TAU)
    body = np.sin(phase) * _decay(t, tau)
    for ratio in MEMBRANE_MODES:  # higher modes of the drum head, each dying faster
        body += rng.uniform(0.1, 0.6) * np.sin(ratio * phase) * _decay(t, tau / (ratio * rng.uniform(1.0, 3.0)))
    hit = _unit(_band(rng.standard_normal(len(t)), sr, 300, _log_uniform(rng, 4000, 10000)))
    hit *= _decay(t, _log_uniform(rng, 0.005, 0.03))
    return _pan(body + rng.uniform(0.2, 0.8) * hit, rng.uniform(-0.25, 0.25))


def _perc(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f = _log_uniform(rng, 200, 3000)
    ratio = rng.uniform(1.4, 2.9)
    tone = np.sin(2 * np.pi * f * t) + 0.6 * np.sin(2 * np.pi * f * ratio * t)
    tone *= _decay(t, _log_uniform(rng, *PERC_TAU))
    low = _log_uniform(rng, 1500, 6000)  # a shaken or scraped noise part, from a click to a shaker
    rattle = _unit(_band(rng.standard_normal(len(t)), sr, low, 3 * low)) * _decay(t, _log_uniform(rng, 0.002, 0.06))
    return _pan(_unit(tone) + rng.uniform(0.1, 1.0) * rattle, rng.uniform(-0.4, 0.4))


def _bass(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f = 41.2 * 2 ** (rng.integers(0, 25) / 12)  # E1 to E3
    phase = _sweep(t, f * rng.uniform(1.0, 1.3), f, 0.02)
    length = rng.uniform(*BASS_LENGTH)
    env = np.minimum(t / 0.003, 1.0) * _decay(t, rng.uniform(0.3, 1.2)) * _decay(np.maximum(t - length, 0), 0.03)
    drive = _log_uniform(rng, 1.5, 10.0)
    tone = np.tanh(drive * (np.sin(phase) + rng.uniform(0.0, 1.0) * np.sin(2 * phase)) * env) / np.tanh(drive)
    return _stereo(_band(tone, sr, 30, _log_uniform(rng, 500, 5000)))


def _pluck(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f = 130.81 * 2 ** (rng.integers(7, 40) / 12)  # G3 to D#6
    detune = 2 ** (rng.uniform(-8, 8) / 1200)
    brightness = _log_uniform(rng, 1, 12)
    tau = _log_uniform(rng, *PLUCK_TAU)
    release = _decay(np.maximum(t - rng.uniform(*PLUCK_LENGTH), 0), _log_uniform(rng, 0.05, 0.2))
    chans = []
    for g in (1.0, detune):
        out = np.zeros_like(t)
        for k in range(1, max(2, min(40, int(0.45 * sr / (f * g))))):
            rate = 1 / tau + brightness * (k - 1)
            m = min(len(t), int(9.2 / rate * sr) + 1)  # until the partial is 80 dB down
            out[:m] += np.sin(2 * np.pi * f * g * k * t[:m]) / k**1.3 * np.exp(-t[:m] * rate)
        chans.append(out)
    return np.stack(chans) * np.minimum(t / _log_uniform(rng, 0.001, 0.012), 1.0) * release


def _808(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    """A long sine-like sub (C1 to C3) that glides down onto its note, a click on top, often driven into harmonics."""
    f = 32.70 * 2 ** (rng.integers(0, 25) / 12)
    phase = _sweep(t, f * rng.uniform(1.0, 3.0), f, _log_uniform(rng, 0.005, 0.03))
    env = np.minimum(t / _log_uniform(rng, 0.001, 0.004), 1.0) * _decay(t, len(t) / sr * rng.uniform(*SUB_TAU))
    drive = _log_uniform(rng, 1.0, 6.0)
    tone = np.tanh(drive * np.sin(phase) * env) / np.tanh(drive)
    click = _unit(_band(rng.standard_normal(len(t)), sr, _log_uniform(rng, 1000, 3000), None))
    click *= _decay(t, _log_uniform(rng, 0.001, 0.004))
    return _stereo(_band(tone + rng.uniform(0.0, 0.3) * click, sr, 20, _log_uniform(rng, 3000, 9000)))


_VOICES = {
    "kick": _kick,
    "snare": _snare,
    "hat_closed": _hat_closed,
    "hat_open": _hat_open,
    "clap": _clap,
    "tom": _tom,
    "perc": _perc,
    "bass": _bass,
    "pluck": _pluck,
    "808": _808,
}
