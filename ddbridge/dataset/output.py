"""What a built data set holds besides its audio: WAV writing, ``manifest.csv``, ``NOTICE`` and ``EVAL_ONLY``."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ddbridge.dataset.hits import SAMPLE_RATE, Hit
from ddbridge.dataset.sources import Source
from ddbridge.protocol.errors import PathRefused

MANIFEST = "manifest.csv"
NOTICE = "NOTICE"
EVAL_ONLY = "EVAL_ONLY"
COLUMNS = ("path", "category", "source", "kit", "licence", "origin", "split", "seconds")
SPLITS = ("train", "valid", "heldout")


def relative_path(hit: Hit) -> str:
    """``<category>/<source>_<kit>_<what>.wav``."""
    return f"{hit.category}/{hit.source}_{hit.kit}_{hit.what}.wav"


def write_hit(root: Path, hit: Hit, split: str = "train") -> dict[str, str]:
    """Write ``hit`` as a mono 24-bit WAV under ``root``; returns its manifest row, in ``split``."""
    import soundfile as sf

    rel = relative_path(hit)
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(hit.audio, dtype=np.float32), SAMPLE_RATE, subtype="PCM_24")
    seconds = f"{hit.audio.size / SAMPLE_RATE:.3f}"
    values = (rel, hit.category, hit.source, hit.kit, hit.licence, hit.origin, split, seconds)
    return dict(zip(COLUMNS, values, strict=True))


def _check_target(out: Path) -> None:
    """Refuse a file, or a non-empty folder that is not an earlier data build (which is replaced)."""
    if out.exists() and not out.is_dir():
        raise PathRefused(f"output folder '{out}' is a file")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise PathRefused(f"output folder '{out}' is not empty and holds no earlier data build ({MANIFEST})")


@contextmanager
def building_into(out: Path) -> Iterator[Path]:
    """A fresh hidden ``.<name>.partial`` folder beside ``out`` to build a set in: when the block ends it
    replaces ``out`` in one rename; when it fails it is removed and ``out`` stays as it was."""
    _check_target(out)
    partial = out.parent / f".{out.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        yield partial
        if out.exists():
            shutil.rmtree(out)
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def write_manifest(root: Path, rows: Sequence[dict], columns: Sequence[str] = COLUMNS) -> Path:
    """``root/manifest.csv``: ``rows`` in their order, under ``columns``."""
    path = root / MANIFEST
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def notice_text(sources: list[Source], rows: list[dict[str, str]], heldout: bool) -> str:
    """The NOTICE: every source the set's hits came from, with its Debian package, licence and credit."""
    used = Counter(r["source"] for r in rows)
    lines = [
        "Drum one-shots in this folder were rendered or copied by `ddbridge data build` from the Debian",
        "packages below; each hit's source, kit, licence and origin are listed in manifest.csv.",
        "",
    ]
    if heldout:
        lines += ["EVAL ONLY: copyleft material; never train weights that ship under another licence on it.", ""]
    for s in sources:
        if not used[s.name]:
            continue
        lines += [
            f"{s.name}: {used[s.name]} hits from Debian package {s.package} ({', '.join(p.name for p in s.paths)})",
            f"  Licence: {s.licence}",
            f"  Credit: {s.credit}",
            f"  Full terms: {s.copyright_file}",
        ]
        kits = sorted({(r["kit"], r["licence"]) for r in rows if r["source"] == s.name and r["licence"] != s.licence})
        lines += [f"  Kit {kit}: {terms}" for kit, terms in kits]
        lines.append("")
    return "\n".join(lines)


def eval_only_text(sources: list[Source]) -> str:
    """The marker a held-out set carries; the trainer refuses a folder that holds it."""
    terms = "; ".join(f"{s.package}: {s.licence}" for s in sources)
    return (
        "EVAL ONLY: a held-out evaluation set of copyleft drum kits.\n"
        f"Licences: {terms}.\n"
        "It must never train weights that are shipped (ddbridge's weights are MIT); use it only as a\n"
        "reference for `ddbridge eval`. `ddbridge train` refuses a --data folder holding this file.\n"
    )
