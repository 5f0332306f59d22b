"""How clearly a sound has a pitch, and which: the normalised autocorrelation of the stretch 50-350 ms after
its onset, over periods of 30-1000 Hz. The eval reads the clarity (``periodicity``), tuning the period
(``pitch_period``); both come from one ``autocorrelation_peak``."""

from __future__ import annotations

import numpy as np
from scipy import fft

PITCH_WINDOW_S = (0.05, 0.35)  # read 50 to 350 ms after the onset
PITCH_RANGE_HZ = (30.0, 1000.0)
ONSET_DB = -20.0  # the onset is the first sample this close to the peak
NEAR_PEAK = 0.9  # the period is the first local maximum reaching this share of the highest one


def mono(audio: np.ndarray) -> np.ndarray:
    """``[C, L]`` or ``[L]`` audio as float64 mono ``[L]``."""
    x = np.asarray(audio, dtype=np.float64)
    return x.mean(axis=0) if x.ndim == 2 else x


def onset(audio: np.ndarray) -> int:
    """Index of the first sample within ``ONSET_DB`` of the peak (0 for silence)."""
    x = np.abs(mono(audio))
    peak = float(x.max(initial=0.0))
    return int(np.argmax(x >= peak * 10 ** (ONSET_DB / 20))) if peak > 0 else 0


def autocorrelation_peak(
    audio: np.ndarray,
    sample_rate: int,
    window_s: tuple[float, float] = PITCH_WINDOW_S,
    range_hz: tuple[float, float] = PITCH_RANGE_HZ,
) -> tuple[float, float]:
    """(clarity, period): the peak of the normalised autocorrelation of the stretch ``window_s`` after the
    onset, over the periods of ``range_hz``, past its first zero crossing (low-passed noise, which
    correlates with itself at short lags, does not count); and the period in samples, between samples,
    of the first local maximum within ``NEAR_PEAK`` of that peak (so a tone does not read an octave low).
    Clarity is about 1 for a steady or decaying tone, under 0.5 for noise; silence reads (0, 0). Each lag
    is normalised by the energies of the two stretches it compares, so a decay does not lower it."""
    x = mono(audio)
    start = onset(x)
    seg = x[start + int(window_s[0] * sample_rate) : start + int(window_s[1] * sample_rate)]
    seg = seg - seg.mean() if len(seg) else seg
    n = len(seg)
    lo, hi = int(np.ceil(sample_rate / range_hz[1])), min(int(sample_rate / range_hz[0]), n // 2)
    if hi <= lo or not np.any(seg):
        return 0.0, 0.0
    spectrum = fft.rfft(seg, fft.next_fast_len(2 * n))
    ac = fft.irfft(np.abs(spectrum) ** 2)[: hi + 2]
    energy = np.concatenate([[0.0], np.cumsum(seg**2)])
    lags = np.arange(len(ac))
    head, tail = energy[n - lags], energy[n] - energy[lags]  # energies of seg[:n - lag] and seg[lag:]
    r = ac / np.sqrt(np.maximum(head * tail, 1e-30))
    negative = np.nonzero(r[1:] < 0)[0]
    first = max(lo, int(negative[0]) + 1) if len(negative) else hi + 1
    if first > hi:
        return 0.0, 0.0
    clarity = float(np.clip(r[first : hi + 1].max(), 0.0, 1.0))
    lag = first + int(np.argmax(r[first : hi + 1] >= NEAR_PEAK * r[first : hi + 1].max()))
    while lag < hi and r[lag + 1] > r[lag]:  # climb to that local maximum
        lag += 1
    return clarity, lag + _vertex(r[lag - 1], r[lag], r[lag + 1])


def periodicity(audio: np.ndarray, sample_rate: int, **window: tuple[float, float]) -> float:
    """How clearly ``audio`` has a pitch (``autocorrelation_peak``'s clarity, 0..1)."""
    return autocorrelation_peak(audio, sample_rate, **window)[0]


def _vertex(left: float, centre: float, right: float) -> float:
    """The offset (-0.5..0.5) of the top of the parabola through three equally spaced points."""
    curve = left - 2 * centre + right
    return float(np.clip(0.5 * (left - right) / curve, -0.5, 0.5)) if curve < 0 else 0.0
