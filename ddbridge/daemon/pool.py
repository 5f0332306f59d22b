"""Pre-generated candidates: per category, keep ``size`` finished sounds ready so a press is answered at once.

The pool holds raw model output for one ``Work`` template per category (the default model, its
default length, steps and sampler), and for one loop template: loops at the tempo (bpm, bars) and
genre last asked. A request whose work matches a template is served from it; the worker refills
the pool in the background while the queue is empty. A loop asked at another tempo replaces the
loop template, and the loops kept for the old one are dropped.

With a ``PoolCheck``, a candidate of a category the judge knows is kept only when the judge
accepts it (on-category, clean tail). The work is bounded: one ready slot consumes at most
``TRIES`` candidates, after which the best-scoring of them is kept anyway (counted as ``kept_rejected``);
after ``GIVE_UP`` rejections in a row a category keeps every candidate (still judged and counted,
``gave_up`` in the state) until the judge accepts one again, so a model whose output is always
rejected costs no more than an unchecked pool.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ddbridge.daemon.engine import Work
from ddbridge.daemon.pool_check import PoolCheck, Verdict
from ddbridge.loops.genres import ANY

FILL_BATCH = 4
SEED_LIMIT = 2**32
TRIES = 8
GIVE_UP = 32


@dataclass(frozen=True)
class Candidate:
    """One ready sound: raw audio ``[C, L]`` at the model's rate, its seed, and finished versions by format."""

    audio: np.ndarray
    seed: int
    finished: dict = field(default_factory=dict)
    verdict: Verdict | None = None  # None when unchecked


@dataclass
class _Checked:
    """Per category: what the judge has seen, and the best rejected candidate of the slot being filled."""

    considered: int = 0
    rejected: int = 0
    kept_rejected: int = 0
    tries: int = 0  # rejected since the last candidate was kept
    streak: int = 0  # rejected in a row
    best: Candidate | None = None


class Pool:
    """Thread-safe store of candidates keyed by ``Work.batch_key()``."""

    def __init__(
        self, templates: Sequence[Work], size: int, check: PoolCheck | None = None, loop: Work | None = None
    ) -> None:
        self.size = size
        self._templates = {t.batch_key(): replace(t, seeds=()) for t in templates}
        self._ready: dict[tuple, deque[Candidate]] = {key: deque() for key in self._templates}
        self._check = check
        self._checked = {key: _Checked() for key, t in self._templates.items() if check and check.knows(t.category)}
        self._loop_key: tuple | None = None  # the loop template's key (loops are never judged)
        self._lock = threading.Lock()
        if loop is not None:
            self.set_loop(loop)

    @property
    def model(self) -> str | None:
        return next(iter(self._templates.values())).model if self._templates else None

    @property
    def loop(self) -> Work | None:
        """The loop template: loops at the tempo last asked (None until one is)."""
        with self._lock:
            return self._templates.get(self._loop_key) if self._loop_key else None

    def set_loop(self, work: Work) -> bool:
        """Keep loops of ``work`` (a loop at a tempo; its seeds are ignored) from now on, in place of the loops
        kept so far; False when that is already the loop template."""
        if work.tempo is None:
            raise ValueError("a loop template needs a tempo")
        key = work.batch_key()
        with self._lock:
            if key == self._loop_key:
                return False
            if self._loop_key is not None:
                del self._templates[self._loop_key], self._ready[self._loop_key]
            self._loop_key = key
            self._templates[key] = replace(work, seeds=())
            self._ready[key] = deque()
            return True

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
            key = min(self._ready, key=lambda k: (len(self._ready[k]), k != self._loop_key))  # loops win ties
            missing = self.size - len(self._ready[key])
            if missing <= 0:
                return None
            seeds = tuple(secrets.randbelow(SEED_LIMIT) for _ in range(min(missing, FILL_BATCH)))
            return replace(self._templates[key], seeds=seeds)

    def add(self, work: Work, audio: np.ndarray, sample_rate: int, finished: Sequence[dict] | None = None) -> None:
        """Store a fill's results (``audio`` ``[B, C, L]`` at ``sample_rate``, optional finished versions),
        up to the pool size; judged first when the category is checked (see the module doc)."""
        finished = finished or [{} for _ in work.seeds]
        key = work.batch_key()
        judged = key in self._checked
        candidates = [
            Candidate(
                np.ascontiguousarray(item),
                seed,
                dict(versions),
                self._check.verdict(item, sample_rate, work.category) if judged else None,
            )
            for item, seed, versions in zip(audio, work.seeds, finished, strict=True)
        ]
        with self._lock:
            ready = self._ready.get(key)
            if ready is None:
                return
            for candidate in candidates:
                if len(ready) >= self.size:
                    break
                kept = self._judged(self._checked[key], candidate) if judged else candidate
                if kept is not None:
                    ready.append(kept)

    @staticmethod
    def _judged(checked: _Checked, candidate: Candidate) -> Candidate | None:
        """The candidate to keep after ``candidate``'s verdict, if any (under the lock)."""
        checked.considered += 1
        if candidate.verdict.accepted:
            checked.tries = checked.streak = 0
            checked.best = None
            return candidate
        checked.rejected += 1
        checked.tries += 1
        checked.streak += 1
        if checked.best is None or candidate.verdict.score > checked.best.verdict.score:
            checked.best = candidate
        if checked.tries < (1 if checked.streak >= GIVE_UP else TRIES):
            return None
        kept, checked.best, checked.tries = checked.best, None, 0
        checked.kept_rejected += 1
        return kept

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
                {"category": self._templates[key].category, "ready": len(ready), **self._check_state(key)}
                for key, ready in self._ready.items()
                if key != self._loop_key
            ]
            loop = None
            if self._loop_key is not None:
                (bpm, bars), genre = self._templates[self._loop_key].tempo, self._templates[self._loop_key].genre
                loop = {"bpm": bpm, "bars": bars, "genre": genre or ANY, "ready": len(self._ready[self._loop_key])}
            considered = sum(c.considered for c in self._checked.values())
            rejected = sum(c.rejected for c in self._checked.values())
            rate = round(rejected / considered, 4) if considered else 0.0
            totals = {"check": self._check is not None, "considered": considered, "rejected": rejected}
            return {
                "size": self.size,
                "model": self.model,
                "categories": categories,
                "loop": loop,
                **totals,
                "rejection_rate": rate,
            }

    def _check_state(self, key: tuple) -> dict:
        checked = self._checked.get(key)
        if checked is None:
            return {"checked": False}
        c = checked
        counts = {"considered": c.considered, "rejected": c.rejected, "kept_rejected": c.kept_rejected}
        return {"checked": True, **counts, "gave_up": c.streak >= GIVE_UP}
