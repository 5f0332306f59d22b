"""Hydrogen drum kits: every sample layer of every instrument whose name states a category."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from ddbridge.dataset.categories import name_category
from ddbridge.dataset.files import load_hit
from ddbridge.dataset.hits import Job, RawHit
from ddbridge.dataset.sources import HYDROGEN_LICENCES, Source, kit_id, slug
from ddbridge.protocol.errors import BadRequest


def instruments(kit: Path) -> list[tuple[str, list[Path]]]:
    """``(instrument name, sample files)`` of the kit folder ``kit``, read from its ``drumkit.xml``."""
    try:
        root = ET.parse(kit / "drumkit.xml").getroot()
    except (OSError, ET.ParseError) as e:
        raise BadRequest(f"cannot read {kit / 'drumkit.xml'}: {e}") from None
    for e in root.iter():
        e.tag = e.tag.rsplit("}", 1)[-1]  # drop the XML namespace that newer kits declare
    out = []
    for inst in root.iter("instrument"):
        files = [kit / f.text.strip() for f in inst.iter("filename") if f.text and f.text.strip()]
        out.append(((inst.findtext("name") or "").strip(), [f for f in files if f.is_file()]))
    return out


def licence(kit: Path, default: str) -> str:
    """A kit's licence: the Debian copyright file's, else the one its drumkit.xml states, else ``default``."""
    if kit.name in HYDROGEN_LICENCES:
        return HYDROGEN_LICENCES[kit.name]
    try:
        stated = (ET.parse(kit / "drumkit.xml").getroot().findtext(".//{*}license") or "").strip()
    except (OSError, ET.ParseError):
        stated = ""
    return stated or default


def jobs(source: Source, folder: Path) -> list[Job]:
    """One job per labelled instrument of every kit under ``folder``."""
    out = []
    for kit in sorted(p for p in folder.iterdir() if (p / "drumkit.xml").is_file()):
        for name, files in instruments(kit):
            category = name_category(name)
            if category is None or not files:
                continue

            def run(kit: Path = kit, name: str = name, files: list[Path] = files, category: str = category
                    ) -> Iterator[RawHit]:  # fmt: skip
                terms = licence(kit, source.licence)
                for i, path in enumerate(files):
                    origin = f"{kit.name}/{path.name} (instrument '{name}')"
                    yield RawHit(category, kit_id(kit.name), f"{slug(name)}-{i}", origin, load_hit(path), terms)

            out.append((f"{source.name}: {kit.name} {name}", run))
    return out
