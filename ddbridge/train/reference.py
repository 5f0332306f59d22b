"""A folder of real drum hits to evaluate against: one sub-folder per category, kits from ``manifest.csv``.

This is the layout ``ddbridge data build`` writes. The manifest (columns path, category, source,
kit, licence, origin; paths relative to the folder) says which hits come from the same drum kit (a
kit is named within its source), so that a classifier can be tested on kits it was not fitted on.
Without a manifest, or with a single kit, the files are split into ``FILE_FOLDS`` folds by a hash
of their names instead, and the report says so. Every hit is mixed to mono, resampled to ``RATE``
and cut or zero-padded to the evaluated window.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
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
    """Real hits per category (mono float32 ``[L]`` at ``rate``) and, per hit, the group it is held out with."""

    path: Path
    rate: int
    hits: dict[str, list[np.ndarray]]
    groups: dict[str, list[str]]
    grouping: str  # how the groups were formed, for the report

    @property
    def categories(self) -> list[str]:
        return list(self.hits)


def _from_manifest(folder: Path) -> list[tuple[Path, str, str]] | None:
    """``(file, category, source/kit)`` rows of the folder's manifest, or None when there is none."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return None
    with manifest.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"path", "category", "kit"} - set(reader.fieldnames or ())
        if missing:
            raise BadRequest(f"{manifest} lacks the column(s) {', '.join(sorted(missing))}")
        return [(folder / row["path"], row["category"], f"{row.get('source', '')}/{row['kit']}") for row in reader]


def _from_folders(folder: Path) -> list[tuple[Path, str, str]]:
    """``(file, category, fold)`` for every audio file in the category sub-folders, folds by file-name hash."""
    rows = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        for file in sorted(sub.rglob("*")):
            if file.suffix.lower() in AUDIO_SUFFIXES:
                fold = zlib.crc32(file.name.encode()) % FILE_FOLDS
                rows.append((file, sub.name, f"fold {fold + 1}"))
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
    grouping = f"kits from {MANIFEST}"
    if rows is None or len({kit for _, _, kit in rows}) < 2:
        why = f"no {MANIFEST}" if rows is None else f"{MANIFEST} names one kit"
        rows = _from_folders(folder)
        grouping = f"{why}: files split into {FILE_FOLDS} folds by name (hits of one kit may sit on both sides)"
    length = max(1, int(round(seconds * RATE)))
    hits: dict[str, list[np.ndarray]] = {}
    groups: dict[str, list[str]] = {}
    for file, category, group in rows:
        if categories is not None and category not in categories:
            continue
        try:
            audio, rate = load_audio(file)
        except BadAudio as e:
            raise BadRequest(f"reference hit unusable: {e}") from None
        hits.setdefault(category, []).append(fit_hit(audio, rate, length))
        groups.setdefault(category, []).append(group)
    if not hits:
        wanted = f" of the categories {', '.join(categories)}" if categories is not None else ""
        raise BadRequest(f"reference folder '{folder}' holds no hits{wanted} (one sub-folder per category)")
    return Reference(folder, RATE, hits, groups, grouping)
