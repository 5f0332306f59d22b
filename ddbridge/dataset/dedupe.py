"""Near-identical hits: many GM presets share samples, so the same sound comes back under many names."""

from __future__ import annotations

import numpy as np

THRESHOLD = 0.99  # normalised correlation of the onset-aligned audio above which two hits are one
LENGTH = 32768  # samples compared (~0.74 s at 44.1 kHz): the body of a hit, where hits differ


class Deduper:
    """Remembers the hits kept so far, per category, and recognises a new hit that repeats one of them."""

    def __init__(self, threshold: float = THRESHOLD, length: int = LENGTH) -> None:
        self.threshold, self.length = threshold, length
        self._kept: dict[str, np.ndarray] = {}  # rows: unit-norm fingerprints (capacity doubles as it fills)
        self._count: dict[str, int] = {}

    def _fingerprint(self, audio: np.ndarray) -> np.ndarray:
        v = np.zeros(self.length, dtype=np.float32)
        head = audio[: self.length]
        v[: head.size] = head
        return v / max(float(np.linalg.norm(v)), 1e-12)

    def is_new(self, category: str, audio: np.ndarray) -> bool:
        """True (and remembered) unless a kept hit of ``category`` correlates above the threshold."""
        v = self._fingerprint(audio)
        n = self._count.get(category, 0)
        kept = self._kept.get(category)
        if n and float(np.max(kept[:n] @ v)) > self.threshold:
            return False
        if kept is None or n == kept.shape[0]:
            grown = np.empty((max(16, 2 * n), self.length), dtype=np.float32)
            grown[:n] = kept[:n] if kept is not None else grown[:0]
            self._kept[category] = kept = grown
        kept[n] = v
        self._count[category] = n + 1
        return True
