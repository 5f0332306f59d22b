"""Which genre a loop's pattern is: sixteenth-grid onset features of its kick, snare and hat bands, and a
classifier fitted on labelled loops.

The features fold every bar of a loop onto one bar of 16 steps and, per band, take the onset envelope's
strongest value near each step (normalised to the band's strongest step), plus the log tempo and how
late the off-beat steps fall (swing). A house loop and a boom-bap loop differ in exactly these.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ddbridge.loops.rhythm import HOP, PART_BANDS, onset_envelope
from ddbridge.train.classifier import FeatureClassifier

STEPS = 16


def _folded(env: np.ndarray, bars: int) -> np.ndarray:
    """The envelope's bars averaged onto one bar (each bar resampled to the same number of frames)."""
    per_bar = max(env.size // bars, 1)
    grid = np.linspace(0, env.size, bars * per_bar, endpoint=False)
    return np.interp(grid, np.arange(env.size), env).reshape(bars, per_bar).mean(axis=0)


def _steps(bar: np.ndarray) -> tuple[np.ndarray, float]:
    """The strongest value within a third of a step of each sixteenth, and how late (in steps) the off-beat
    sixteenths peak on average."""
    n = bar.size
    step = n / STEPS
    values, lateness = np.zeros(STEPS), []
    for k in range(STEPS):
        idx = np.arange(round((k - 0.33) * step), round((k + 0.6) * step)) % n
        window = bar[idx]
        values[k] = window.max()
        if k % 2:
            lateness.append((int(np.argmax(window)) + round((k - 0.33) * step) - k * step) / step)
    top = values.max()
    return (values / top if top > 0 else values), float(np.mean(lateness))


def pattern_features(audio: np.ndarray, rate: int, bpm: float, bars: int) -> np.ndarray:
    """``[3 * 16 + 2]``: per band (kick, snare, hat) the step values of the folded bar, then log2 of the tempo
    over 120 BPM and the off-beat lateness of the hat band."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    rows, swing = [], 0.0
    for part, band in PART_BANDS.items():
        values, late = _steps(_folded(onset_envelope(x, rate, HOP, band), bars))
        rows.append(values)
        if part == "hat":
            swing = late
    return np.concatenate([*rows, [np.log2(bpm / 120.0), swing]])


def feature_matrix(loops: Sequence[tuple[np.ndarray, float, int]], rate: int) -> np.ndarray:
    """``[N, F]`` pattern features of ``(audio, bpm, bars)`` loops."""
    return np.stack([pattern_features(a, rate, bpm, bars) for a, bpm, bars in loops])


def fit_genre_judge(genres: Sequence[str], x: np.ndarray, labels: np.ndarray) -> FeatureClassifier:
    """A softmax classifier of ``genres`` fitted on pattern features ``x`` with genre indices ``labels``."""
    return FeatureClassifier(genres, l2=1e-2).fit(x, labels)
