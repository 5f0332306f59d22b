"""Sound measures that the real-drum eval reports: per hit, tail level, energy above 8 kHz, spectral
centroid and periodicity (how clearly a note has a pitch); between hits, the normalised cross-correlation
(near-duplicates among seeds, copies of training hits)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import fft

from ddbridge.sound.pitch import mono

FLOOR_DB = -200.0  # what digital silence reads as (finite, so that reports stay valid JSON)
TAIL_WINDOW_S = (0.1, 0.05)  # the tail is the stretch from 100 ms to 50 ms before the end
HIGH_BAND_HZ = 8000.0
MAX_LAG_S = 0.05  # cross-correlations allow one hit to start up to 50 ms before or after the other


def _db(ratio: float) -> float:
    return max(10 * np.log10(ratio), FLOOR_DB) if ratio > 0 else FLOOR_DB


def tail_db(audio: np.ndarray, sample_rate: int, ignore_offset: bool = False) -> float:
    """RMS level of the tail (see ``TAIL_WINDOW_S``) relative to the peak sample, in dB; with
    ``ignore_offset``, of the tail less its own mean, so that a constant offset does not count."""
    x = mono(audio)
    peak = float(np.abs(x).max(initial=0.0))
    start, stop = (len(x) - int(round(s * sample_rate)) for s in TAIL_WINDOW_S)
    tail = x[max(0, start) : max(1, stop)]
    if ignore_offset:
        tail = tail - tail.mean()
    return _db(float(np.mean(tail**2)) / peak**2) if peak > 0 else FLOOR_DB


def high_band_share(audio: np.ndarray, sample_rate: int, cutoff_hz: float = HIGH_BAND_HZ) -> float:
    """Share of the hit's energy above ``cutoff_hz`` (0..1)."""
    x = mono(audio)
    power = np.abs(np.fft.rfft(x)) ** 2
    total = power.sum()
    freqs = np.fft.rfftfreq(len(x), 1 / sample_rate)
    return float(power[freqs > cutoff_hz].sum() / total) if total > 0 else 0.0


def spectral_centroid(audio: np.ndarray, sample_rate: int) -> float:
    """Energy-weighted mean frequency of the whole hit, in Hz."""
    x = mono(audio)
    power = np.abs(np.fft.rfft(x)) ** 2
    total = power.sum()
    return float((np.fft.rfftfreq(len(x), 1 / sample_rate) * power).sum() / total) if total > 0 else 0.0


def cross_correlations(
    a: Sequence[np.ndarray], b: Sequence[np.ndarray], sample_rate: int, max_lag_s: float = MAX_LAG_S
) -> np.ndarray:
    """``[len(a), len(b)]``: for each pair of mono hits, the largest absolute normalised cross-correlation
    (mean removed) at lags up to ``max_lag_s`` either way; 1 for a copy, shifted, scaled or inverted.
    Silent hits correlate 0 with everything."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    length = max(max(len(h) for h in a), max(len(h) for h in b))
    lag = int(max_lag_s * sample_rate)
    n = fft.next_fast_len(length + lag)

    def spectra(hits: Sequence[np.ndarray]) -> np.ndarray:
        x = np.zeros((len(hits), length))
        for row, h in zip(x, hits, strict=True):
            row[: len(h)] = mono(h)
        x -= x.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
        return fft.rfft(x, n, axis=1)

    fa, fb = spectra(a), spectra(b)
    out = np.empty((len(a), len(b)))
    chunk = max(1, 2**22 // n)
    for i, row in enumerate(fa):
        for j in range(0, len(fb), chunk):
            xc = fft.irfft(row[None] * np.conj(fb[j : j + chunk]), n, axis=1)
            near = np.concatenate([xc[:, : lag + 1], xc[:, n - lag :]], axis=1) if lag else xc[:, :1]
            out[i, j : j + chunk] = np.abs(near).max(axis=1)
    return out


def duplicate_share(hits: Sequence[np.ndarray], sample_rate: int, limit: float) -> float:
    """Share of the pairs of ``hits`` whose cross-correlation (``cross_correlations``) reaches ``limit``."""
    if len(hits) < 2:
        return 0.0
    xc = cross_correlations(hits, hits, sample_rate)
    return float(np.mean(xc[np.triu_indices(len(hits), k=1)] >= limit))
