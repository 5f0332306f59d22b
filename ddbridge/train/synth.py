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

from ddbridge.errors import BadRequest

CATEGORIES = ("kick", "snare", "hat_closed", "hat_open", "clap", "tom", "perc", "bass", "pluck")
PEAK = 10 ** (-1.0 / 20)  # -1 dBFS headroom
# Square-wave partials of the classic analogue hi-hat (Hz), scaled per hit.
HAT_PARTIALS = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)


def render(category: str, seed: int, sample_rate: int = 44100, seconds: float = 1.0) -> np.ndarray:
    """One stereo hit as float32 ``[2, L]``, peak-normalized to -1 dBFS; the same seed gives the same hit."""
    check_categories([category])
    if sample_rate < 4000 or not seconds > 0:
        raise BadRequest(f"need sample_rate >= 4000 and seconds > 0, got {sample_rate} and {seconds}")
    n = max(1, int(round(seconds * sample_rate)))
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFF, CATEGORIES.index(category)])
    t = np.arange(n) / sample_rate
    audio = _VOICES[category](rng, t, sample_rate)
    audio *= _fade_out(n, sample_rate)
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


def _fade_out(n: int, sample_rate: int, ms: float = 5.0) -> np.ndarray:
    m = min(n, max(1, int(sample_rate * ms / 1000)))
    env = np.ones(n)
    env[n - m :] = np.linspace(1.0, 0.0, m)
    return env


def _stereo(mono: np.ndarray) -> np.ndarray:
    return np.stack([mono, mono])


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


def _kick(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f_end = rng.uniform(45, 80)
    phase = _sweep(t, f_end * rng.uniform(2.5, 6.0), f_end, rng.uniform(0.01, 0.05))
    body = np.sin(phase) * _decay(t, rng.uniform(0.06, 0.22))
    body = np.tanh(rng.uniform(1.0, 3.0) * body)
    click = _band(rng.standard_normal(len(t)), sr, rng.uniform(1500, 3000), None) * _decay(t, rng.uniform(0.001, 0.004))
    return _stereo(body + rng.uniform(0.1, 0.5) * click)


def _snare(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f = rng.uniform(150, 260)
    tone_env = _decay(t, rng.uniform(0.03, 0.1))
    tone = (np.sin(_sweep(t, f * 1.3, f, 0.01)) + 0.5 * np.sin(_sweep(t, f * 2.4, f * 1.87, 0.01))) * tone_env
    low = rng.uniform(800, 2000)
    noise = _band(_noise(rng, len(t), rng.uniform(0.05, 0.3)), sr, low, low * rng.uniform(3, 7))
    noise *= _decay(t, rng.uniform(0.06, 0.18)) / (np.abs(noise).max() + 1e-9)
    return rng.uniform(0.3, 0.8) * _stereo(tone) + noise


def _metal(rng: np.random.Generator, t: np.ndarray, sr: int, tau: float) -> np.ndarray:
    scale = rng.uniform(1.0, 2.2)
    metal = sum(np.sign(np.sin(2 * np.pi * f * scale * t + rng.uniform(0, 2 * np.pi))) for f in HAT_PARTIALS)
    metal = _band(_stereo(metal), sr, rng.uniform(6000, 8000), None, order=4)
    metal /= np.abs(metal).max() + 1e-9
    noise = _band(_noise(rng, len(t), rng.uniform(0.1, 0.4)), sr, rng.uniform(5000, 9000), None, order=4)
    noise /= np.abs(noise).max() + 1e-9
    mix = rng.uniform(0.3, 0.7)
    attack = np.minimum(t / 0.0005, 1.0)
    return (mix * metal + (1 - mix) * noise) * _decay(t, tau) * attack


def _hat_closed(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    return _metal(rng, t, sr, rng.uniform(0.008, 0.03))


def _hat_open(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    return _metal(rng, t, sr, rng.uniform(0.12, 0.35))


def _clap(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    env = np.zeros_like(t)
    start = 0.0
    for _ in range(int(rng.integers(3, 6))):
        env += np.where(t >= start, _decay(np.maximum(t - start, 0), rng.uniform(0.002, 0.005)), 0.0)
        start += rng.uniform(0.006, 0.014)
    start -= 0.01
    env += 0.5 * np.where(t >= start, _decay(np.maximum(t - start, 0), rng.uniform(0.05, 0.15)), 0.0)
    centre = rng.uniform(900, 2200)
    noise = _band(_noise(rng, len(t), rng.uniform(0.1, 0.35)), sr, centre / 1.6, centre * 1.6)
    return noise * env


def _tom(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f = rng.uniform(90, 280)
    body = np.sin(_sweep(t, f * rng.uniform(1.2, 1.6), f, rng.uniform(0.03, 0.1))) * _decay(t, rng.uniform(0.08, 0.25))
    hit = _band(rng.standard_normal(len(t)), sr, 500, 4000) * _decay(t, 0.005)
    mono = body + rng.uniform(0.05, 0.2) * hit
    pan = rng.uniform(-0.25, 0.25)
    return np.stack([mono * (1 - pan), mono * (1 + pan)])


def _perc(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f = rng.uniform(400, 1800)
    ratio = rng.uniform(1.4, 2.9)
    tau = rng.uniform(0.008, 0.04)
    tone = (np.sin(2 * np.pi * f * t) + 0.6 * np.sin(2 * np.pi * f * ratio * t)) * _decay(t, tau)
    click = _band(rng.standard_normal(len(t)), sr, 2000, 9000) * _decay(t, 0.002)
    mono = tone + rng.uniform(0.1, 0.5) * click
    pan = rng.uniform(-0.4, 0.4)
    return np.stack([mono * (1 - pan), mono * (1 + pan)])


def _bass(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f = rng.uniform(32, 58)
    phase = _sweep(t, f * rng.uniform(1.3, 2.2), f, rng.uniform(0.02, 0.08))
    env = _decay(t, rng.uniform(0.5, 1.5)) * np.minimum(t / 0.002, 1.0)
    drive = rng.uniform(1.5, 4.0)
    return _stereo(np.tanh(drive * np.sin(phase) * env) / np.tanh(drive))


def _pluck(rng: np.random.Generator, t: np.ndarray, sr: int) -> np.ndarray:
    f = 130.81 * 2 ** (rng.integers(0, 36) / 12)  # C3 to B5
    detune = 2 ** (rng.uniform(-8, 8) / 1200)
    brightness = rng.uniform(4, 20)
    tau = rng.uniform(0.08, 0.4)
    chans = []
    for g in (1.0, detune):
        out = np.zeros_like(t)
        for k in range(1, max(2, min(40, int(0.45 * sr / (f * g))))):
            rate = 1 / tau + brightness * (k - 1)
            m = min(len(t), int(9.2 / rate * sr) + 1)  # until the partial is 80 dB down
            out[:m] += np.sin(2 * np.pi * f * g * k * t[:m]) / k * np.exp(-t[:m] * rate)
        chans.append(out)
    return np.stack(chans) * np.minimum(t / 0.001, 1.0)


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
}
