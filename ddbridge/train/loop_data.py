"""Training data for a loop network: a ``ddbridge data loops`` set, served as batches of whole loops.

Every item is one loop period (so the network, padded circularly, sees its wrap as it will be heard).
A batch shares one length and one bar count: an anchor loop is drawn (genres equally often), the others
come from loops of the same bars within 6 % of its length, and all are stretched to the nearest length
the network takes. The beat grid of the batch follows from that length and its bars.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ddbridge.dataset.output import EVAL_ONLY, MANIFEST
from ddbridge.loops.genres import ANY, BEATS_PER_BAR, GENRES
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound.audio import fit_length, load_audio, resample, to_mono

log = logging.getLogger(__name__)

UNLABELLED = -1
LENGTH_SPREAD = 0.06
ANY_SHARE = 0.1  # how often a batch item is drawn from the loops of no genre


@dataclass(frozen=True)
class LoopRow:
    path: Path
    genre: str
    bpm: float
    bars: int
    split: str


def read_manifest(root: str | Path, split: str = "train") -> list[LoopRow]:
    """The rows of ``root``'s manifest in ``split``; ``BadRequest`` when it is no loop set or lists none there."""
    root = Path(root)
    path = root / MANIFEST
    if not path.is_file():
        raise BadRequest(f"'{root}' holds no {MANIFEST}: build a loop set with `ddbridge data loops --out {root}`")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not {"genre", "bpm", "bars", "split"} <= set(reader.fieldnames or ()):
            raise BadRequest(f"{path} is not a loop manifest (it needs genre, bpm, bars and split columns)")
        rows = [LoopRow(root / r["path"], r["genre"], float(r["bpm"]), int(r["bars"]), r["split"]) for r in reader]
    rows = [r for r in rows if r.split == split]
    if not rows:
        raise BadRequest(f"{path} lists no loops in the '{split}' split")
    return rows


class LoopSet:
    """Whole loops at ``sample_rate`` (mono), each labelled with its genre's index in ``GENRES`` (-1: any).

    ``stride`` is the audio length every batch is stretched to a multiple of; loops longer than
    ``max_seconds`` are left out (they cost the most per step).
    """

    def __init__(
        self, root: str | Path, sample_rate: int, stride: int, *, split: str = "train", max_seconds: float = 5.0
    ) -> None:
        self.root, self.sample_rate, self.stride = Path(root), int(sample_rate), int(stride)
        self.categories: tuple[str, ...] = GENRES
        if (self.root / EVAL_ONLY).is_file():
            raise BadRequest(f"'{root}' is an evaluation-only set ({self.root / EVAL_ONLY}): never train on it")
        rows = [r for r in read_manifest(root, split) if r.bars * BEATS_PER_BAR * 60 / r.bpm <= max_seconds]
        unknown = sorted({r.genre for r in rows} - set(GENRES) - {ANY})
        if unknown:
            raise BadRequest(f"the loop set names genres this ddbridge does not know: {', '.join(unknown)}")
        self.rows = rows
        self.clips = [self._load(r.path) for r in rows]
        self.lengths = np.array([c.size for c in self.clips])
        self.bars = np.array([r.bars for r in rows])
        self.labels = np.array([GENRES.index(r.genre) if r.genre != ANY else UNLABELLED for r in rows])
        self.by_label = {int(g): np.flatnonzero(self.labels == g) for g in np.unique(self.labels)}
        groups = [g for g in range(len(GENRES)) if g in self.by_label]
        self.draw_labels = groups + ([UNLABELLED] if UNLABELLED in self.by_label else [])
        shares = [(1 - ANY_SHARE) / len(groups)] * len(groups) + ([ANY_SHARE] if UNLABELLED in self.by_label else [])
        self.draw_shares = np.array(shares) / sum(shares)

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def labelled(self) -> bool:
        return True

    def _load(self, path: Path) -> np.ndarray:
        audio, rate = load_audio(path)
        return np.ascontiguousarray(resample(to_mono(audio), rate, self.sample_rate)[0], dtype=np.float32)

    def network_length(self, samples: int) -> int:
        """The nearest length the network takes (a multiple of the stride) to a loop of ``samples``."""
        return max(1, round(samples / self.stride)) * self.stride

    def _pick(self, label: int, bars: int, low: float, high: float, rng: np.random.Generator) -> int | None:
        pool = self.by_label[label]
        fits = pool[(self.bars[pool] == bars) & (self.lengths[pool] >= low) & (self.lengths[pool] <= high)]
        return int(fits[rng.integers(len(fits))]) if len(fits) else None

    def batch(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, float]:
        """``size`` loops ``[size, 1, L]`` of one network length, their labels ``[size]`` and the beats they hold."""
        labels = [self.draw_labels[i] for i in rng.choice(len(self.draw_labels), size, p=self.draw_shares)]
        anchor_pool = self.by_label[labels[0]]
        anchor = int(anchor_pool[rng.integers(len(anchor_pool))])
        bars, n = int(self.bars[anchor]), int(self.lengths[anchor])
        low, high = n * (1 - LENGTH_SPREAD), n * (1 + LENGTH_SPREAD)
        picks = [anchor]
        for label in labels[1:]:
            pick = self._pick(label, bars, low, high, rng)
            if pick is None:  # no loop of that genre at this length: any genre will do
                near = np.flatnonzero((self.bars == bars) & (self.lengths >= low) & (self.lengths <= high))
                pick = int(near[rng.integers(len(near))])
            picks.append(pick)
        length = self.network_length(n)
        out = np.empty((size, 1, length), dtype=np.float32)
        for row, i in zip(out, picks, strict=True):
            gain = 10 ** (rng.uniform(-6.0, 0.0) / 20) * (-1 if rng.random() < 0.5 else 1)
            row[0] = fit_length(self.clips[i][None], length, circular=True)[0] * np.float32(gain)
        return out, self.labels[picks], float(bars * BEATS_PER_BAR)

    def windows(self, chunk: int = 64):
        """Every loop once, as it is, in batches ``[n, 1, L]`` zero-padded to the longest of the chunk."""
        import torch

        for start in range(0, len(self.clips), chunk):
            clips = self.clips[start : start + chunk]
            longest = max(c.size for c in clips)
            out = np.zeros((len(clips), 1, longest), dtype=np.float32)
            for row, clip in zip(out, clips, strict=True):
                row[0, : clip.size] = clip
            yield torch.from_numpy(out)
