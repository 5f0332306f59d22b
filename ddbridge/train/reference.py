"""A folder of real drum hits to evaluate against: one sub-folder per category, kits from ``manifest.csv``.

This is the layout ``ddbridge data build`` writes. The manifest (columns path, category, source,
kit, licence, origin, split; paths relative to the folder) says which hits come from the same drum
kit (a kit is named within its source), so that a classifier can be tested on kits it was not fitted
on, and which split a hit is in (``Reference.only``: the validation kits of a permissive set).
Without a manifest, or with a single kit, the files are split into ``FILE_FOLDS`` folds by a hash
of their names instead, and the report says so. Every hit is mixed to mono, resampled to ``RATE``
and cut or zero-padded to the evaluated window. ``load_training`` loads what a model trained on
(the files ``ddbridge train`` would use), to look for copies of them.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ddbridge.protocol.errors import BadAudio, BadRequest
from ddbridge.sound.audio import load_audio, resample

RATE = 44100
MANIFEST = "manifest.csv"
FILE_FOLDS = 5
AUDIO_SUFFIXES = {".wav", ".flac", ".aif", ".aiff", ".ogg"}


@dataclass
class Reference:
    """Real hits per category (mono float32 ``[L]`` at ``rate``) and, per hit, the group it is held out
    with and its split (``""`` when the manifest has none)."""

    path: Path
    rate: int
    hits: dict[str, list[np.ndarray]]
    groups: dict[str, list[str]]
    grouping: str  # how the groups were formed, for the report
    splits: dict[str, list[str]] = field(default_factory=dict)

    @property
    def categories(self) -> list[str]:
        return list(self.hits)

    def only(self, split: str) -> Reference:
        """The hits in ``split``; ``BadRequest`` when the manifest has no splits or none of its hits is in it."""
        if not any(s for v in self.splits.values() for s in v):
            raise BadRequest(f"'{self.path}' has no split column in {MANIFEST}: rebuild it with `ddbridge data build`")
        keep = {c: [i for i, s in enumerate(self.splits.get(c, [])) if s == split] for c in self.hits}
        keep = {c: idx for c, idx in keep.items() if idx}
        if not keep:
            found = sorted({s for v in self.splits.values() for s in v})
            raise BadRequest(f"'{self.path}' has no hits in the split '{split}' (its splits: {', '.join(found)})")

        def pick(d: dict[str, list]) -> dict[str, list]:
            return {c: [d[c][i] for i in idx] for c, idx in keep.items()}

        return replace(self, hits=pick(self.hits), groups=pick(self.groups), splits=pick(self.splits))


def _from_manifest(folder: Path) -> list[tuple[Path, str, str, str]] | None:
    """``(file, category, source/kit, split)`` rows of the folder's manifest, or None when there is none."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return None
    with manifest.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"path", "category", "kit"} - set(reader.fieldnames or ())
        if missing:
            raise BadRequest(f"{manifest} lacks the column(s) {', '.join(sorted(missing))}")
        return [
            (folder / row["path"], row["category"], f"{row.get('source', '')}/{row['kit']}", row.get("split") or "")
            for row in reader
        ]


def _from_folders(folder: Path) -> list[tuple[Path, str, str, str]]:
    """``(file, category, fold, "")`` for every audio file in the category sub-folders, folds by file-name hash."""
    rows = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        for file in sorted(sub.rglob("*")):
            if file.suffix.lower() in AUDIO_SUFFIXES:
                fold = zlib.crc32(file.name.encode()) % FILE_FOLDS
                rows.append((file, sub.name, f"fold {fold + 1}", ""))
    return rows


def fit_hit(audio: np.ndarray, rate: int, length: int) -> np.ndarray:
    """Mono ``[L]`` float32 at ``RATE``, cut or zero-padded to ``length`` samples, from ``[C, L]`` audio at ``rate``."""
    x = resample(audio.mean(axis=0, keepdims=True), rate, RATE)[0]
    return np.pad(x[:length], (0, max(0, length - len(x)))).astype(np.float32)


def load_reference(folder: str | Path, seconds: float, categories: list[str] | None = None) -> Reference:
    """Load the hits of ``folder`` (see the module doc), keeping only ``categories`` when given.

    Raises ``BadRequest`` when the folder is missing or holds no usable hits.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise BadRequest(f"reference folder '{folder}' does not exist")
    rows = _from_manifest(folder)
    grouping = f"kit families from {MANIFEST}"
    if rows is None or len({kit for _, _, kit, _ in rows}) < 2:
        why = f"no {MANIFEST}" if rows is None else f"{MANIFEST} names one kit"
        splits = {str(file): split for file, _, _, split in rows or []}
        rows = [(file, c, fold, splits.get(str(file), "")) for file, c, fold, _ in _from_folders(folder)]
        grouping = f"{why}: files split into {FILE_FOLDS} folds by name (hits of one kit may sit on both sides)"
    length = max(1, int(round(seconds * RATE)))
    hits: dict[str, list[np.ndarray]] = {}
    groups: dict[str, list[str]] = {}
    splits: dict[str, list[str]] = {}
    for file, category, group, split in rows:
        if categories is not None and category not in categories:
            continue
        try:
            audio, rate = load_audio(file)
        except BadAudio as e:
            raise BadRequest(f"reference hit unusable: {e}") from None
        hits.setdefault(category, []).append(fit_hit(audio, rate, length))
        groups.setdefault(category, []).append(group)
        splits.setdefault(category, []).append(split)
    if not hits:
        wanted = f" of the categories {', '.join(categories)}" if categories is not None else ""
        raise BadRequest(f"reference folder '{folder}' holds no hits{wanted} (one sub-folder per category)")
    return Reference(folder, RATE, hits, groups, grouping, splits)


def load_training(folder: str | Path, seconds: float, categories: list[str]) -> dict[str, list[np.ndarray]]:
    """The hits a model trained on, per category of ``categories`` (sub-folder names): every audio file
    ``ddbridge train --data folder`` would use (the validation split left out), as ``load_reference``
    cuts them. ``BadRequest`` when the folder holds none of ``categories``."""
    from ddbridge.train.data import find_audio, held_out_files

    folder = Path(folder).expanduser()
    files = find_audio(folder)
    left_out = set(held_out_files(files))
    length = max(1, int(round(seconds * RATE)))
    hits: dict[str, list[np.ndarray]] = {}
    for file in files:
        parts = file.relative_to(folder).parts
        if len(parts) < 2 or parts[0] not in categories or file in left_out:
            continue
        try:
            audio, rate = load_audio(file)
        except BadAudio:
            continue  # training skips it too
        hits.setdefault(parts[0], []).append(fit_hit(audio, rate, length))
    if not hits:
        raise BadRequest(f"training folder '{folder}' holds no hits of {', '.join(categories)}")
    return hits
