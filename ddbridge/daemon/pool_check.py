"""Whether a pool candidate is on-category with a clean tail: the shipped judge's verdict on raw model output.

The category is read as ``ddbridge eval --reference --finish`` reads it: DC removed and
resampled to the judge's rate, window kept. The tail is the raw output's from 100 to 50 ms before
the end, since the file's fade-out would hide a hiss there, less its own mean, so that a constant
offset does not count (the mean of the whole window would: a kick's body leaves one of about
-60 dB); kicks, snares, claps and closed hats must end below ``SILENT_DB`` re peak.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ddbridge.sound import audio as audio_ops
from ddbridge.train.judge_file import DEFAULT_JUDGE, SavedJudge, load_judge
from ddbridge.train.measures import tail_db
from ddbridge.train.real_eval import SHORT, SILENT_DB

TAIL_PENALTY = 0.01  # score lost per dB that a short category's tail lies above SILENT_DB


@dataclass(frozen=True)
class Verdict:
    """``accepted``: the judge's top category is the requested one and the tail is clean (where it must
    be); ``score`` ranks rejected candidates (the requested category's probability, less a tail penalty)."""

    accepted: bool
    top: str
    probability: float
    tail_db: float
    score: float


class PoolCheck:
    """The shipped judge (or another saved one), applied to candidates of the categories it knows."""

    def __init__(self, judge: SavedJudge) -> None:
        self.judge = judge

    @classmethod
    def load(cls, path: str | Path = DEFAULT_JUDGE) -> PoolCheck:
        return cls(load_judge(path))

    def knows(self, category: str | None) -> bool:
        return category in self.judge.categories

    def verdict(self, audio: np.ndarray, sample_rate: int, category: str) -> Verdict:
        """The verdict on raw output ``[C, L]`` at ``sample_rate`` requested as ``category`` (one it knows)."""
        raw = np.asarray(audio, dtype=np.float32)
        heard = audio_ops.finish(raw, sample_rate, self.judge.rate, normalize=None, trim_silence=False, fade_out_ms=0)
        p = self.judge.classify(heard.T, self.judge.rate)
        top = self.judge.categories[int(p.argmax())]
        tail = tail_db(raw, sample_rate, ignore_offset=True)
        excess = max(0.0, tail - SILENT_DB) if category in SHORT else 0.0
        probability = float(p[self.judge.categories.index(category)])
        return Verdict(top == category and excess == 0.0, top, probability, tail, probability - TAIL_PENALTY * excess)
