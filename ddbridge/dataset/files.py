"""One-shot files from a folder (e.g. Sonic Pi's samples), labelled by their names (``bd_*`` is a kick)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ddbridge.dataset.categories import name_category
from ddbridge.dataset.hits import SAMPLE_RATE, Job, RawHit
from ddbridge.dataset.sources import Source, slug
from ddbridge.sound.audio import load_audio, resample

SUFFIXES = (".wav", ".flac", ".aif", ".aiff", ".ogg")


def load_hit(path: Path) -> np.ndarray:
    """A file's audio ``[C, L]`` at ``SAMPLE_RATE``."""
    audio, rate = load_audio(path)
    return resample(audio, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else audio


def jobs(source: Source, folder: Path) -> list[Job]:
    """One job per file whose name states a category; the kit is the name's first word (``drum``, ``elec``)."""
    out = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file()):
        category = name_category(path.stem)
        if category is None:
            continue
        kit, _, what = path.stem.partition("_")

        def run(path: Path = path, category: str = category, kit: str = kit, what: str = what) -> Iterator[RawHit]:
            yield RawHit(category, slug(kit), slug(what or kit), path.name, load_hit(path))

        out.append((f"{source.name}: {path.name}", run))
    return out
