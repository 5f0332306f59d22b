"""One hit's audio made ready for training: mono, onset at the start, clean tail, peak at -1 dBFS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 44100
PEAK = 10 ** (-1.0 / 20)  # -1 dBFS
SILENT_DB = -80.0  # a render whose peak stays below this (dBFS) is a key the kit lacks
ONSET_DB = -40.0  # the onset is where the level first reaches this much below the peak
PREROLL_MS = 2.0
FLOOR_DB = -90.0  # the tail is kept until it falls below this much below the peak ...
MAX_SECONDS = 2.0  # ... or for at most this long,
FADE_MS = 50.0  # with a half-cosine fade only where it had to be cut (at most a quarter of the hit),
ABRUPT_DB = -60.0  # which includes a recording or sample that stops while louder than this re its peak


@dataclass(frozen=True)
class RawHit:
    """An untrimmed render or file: ``audio`` ``[C, L]`` or ``[L]`` at ``SAMPLE_RATE``, with its label and origin.

    ``licence`` is set where it differs from the source's (hydrogen kits carry their own).
    """

    category: str
    kit: str
    what: str
    origin: str
    audio: np.ndarray
    licence: str | None = None


# A unit of work for the progress bar: a label and a function yielding that unit's hits.
Job = tuple[str, Callable[[], Iterator[RawHit]]]


@dataclass(frozen=True)
class Hit:
    """A labelled one-shot: ``audio`` is mono float32 at ``SAMPLE_RATE``, trimmed and normalised."""

    category: str
    source: str
    kit: str
    what: str
    licence: str
    origin: str
    audio: np.ndarray


def mono(audio: np.ndarray) -> np.ndarray:
    """Sum ``[C, L]`` (or ``[L]``) to one channel in float64; normalising afterwards keeps it from clipping."""
    a = np.asarray(audio, dtype=np.float64)
    return a.sum(axis=0) if a.ndim == 2 else a


def prepare(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray | None:
    """Mono, onset-trimmed, tail-trimmed, peak-normalised float32; None for a silent render.

    The clip starts ``PREROLL_MS`` before the first sample within ``ONSET_DB`` of the peak and ends
    at the last sample above ``FLOOR_DB`` re the peak, or ``MAX_SECONDS`` after its start, fading
    out where it had to be cut there or where the sound stops short while louder than ``ABRUPT_DB``.
    """
    x = mono(audio)
    if x.size == 0 or not np.isfinite(x).all():
        return None
    peak = float(np.abs(x).max())
    if peak < 10 ** (SILENT_DB / 20):
        return None
    level = np.abs(x)
    start = max(0, int(np.argmax(level >= peak * 10 ** (ONSET_DB / 20))) - int(PREROLL_MS * sample_rate / 1000))
    end = int(np.flatnonzero(level >= peak * 10 ** (FLOOR_DB / 20))[-1]) + 1
    limit = int(MAX_SECONDS * sample_rate)
    clip = x[start : min(end, start + limit)].copy()
    last = np.abs(clip[-max(1, sample_rate // 1000) :]).max()
    if end - start > limit or last > peak * 10 ** (ABRUPT_DB / 20):
        n = max(1, min(int(FADE_MS * sample_rate / 1000), clip.size // 4))
        clip[-n:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, n))
    clip *= PEAK / float(np.abs(clip).max())
    return clip.astype(np.float32)
