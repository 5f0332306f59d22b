"""Training data: a folder of audio files, loaded once at the model's rate, served as augmented batches.

Labels come from the first-level sub-folder names (``root/kick/*.wav`` is a "kick") when every file
sits in a sub-folder; files directly in ``root`` make the whole set unlabelled. Batches are drawn
with a caller-supplied ``numpy`` generator, so a training step's batch depends only on its seed.

A set that ``ddbridge data build`` wrote lists a split per hit in its ``manifest.csv``: files whose
row is not in the ``train`` split (the validation kits) never train. The manifest is the one of the
set a file belongs to: the nearest ``manifest.csv`` above the file, and for a link, above the file it
points to (so a folder of links into several sets, as ``scripts/train_default.sh`` makes, keeps each
set's split). Files are matched to rows by their path less its extension (a FLAC copy keeps the split);
sets without a manifest, or whose manifest has no ``split`` column, train on every file.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ddbridge.dataset.output import EVAL_ONLY
from ddbridge.protocol.errors import BadAudio, BadRequest
from ddbridge.sound.audio import load_audio, resample, to_channels
from ddbridge.train import augment as aug

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".wave", ".aif", ".aiff", ".flac")
UNLABELLED = -1
MANIFEST = "manifest.csv"
TRAIN_SPLIT = "train"


def find_audio(root: str | Path) -> list[Path]:
    """Every audio file under ``root`` (recursively, sorted); hidden files and folders are ignored."""
    root = Path(root)
    if not root.is_dir():
        raise BadRequest(f"training data folder '{root}' does not exist or is not a folder")
    files = [
        p
        for p in sorted(root.rglob("*"))
        if p.suffix.lower() in AUDIO_SUFFIXES
        and p.is_file()
        and not any(s.startswith(".") for s in p.relative_to(root).parts)
    ]
    if not files:
        raise BadRequest(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) found under '{root}'")
    return files


def _splits(manifest: Path) -> dict[str, str] | None:
    """``path less extension -> split`` of a manifest, or None when it has no ``split`` column."""
    with manifest.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not {"path", "split"} <= set(reader.fieldnames or ()):
            return None
        return {str(Path(row["path"]).with_suffix("")): row["split"] for row in reader}


def held_out_files(files: Iterable[Path]) -> list[Path]:
    """The files whose set's manifest (see the module doc) puts them in a split other than ``train``."""
    manifests: dict[Path, dict[str, str] | None] = {}
    out = []
    for path in files:
        target = path.resolve()
        for folder in target.parents:
            manifest = folder / MANIFEST
            if manifest.is_file():
                if manifest not in manifests:
                    manifests[manifest] = _splits(manifest)
                rows = manifests[manifest]
                key = str(target.relative_to(folder).with_suffix(""))
                if rows is not None and rows.get(key, TRAIN_SPLIT) != TRAIN_SPLIT:
                    out.append(path)
                break
    return out


def folder_categories(root: str | Path) -> tuple[str, ...]:
    """The sub-folder categories of ``root`` (sorted), or ``()`` when some audio file sits directly in it."""
    files = find_audio(root)
    return tuple(sorted({p.relative_to(root).parts[0] for p in files})) if _in_sub_folders(root, files) else ()


def _in_sub_folders(root: str | Path, files: list[Path]) -> bool:
    return all(len(p.relative_to(root).parts) > 1 for p in files)


class AudioFolder:
    """Clips ``[channels, L]`` at ``sample_rate`` with integer labels (``UNLABELLED`` = -1 when there are none).

    ``one_shot=True`` places each clip at the start of the window after a small random delay (up to
    ``max_offset_ms``); ``one_shot=False`` takes random crops (loops, long recordings). Every item
    gets a random gain in ``gain_db`` and, with ``flip_polarity``, a 50 % polarity flip.
    ``augment`` (one-shots) adds pitch, tilt and decay variations (:mod:`ddbridge.train.augment`),
    closes open hats into some of the closed hats, and fades whatever would run past the window so
    every item ends in silence. ``balance`` draws each category equally often, or in proportion to
    ``category_weights`` (categories not named weigh 1; weights imply ``balance``). Files of a
    manifest's validation split are left out (``held_out``, see the module doc).
    """

    def __init__(
        self,
        root: str | Path,
        sample_rate: int,
        sample_size: int,
        channels: int = 2,
        *,
        labelled: bool | None = None,
        one_shot: bool = True,
        max_offset_ms: float = 5.0,
        gain_db: tuple[float, float] = (-6.0, 0.0),
        flip_polarity: bool = True,
        augment: bool = False,
        balance: bool = False,
        category_weights: Mapping[str, float] | None = None,
    ) -> None:
        self.root = Path(root)
        self.sample_rate, self.sample_size, self.channels = int(sample_rate), int(sample_size), int(channels)
        self.one_shot, self.gain_db, self.flip_polarity = one_shot, gain_db, flip_polarity
        self.augment, self.balance = augment and one_shot, balance or bool(category_weights)
        # Pitched down by up to 3 semitones a clip plays 19 % longer: keep what may then fall in the window.
        self.keep_samples = int(self.sample_size * (1.2 if self.augment else 1.0))
        self.max_offset = int(sample_rate * max_offset_ms / 1000)
        if marked := next((p for p in (self.root, *self.root.resolve().parents) if (p / EVAL_ONLY).is_file()), None):
            raise BadRequest(f"'{marked}' is an evaluation-only set ({marked / EVAL_ONLY}): never train on it")
        files = find_audio(self.root)
        in_folders = _in_sub_folders(self.root, files)
        self.held_out: list[Path] = held_out_files(files)
        if self.held_out:
            if len(self.held_out) == len(files):
                raise BadRequest(f"every audio file under '{self.root}' is in a manifest's validation split")
            left_out = set(self.held_out)
            files = [p for p in files if p not in left_out]
            log.info("left out %d files of the validation split (manifest.csv)", len(self.held_out))
        labelled = in_folders if labelled is None else labelled
        if labelled and not in_folders:
            raise BadRequest(
                f"labels come from sub-folder names, but '{self.root}' has audio files outside sub-folders"
            )
        self.files: list[Path] = []
        self.clips: list[np.ndarray] = []
        self.skipped: list[tuple[Path, str]] = []
        for path in files:
            try:
                self.clips.append(self._load(path))
            except BadAudio as e:
                self.skipped.append((path, str(e)))
                log.warning("skipping unreadable audio file: %s", e)
                continue
            self.files.append(path)
        if not self.clips:
            raise BadAudio(f"none of the {len(files)} audio files under '{self.root}' could be read")
        names = [p.relative_to(self.root).parts[0] for p in self.files] if labelled else []
        self.categories: tuple[str, ...] = tuple(sorted(set(names)))
        self.labels = np.array(
            [self.categories.index(n) for n in names] if labelled else [UNLABELLED] * len(self.files), dtype=np.int64
        )
        self.by_label = {int(c): np.flatnonzero(self.labels == c) for c in np.unique(self.labels)}
        self.draw = self._draw_shares(category_weights or {})

    def _draw_shares(self, weights: Mapping[str, float]) -> np.ndarray:
        """How often each category is drawn when balancing: ``weights`` (default 1) normalised to sum 1."""
        unknown = sorted(set(weights) - set(self.categories))
        if unknown:
            raise BadRequest(
                f"category weights name {', '.join(unknown)}, which '{self.root}' lacks "
                f"(its categories: {', '.join(self.categories) or 'none: the files are not in category folders'})"
            )
        shares = np.array([float(weights.get(c, 1.0)) for c in self.categories])
        return shares / shares.sum() if len(shares) else shares

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def labelled(self) -> bool:
        return bool(self.categories)

    def _load(self, path: Path) -> np.ndarray:
        audio, rate = load_audio(path)
        audio = resample(to_channels(audio, self.channels), rate, self.sample_rate)
        # A one-shot never needs more than the window; loops keep their full length for random crops.
        return np.ascontiguousarray(audio[:, : self.keep_samples] if self.one_shot else audio)

    def windows(self, chunk: int = 64):
        """Every clip once as it sits in the window (no offset, gain or variation), in batches ``[n, channels, L]``."""
        import torch

        for start in range(0, len(self.clips), chunk):
            out = np.zeros((min(chunk, len(self.clips) - start), self.channels, self.sample_size), dtype=np.float32)
            for row, clip in zip(out, self.clips[start : start + chunk], strict=False):
                take = min(clip.shape[1], self.sample_size)
                row[:, :take] = clip[:, :take]
            yield torch.from_numpy(out)

    def _choked(self, label: int) -> int | None:
        """The label of open hats when ``label`` is a closed hat and both exist, else None."""
        names = self.categories
        if "hat_closed" in names and "hat_open" in names and label == names.index("hat_closed"):
            return names.index("hat_open")
        return None

    def item(self, index: int, rng: np.random.Generator) -> np.ndarray:
        """Clip ``index`` cropped or padded to ``[channels, sample_size]`` and augmented."""
        clip, n = self.clips[index], self.sample_size
        if self.augment:
            open_hats = self._choked(int(self.labels[index]))
            if open_hats is not None and rng.random() < 0.3:
                pick = self.by_label[open_hats]
                clip = aug.choke(self.clips[int(pick[rng.integers(len(pick))])], rng, self.sample_rate)
            clip = aug.vary(clip, rng, self.sample_rate)
        out = np.zeros((self.channels, n), dtype=np.float32)
        if self.one_shot:
            offset = int(rng.integers(0, self.max_offset + 1))
            take = min(clip.shape[1], n - offset)
            out[:, offset : offset + take] = clip[:, :take]
        else:
            start = int(rng.integers(0, max(clip.shape[1] - n, 0) + 1))
            piece = clip[:, start : start + n]
            out[:, : piece.shape[1]] = piece
        if self.augment:
            out = aug.end_in_window(out, self.sample_rate)
        gain = 10 ** (rng.uniform(*self.gain_db) / 20)
        if self.flip_polarity and rng.random() < 0.5:
            gain = -gain
        return out * np.float32(gain)

    def batch(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """``size`` random items (with replacement): audio ``[size, channels, sample_size]`` and labels ``[size]``."""
        if self.balance and self.labelled:
            groups = [self.by_label[int(c)] for c in rng.choice(len(self.categories), size, p=self.draw)]
            idx = np.array([g[rng.integers(len(g))] for g in groups])
        else:
            idx = rng.integers(0, len(self.clips), size)
        return np.stack([self.item(int(i), rng) for i in idx]), self.labels[idx]
