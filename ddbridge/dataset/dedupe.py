"""Near-identical hits: many GM presets share samples, so the same sound comes back under many names.

Two hits of a category are one when their onset-aligned audio correlates above ``THRESHOLD``, or
when their band spectrograms (32 log-spaced bands, 23 ms frames, dB re their loudest cell) differ
by less than ``SPECTRAL_DB`` on average: that also catches a velocity variant whose onset fell a few
samples apart, and a mono copy of a stereo sample (a SoundFont derived from another).
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 0.99  # normalised correlation of the onset-aligned audio above which two hits are one
SPECTRAL_DB = 1.0  # mean band-spectrogram difference (dB) under which two hits are one
LENGTH = 32768  # samples compared (~0.74 s at 44.1 kHz): the body of a hit, where hits differ
_FRAME, _HOP, _FLOOR, _MASK = 1024, 512, -80.0, -60.0
_EDGES = np.geomspace(40.0, 20000.0, 33)


def spectrogram(head: np.ndarray, sample_rate: int = 44100) -> np.ndarray:
    """Band energies (dB re the loudest, floored at -80) of ``head`` (``LENGTH`` samples), flattened."""
    frames = np.lib.stride_tricks.sliding_window_view(head, _FRAME)[::_HOP] * np.hanning(_FRAME)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    band = np.digitize(np.fft.rfftfreq(_FRAME, 1 / sample_rate), _EDGES) - 1
    energy = np.stack([power[:, band == b].sum(axis=1) for b in range(len(_EDGES) - 1)], axis=1)
    db = 10 * np.log10(energy + 1e-20)
    return np.maximum(db - db.max(), _FLOOR).astype(np.float32).ravel()


class _Rows:
    """A growing float32 matrix (capacity doubles as it fills)."""

    def __init__(self, width: int) -> None:
        self.data, self.n = np.empty((16, width), dtype=np.float32), 0

    def add(self, row: np.ndarray) -> None:
        if self.n == len(self.data):
            self.data = np.concatenate([self.data, np.empty_like(self.data)])
        self.data[self.n] = row
        self.n += 1

    @property
    def rows(self) -> np.ndarray:
        return self.data[: self.n]


class Deduper:
    """Remembers the hits kept so far, per category, and recognises a new hit that repeats one of them."""

    def __init__(self, threshold: float = THRESHOLD, spectral_db: float = SPECTRAL_DB, length: int = LENGTH) -> None:
        self.threshold, self.spectral_db, self.length = threshold, spectral_db, length
        self._wave: dict[str, _Rows] = {}
        self._spec: dict[str, _Rows] = {}

    def is_new(self, category: str, audio: np.ndarray) -> bool:
        """True (and remembered) unless a kept hit of ``category`` is near-identical to ``audio``."""
        head = np.zeros(self.length, dtype=np.float32)
        head[: min(audio.size, self.length)] = audio[: self.length]
        wave = head / max(float(np.linalg.norm(head)), 1e-12)
        spec = spectrogram(head)
        if category in self._wave:
            if float(np.max(self._wave[category].rows @ wave)) > self.threshold:
                return False
            kept = self._spec[category].rows
            audible = (kept > _MASK) | (spec > _MASK)
            diff = (np.abs(kept - spec) * audible).sum(axis=1) / np.maximum(audible.sum(axis=1), 1)
            if float(diff.min()) < self.spectral_db:
                return False
        self._wave.setdefault(category, _Rows(self.length)).add(wave)
        self._spec.setdefault(category, _Rows(spec.size)).add(spec)
        return True
