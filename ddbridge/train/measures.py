"""Per-hit sound measures that the real-drum eval reports: tail level, energy above 8 kHz, spectral centroid."""

from __future__ import annotations

import numpy as np

FLOOR_DB = -200.0  # what digital silence reads as (finite, so that reports stay valid JSON)
TAIL_WINDOW_S = (0.1, 0.05)  # the tail is the stretch from 100 ms to 50 ms before the end
HIGH_BAND_HZ = 8000.0


def _mono(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float64)
    return x.mean(axis=0) if x.ndim == 2 else x


def _db(ratio: float) -> float:
    return max(10 * np.log10(ratio), FLOOR_DB) if ratio > 0 else FLOOR_DB


def tail_db(audio: np.ndarray, sample_rate: int, ignore_offset: bool = False) -> float:
    """RMS level of the tail (see ``TAIL_WINDOW_S``) relative to the peak sample, in dB; with
    ``ignore_offset``, of the tail less its own mean, so that a constant offset does not count."""
    x = _mono(audio)
    peak = float(np.abs(x).max(initial=0.0))
    start, stop = (len(x) - int(round(s * sample_rate)) for s in TAIL_WINDOW_S)
    tail = x[max(0, start) : max(1, stop)]
    if ignore_offset:
        tail = tail - tail.mean()
    return _db(float(np.mean(tail**2)) / peak**2) if peak > 0 else FLOOR_DB


def high_band_share(audio: np.ndarray, sample_rate: int, cutoff_hz: float = HIGH_BAND_HZ) -> float:
    """Share of the hit's energy above ``cutoff_hz`` (0..1)."""
    x = _mono(audio)
    power = np.abs(np.fft.rfft(x)) ** 2
    total = power.sum()
    freqs = np.fft.rfftfreq(len(x), 1 / sample_rate)
    return float(power[freqs > cutoff_hz].sum() / total) if total > 0 else 0.0


def spectral_centroid(audio: np.ndarray, sample_rate: int) -> float:
    """Energy-weighted mean frequency of the whole hit, in Hz."""
    x = _mono(audio)
    power = np.abs(np.fft.rfft(x)) ** 2
    total = power.sum()
    return float((np.fft.rfftfreq(len(x), 1 / sample_rate) * power).sum() / total) if total > 0 else 0.0
