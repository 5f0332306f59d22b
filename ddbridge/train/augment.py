"""Training-time variations of a one-shot: pitch, tilt, decay, choke, and a fade that ends it inside the window.

Every function takes and returns float32 ``[channels, n]`` audio and draws from the caller's
``numpy`` generator, so a training step's batch still depends only on its seed.
"""

from __future__ import annotations

import numpy as np
import soxr
from scipy import signal

PITCH_SEMITONES = 3.0
TILT_DB = 4.0
TILT_CORNER_HZ = 2000.0


def pitch(clip: np.ndarray, rng: np.random.Generator, rate: int, semitones: float = PITCH_SEMITONES) -> np.ndarray:
    """Shifted by up to ``semitones`` either way, as a sampler transposes (higher is shorter)."""
    ratio = 2.0 ** (rng.uniform(-semitones, semitones) / 12.0)
    shifted = soxr.resample(np.ascontiguousarray(clip.T), rate * ratio, rate, quality="HQ")
    return np.ascontiguousarray(shifted.T, dtype=np.float32)


def tilt(clip: np.ndarray, rng: np.random.Generator, rate: int, max_db: float = TILT_DB) -> np.ndarray:
    """Content above ``TILT_CORNER_HZ`` raised or lowered by up to ``max_db``."""
    pole = np.exp(-2 * np.pi * TILT_CORNER_HZ / rate)
    low = signal.lfilter([1 - pole], [1, -pole], clip, axis=-1)
    gain = 10 ** (rng.uniform(-max_db, max_db) / 20) - 1
    return (clip + gain * (clip - low)).astype(np.float32)


def shorten(clip: np.ndarray, rng: np.random.Generator, rate: int, tau: tuple[float, float]) -> np.ndarray:
    """An exponential decay (time constant drawn from ``tau``, seconds) applied from the peak on."""
    peak = int(np.argmax(np.abs(clip).max(axis=0)))
    t = np.maximum(np.arange(clip.shape[-1]) - peak, 0) / rate
    return (clip * np.exp(-t / rng.uniform(*tau))).astype(np.float32)


def choke(clip: np.ndarray, rng: np.random.Generator, rate: int) -> np.ndarray:
    """An open hat closed after 10-40 ms, as a drummer's foot does: the result is a closed hat."""
    hold = int(rng.uniform(0.01, 0.04) * rate)
    t = np.maximum(np.arange(clip.shape[-1]) - hold, 0) / rate
    return (clip * np.exp(-t / rng.uniform(0.012, 0.03))).astype(np.float32)


def end_in_window(window: np.ndarray, rate: int, start: float = 0.6, stop: float = 0.95) -> np.ndarray:
    """A raised-cosine fade from ``start`` to ``stop`` of the window, silence after: long sounds end inside it."""
    n = window.shape[-1]
    a, b = int(start * n), int(stop * n)
    if not np.any(window[:, a:]):
        return window
    env = np.ones(n, dtype=np.float32)
    env[a:b] = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, b - a, dtype=np.float32))
    env[b:] = 0.0
    return window * env


def vary(clip: np.ndarray, rng: np.random.Generator, rate: int) -> np.ndarray:
    """The usual mix for one item: always pitch and tilt, a shorter decay one time in four."""
    out = tilt(pitch(clip, rng, rate), rng, rate)
    if rng.random() < 0.25:
        out = shorten(out, rng, rate, (0.06, 0.5))
    return out
