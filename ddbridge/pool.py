"""Pre-generated candidates: per category, keep ``size`` finished sounds ready so a press is answered at once.

The pool holds raw model output for one ``Work`` template per category (the default model, its
default length, steps and sampler). A request whose work matches a template is served from it;
the worker refills the pool in the background while the queue is empty.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ddbridge.engine import Work

FILL_BATCH = 4
SEED_LIMIT = 2**32


@dataclass(frozen=True)
class Candidate:
    """One ready sound: raw audio ``[C, L]`` at the model's rate, its seed, and finished versions by format."""

    audio: np.ndarray
    seed: int
    finished: dict = field(default_factory=dict)


class Pool:
    """Thread-safe store of candidates keyed by ``Work.batch_key()``."""

    def __init__(self, templates: Sequence[Work], size: int) -> None:
        self.size = size
        self._templates = {t.batch_key(): replace(t, seeds=()) for t in templates}
        self._ready: dict[tuple, deque[Candidate]] = {key: deque() for key in self._templates}
        self._lock = threading.Lock()

    @property
    def model(self) -> str | None:
        return next(iter(self._templates.values())).model if self._templates else None

    def take(self, work: Work, count: int) -> list[Candidate] | None:
        """``count`` candidates for ``work`` (ignoring its seeds), or None when the pool cannot serve it all."""
        with self._lock:
            ready = self._ready.get(work.batch_key())
            if ready is None or len(ready) < count:
                return None
            return [ready.popleft() for _ in range(count)]

    def next_fill(self) -> Work | None:
        """Work that refills the emptiest category (fresh random seeds), or None when all are full."""
        with self._lock:
            if not self._templates or self.size <= 0:
                return None
            key = min(self._ready, key=lambda k: len(self._ready[k]))
            missing = self.size - len(self._ready[key])
            if missing <= 0:
                return None
            seeds = tuple(secrets.randbelow(SEED_LIMIT) for _ in range(min(missing, FILL_BATCH)))
            return replace(self._templates[key], seeds=seeds)

    def add(self, work: Work, audio: np.ndarray, finished: Sequence[dict] | None = None) -> None:
        """Store a fill's results (``audio`` ``[B, C, L]``, optional finished versions), up to the pool size."""
        finished = finished or [{} for _ in work.seeds]
        with self._lock:
            ready = self._ready.get(work.batch_key())
            if ready is None:
                return
            for item, seed, versions in zip(audio, work.seeds, finished, strict=True):
                if len(ready) >= self.size:
                    break
                ready.append(Candidate(np.ascontiguousarray(item), seed, dict(versions)))

    def set_size(self, size: int) -> None:
        """Change how many candidates are kept per category; extra ones are dropped."""
        with self._lock:
            self.size = size
            for ready in self._ready.values():
                while len(ready) > size:
                    ready.pop()

    def state(self) -> dict:
        """What the ``pool`` and ``status`` replies report."""
        with self._lock:
            categories = [
                {"category": self._templates[key].category, "ready": len(ready)} for key, ready in self._ready.items()
            ]
            return {"size": self.size, "model": self.model, "categories": categories}
