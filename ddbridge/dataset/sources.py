"""The known sources of real one-shots: Debian package, licence, whether it may train shipped weights, files.

Licences as stated in each package's ``/usr/share/doc/<package>/copyright``. Only permissive
sources (MIT, CC0, public domain) go into a training set; the copyleft ones (GPL, CC-BY-SA) only
into a held-out evaluation set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ddbridge.protocol.errors import BadRequest

SF2_DIR = Path("/usr/share/sounds/sf2")
HYDROGEN_DIR = Path("/usr/share/hydrogen/data/drumkits")


@dataclass(frozen=True)
class Source:
    """One source of hits. ``kind``: ``soundfont`` (SF2 files), ``folder`` (one-shot files) or ``hydrogen`` (kits)."""

    name: str
    package: str
    licence: str
    permissive: bool
    kind: str
    paths: tuple[Path, ...]
    credit: str
    keymap: str = "gm"  # key map of kits stored as ordinary (bank 0) presets

    @property
    def copyright_file(self) -> Path:
        return Path("/usr/share/doc") / self.package / "copyright"


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "fluidr3", "fluid-soundfont-gm", "MIT", True, "soundfont", (SF2_DIR / "FluidR3_GM.sf2",),
            "Fluid (R3) GM SoundFont, Copyright (c) 2000-2002, 2008 Frank Wen; MIT licence",
        ),
        Source(
            "musescore", "musescore-general-soundfont-lossless", "MIT (parts CC0 / public domain)", True, "soundfont",
            (SF2_DIR / "MuseScore_General_Full.sf2",),
            "MuseScore_General SoundFont, Copyright (c) 2018-2021 S. Christian Collins, based on Fluid (R3) "
            "(c) 2000-2002, 2008 Frank Wen and its mono version (c) 2014-2017 Michael Cowgill; MIT licence, "
            "MuseScore Drumline samples and VSCO/VCSL samples CC0, Splendid Grand piano public domain",
        ),
        Source(
            "csound", "csound-soundfont", "public domain", True, "soundfont", (SF2_DIR / "sf_GMbank.sf2",),
            "sf_GMbank.sf2 from Csound; public domain (\"Public Domain\" in its licence field)",
        ),
        Source(
            "sonicpi", "sonic-pi-samples", "CC0-1.0", True, "folder", (Path("/usr/share/sonic-pi/samples"),),
            "Sonic Pi samples by Samuel Aaron and the freesound.org authors listed in the package; CC0 1.0",
        ),
        Source(
            "hydrogen", "hydrogen-drumkits", "GPL-2 / GPL-2+ / CC-BY-SA-3.0 / CC-BY-3.0 / CC0 (per kit)", False,
            "hydrogen", (HYDROGEN_DIR,),
            "Hydrogen drum kits by their authors (Artemiy Pavlov, Emiliano Grilli, Marcos Guglielmetti, Jim Harney, "
            "Luc Tunguay, Glen MacArthur, Emanuel Rumpf, Vladimir Sadovnikov, Alexander Belokurov and others); "
            "GPL-2, GPL-2+, CC-BY-SA-3.0, CC-BY-3.0 and CC0, per kit",
        ),
        Source(
            "avldrums", "avldrums.lv2", "GPL-2+", False, "soundfont",
            (SF2_DIR / "Black_Pearl_4_LV2.sf2", SF2_DIR / "Red_Zeppelin_4_LV2.sf2"),
            "AVL Drumkits (Black Pearl, Red Zeppelin) by Glen MacArthur, packaged by Robin Gareus; GPL-2+",
            keymap="avl",
        ),
    )
}  # fmt: skip

# Per-kit licences of hydrogen-drumkits (its Debian copyright file); kits not listed keep the source's.
HYDROGEN_LICENCES = {
    "ElectricEmpireKit": "GPL-2+", "HardElectro1": "GPL-2+", "VariBreaks": "GPL-2+",
    "Millo-Drums_v.1": "GPL-2", "Millo_MultiLayered2": "GPL-2", "Millo_MultiLayered3": "GPL-2",
    "ColomboAcousticDrumkit": "GPL-2+ with composition exception", "circAfrique v4": "CC-BY-SA-3.0",
    "BJA_Pacific": "CC-BY-SA-3.0-us", "Gimme A Hand 1.0": "GPL-2", "The Black Pearl 1.0": "GPL-2",
    "rumpf_kit_z01_h2": "CC-BY-3.0", "Audiophob": "CC0", "ForzeeStereo": "GPL-2",
}  # fmt: skip

# Kits published under two names (one recorded kit): one ``kit`` value, so no evaluation split puts it on both sides.
SAME_KIT = {"the-black-pearl-1-0": "black-pearl", "black-pearl-4pc": "black-pearl"}


def slug(text: str) -> str:
    """A file-name-safe, lower-case form of ``text`` (``"TR-808"`` → ``tr-808``)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def kit_id(name: str) -> str:
    """The ``kit`` value of a kit, preset or instrument name: its slug, shared by a kit's other names."""
    s = slug(name)
    return SAME_KIT.get(s, s)


PERMISSIVE = tuple(n for n, s in SOURCES.items() if s.permissive)
HELDOUT = tuple(n for n, s in SOURCES.items() if not s.permissive)


def select(names: list[str] | None, heldout: bool) -> list[Source]:
    """The sources to build from: all of one set by default; ``BadRequest`` for unknown or wrong-set names."""
    allowed = HELDOUT if heldout else PERMISSIVE
    if not names:
        return [SOURCES[n] for n in allowed]
    chosen = []
    for name in dict.fromkeys(names):
        if name not in SOURCES:
            raise BadRequest(f"unknown source '{name}'; known: {', '.join(SOURCES)}")
        if name not in allowed:
            raise BadRequest(
                f"source '{name}' ({SOURCES[name].licence}) may only go into a held-out evaluation set: use --heldout"
                if heldout is False
                else f"source '{name}' is permissive training data; a held-out set takes only: {', '.join(HELDOUT)}"
            )
        chosen.append(SOURCES[name])
    return chosen


def locate(source: Source) -> tuple[Path, ...]:
    """The source's installed files; ``BadRequest`` naming the Debian package when they are missing."""
    missing = [p for p in source.paths if not p.exists()]
    if missing:
        raise BadRequest(
            f"source '{source.name}' needs the Debian package {source.package} ({missing[0]} is missing): "
            f"sudo apt-get install {source.package}"
        )
    return source.paths
