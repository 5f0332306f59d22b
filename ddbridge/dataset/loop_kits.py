"""Drum patterns played by kits of one-shots (procedural, model-made or real): a small drum machine.

A kit takes one sound per part from pools of one-shots by category. Each part is one voice: a new hit
cuts the part's previous one (a 3 ms fade), and a closed or pedal hat also cuts a ringing open hat. The
pattern is played three times and the middle repetition kept, so the loop wraps with its tails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import soxr

from ddbridge.loops.genres import loop_samples
from ddbridge.loops.patterns import Pattern

SAMPLE_RATE = 44100
REPEATS = 3
CUT_FADE = 0.003  # s
# The one-shot category a part is played with; parts missing here (ride, crash) are left out of sample kits.
PART_CATEGORY = {
    "kick": "kick", "snare": "snare", "clap": "clap", "rim": "perc", "hat_closed": "hat_closed",
    "hat_pedal": "hat_closed", "hat_open": "hat_open", "tom_low": "tom", "tom_mid": "tom", "tom_high": "tom",
    "cowbell": "perc", "shaker": "perc", "tambourine": "perc", "conga": "perc", "clave": "perc",
}  # fmt: skip
# Mix level of each category (before a kit's own +-3 dB per part); toms are pitched apart by these ratios.
LEVELS = {"kick": 1.0, "snare": 0.8, "clap": 0.75, "hat_closed": 0.42, "hat_open": 0.42, "tom": 0.7, "perc": 0.45}
TOM_PITCH = {"tom_low": 0.84, "tom_mid": 1.0, "tom_high": 1.19}
CHOKERS = ("hat_closed", "hat_pedal")


@dataclass(frozen=True)
class SampleKit:
    """One sound per part (mono float32 at ``SAMPLE_RATE``, peak 1) and its mix gain."""

    name: str
    sounds: Mapping[str, np.ndarray]
    gains: Mapping[str, float]


def _unit(x: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return (x / peak).astype(np.float32) if peak > 0 else x.astype(np.float32)


def assemble(name: str, pools: Mapping[str, list[np.ndarray]], rng: np.random.Generator) -> SampleKit | None:
    """A kit drawn from ``pools`` (category -> one-shots); None when the pools lack a kick, snare or clap, or hats."""
    if not pools.get("kick") or not (pools.get("snare") or pools.get("clap")) or not pools.get("hat_closed"):
        return None
    sounds, gains = {}, {}
    chosen: dict[str, np.ndarray] = {}
    for part, category in PART_CATEGORY.items():
        pool = pools.get(category) or []
        if not pool:
            continue
        if category in chosen and category != "perc":  # one tom, one hat... per kit; every perc part its own
            sound = chosen[category]
        else:
            sound = _unit(pool[int(rng.integers(len(pool)))])
            chosen[category] = sound
        if part in TOM_PITCH:
            resampled = soxr.resample(sound.astype(np.float64), SAMPLE_RATE * TOM_PITCH[part], SAMPLE_RATE)
            sound = resampled.astype(np.float32)
        sounds[part] = sound
        gains[part] = LEVELS[category] * 10 ** (rng.uniform(-3, 3) / 20)
    if "snare" not in sounds:
        sounds["snare"], gains["snare"] = sounds["clap"], gains["clap"]
    if "clap" not in sounds:
        sounds["clap"], gains["clap"] = sounds["snare"], gains["snare"]
    return SampleKit(name, sounds, gains)


def play(kit: SampleKit, pattern: Pattern, bpm: float) -> np.ndarray:
    """``pattern`` played on ``kit`` at ``bpm``: one loop, mono float32 of exactly ``bars * 4 * 60 / bpm`` s."""
    n = loop_samples(bpm, pattern.bars, SAMPLE_RATE)
    beat = 60.0 / bpm * SAMPLE_RATE
    hits = [(round(note.beat * beat) + rep * n, note) for rep in range(REPEATS) for note in pattern.notes]
    hits = [(at, note) for at, note in hits if note.part in kit.sounds]
    out = np.zeros(REPEATS * n + SAMPLE_RATE * 2, dtype=np.float32)
    fade = max(int(CUT_FADE * SAMPLE_RATE), 1)
    for i, (at, note) in enumerate(hits):
        sound = kit.sounds[note.part]
        cut_by = {note.part, *(CHOKERS if note.part == "hat_open" else ())}
        stops = [a for a, other in hits[i + 1 :] if other.part in cut_by]
        end = min(sound.size, (stops[0] - at) if stops else sound.size, out.size - at)
        if end <= 0:
            continue
        piece = sound[:end] * np.float32(kit.gains[note.part] * (note.velocity / 127) ** 1.5)
        if end < sound.size:
            piece[-min(fade, end) :] *= np.linspace(1, 0, min(fade, end), dtype=np.float32)
        out[at : at + end] += piece
    return out[n : 2 * n].copy()
