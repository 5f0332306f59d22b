"""Loop genres, their usual tempi, and the length of a loop in bars of 4/4.

A genre is a class of the loop network; ``any`` (or no genre) is its unconditional (null) class.
"""

from __future__ import annotations

import math
import re

from ddbridge.protocol.errors import BadRequest

GENRES = ("house", "techno", "hiphop", "trap", "breakbeat", "dnb", "electro")
ANY = "any"
BEATS_PER_BAR = 4
BPM_RANGE = (70.0, 180.0)
BARS = (1, 2, 4)

# The tempi a genre is usually played at (BPM); the data also renders each genre outside them, less often.
USUAL_BPM: dict[str, tuple[float, float]] = {
    "house": (118, 128),
    "techno": (124, 142),
    "hiphop": (80, 98),
    "trap": (130, 150),
    "breakbeat": (120, 140),
    "dnb": (160, 178),
    "electro": (118, 134),
}

ALIASES: dict[str, str] = {
    "hip_hop": "hiphop", "boom_bap": "hiphop", "boombap": "hiphop",
    "breaks": "breakbeat", "break": "breakbeat",
    "drum_and_bass": "dnb", "drum_n_bass": "dnb", "drumandbass": "dnb", "d_b": "dnb", "jungle": "dnb",
    "deep_house": "house", "tech_house": "house", "electro_funk": "electro", "miami_bass": "electro",
}  # fmt: skip


def resolve_genre(name: str | None) -> str | None:
    """The genre ``name`` asks for (aliases such as ``boom-bap`` or ``jungle``), None for ``any`` or no name;
    ``BadRequest`` naming the genres otherwise."""
    if name is None or not str(name).strip():
        return None
    key = re.sub(r"[\s\-&]+", "_", str(name).strip().lower())
    if key == ANY:
        return None
    key = ALIASES.get(key, key)
    if key not in GENRES:
        raise BadRequest(f"unknown genre '{name}'; choose one of: {', '.join(GENRES + (ANY,))}")
    return key


def check_tempo(bpm: float, bars: int) -> tuple[float, int]:
    """``(bpm, bars)`` when a loop network can make them (70-180 BPM; 1, 2 or 4 bars), else ``BadRequest``."""
    if isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or not math.isfinite(bpm):
        raise BadRequest(f"bpm must be a number, got {bpm!r}")
    low, high = BPM_RANGE
    if not low <= bpm <= high:
        raise BadRequest(f"bpm must be {low:g}-{high:g} for a loop, got {bpm:g}")
    if isinstance(bars, bool) or not isinstance(bars, (int, float)) or bars not in BARS:
        raise BadRequest(f"bars must be one of {', '.join(map(str, BARS))} for a loop, got {bars!r}")
    return float(bpm), int(bars)


def loop_seconds(bpm: float, bars: int) -> float:
    """A loop's exact length: ``bars * 4 * 60 / bpm`` seconds."""
    return bars * BEATS_PER_BAR * 60.0 / bpm


def loop_samples(bpm: float, bars: int, sample_rate: int) -> int:
    """A loop's length in samples at ``sample_rate`` (rounded to the nearest sample)."""
    return int(round(loop_seconds(bpm, bars) * sample_rate))


def loop_stem(genre: str | None, tempo: tuple[float, int]) -> str:
    """A loop's file name stem: ``loop_house_124bpm`` (``loop_124bpm`` without a genre; ``124-5bpm`` for 124.5)."""
    bpm = f"{tempo[0]:g}".replace(".", "-")
    return "_".join(["loop", *([genre] if genre else []), f"{bpm}bpm"])
