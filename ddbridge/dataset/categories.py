"""Which category a hit belongs to: General MIDI drum keys, GM programs and sample or instrument names.

Cymbals (crash, ride, splash, china) belong to no category and are skipped, as is anything not
recognised: a hit is only labelled when its key or name says clearly what it is.
"""

from __future__ import annotations

import re

__all__ = [
    "GM_DRUM_KEYS", "BASS_PROGRAMS", "PLUCK_PROGRAMS", "TOM_PROGRAMS", "drum_keys", "name_category",
]  # fmt: skip

_PERC_KEYS = (37, 54, 56, *range(60, 71), 75, 76, 77, 80)
# GM percussion key map (channel 10); keys absent here (cymbals, whistles, guiros, cuicas) are skipped.
GM_DRUM_KEYS: dict[int, str] = {
    35: "kick", 36: "kick",
    38: "snare", 40: "snare",
    39: "clap",
    41: "tom", 43: "tom", 45: "tom", 47: "tom", 48: "tom", 50: "tom",
    42: "hat_closed", 44: "hat_closed",  # 44: pedal hi-hat
    46: "hat_open",
    **{k: "perc" for k in _PERC_KEYS},
}  # fmt: skip

# GS Orchestra kit: timpani on 41-53 (skipped), hi-hats on 27-29, castanets on 39.
_ORCHESTRA_KEYS = {k: c for k, c in GM_DRUM_KEYS.items() if not 41 <= k <= 53}
_ORCHESTRA_KEYS |= {27: "hat_closed", 28: "hat_closed", 29: "hat_open", 39: "perc"}
# GS Brush kit: brushes on the snare on 38-40 (tap, slap, swirl), where other kits have a clap on 39;
# the swirl is a sustained sweep, not a hit, and is skipped.
_BRUSH_KEYS = {k: c for k, c in GM_DRUM_KEYS.items() if k != 40} | {39: "snare"}
# AVL drum kits (avldrums.lv2 key map): 46 is a semi-open hat, 48 a hat swish (skipped), nothing above 61.
_AVL_KEYS = {k: c for k, c in GM_DRUM_KEYS.items() if k <= 61 and k != 48} | {61: "perc"}

KIT_KEYMAPS: dict[str, dict[int, str]] = {
    "gm": GM_DRUM_KEYS, "orchestra": _ORCHESTRA_KEYS, "brush": _BRUSH_KEYS, "avl": _AVL_KEYS,
}  # fmt: skip

# GM programs (0-based): 32-39 are the eight basses; plucked strings: nylon and steel guitar,
# pizzicato strings, harp, banjo, koto; pitched drums: melodic tom, synth drum. Presets in the GS
# variation banks (8, 16) of these programs count too (Synth Bass 3, Ukulele, Mandolin, 808 Tom).
BASS_PROGRAMS = tuple(range(32, 40))
PLUCK_PROGRAMS = (24, 25, 45, 46, 105, 107)
TOM_PROGRAMS = (117, 118)
MELODIC_BANKS = (0, 8, 16)


def drum_keys(keymap: str) -> dict[int, str]:
    """The key → category map of a kit layout (``gm``, ``orchestra``, ``brush`` or ``avl``)."""
    return KIT_KEYMAPS[keymap]


_SKIP = {
    "crash", "ride", "splash", "china", "cymbals", "roll", "swish", "choke", "chk", "chime", "whistle", "zap", "fx",
    "strum", "flink", "swoosh", "swash", "glitch", "bell", "sample", "drop", "loop",
}  # fmt: skip
_HAT = {"hat", "hh", "hihat", "hats", "ohh", "chh"}
_OPEN = {"open", "op", "opened", "ohh", "semi", "semiopen"}
_CLOSED = {"closed", "cl", "pedal", "pd", "chh"}
_KICK = {"kick", "bd", "bassdrum", "kik"}
_SNARE = {"snare", "sn", "sd", "rimshot"}
_CLAP = {"clap", "claps", "handclap"}
_PERC = {
    "cowbell", "conga", "bongo", "tambourine", "clave", "claves", "woodblock", "wood", "agogo", "maraca", "maracas",
    "cabasa", "shaker", "timbale", "djembe", "cajon", "triangle", "castanets", "tabla", "stick", "sidestick", "rim",
    "snap", "snaps", "sangban", "dununba", "kenkeni", "tick",
}  # fmt: skip


def _tokens(name: str) -> list[str]:
    """Lower-case words, split at separators, digits and camel case (``"Djembe1 Slap"`` → djembe, slap)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return re.findall(r"[a-z]+", spaced.lower())


def name_category(name: str) -> str | None:
    """The category a sample or instrument name states (``"bd_haus"``, ``"Hi Hat Closed"``), or None."""
    words = _tokens(name)
    ws = set(words)
    if "cowbell" in ws:
        return "perc"
    if ws & _SKIP:
        return None
    hat = bool(ws & _HAT) or "cymbal" in ws
    if hat and ws & _OPEN:
        return "hat_open"
    if hat and ws & _CLOSED:
        return "hat_closed"
    if hat or "cymbal" in ws:
        return None  # a hat of unknown opening, or a cymbal
    if ws & _KICK or {"bass", "drum"} <= ws:
        return "kick"
    if ws & _SNARE:
        return "snare"
    if ws & _CLAP:
        return "clap"
    if any(w.startswith("tom") for w in words):
        return "tom"
    if ws & _PERC:
        return "perc"
    if "bass" in ws:
        return "bass"
    return None
