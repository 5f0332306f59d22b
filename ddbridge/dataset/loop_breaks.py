"""Real drum breaks: Sonic Pi's CC0 loops, with their tempo, bars and genre, at several tempi.

Each loop's length holds a whole number of beats, which fixes its tempo (``loop_amen``: 4 beats in
1.753 s, 136.9 BPM). Longer loops are also cut into single bars, each bar crossfaded over its first
10 ms from what followed it in the break, so the bar wraps seamlessly. Breaks are then played faster
and slower by resampling, as jungle producers pitch them, within the loop network's tempo range.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ddbridge.loops.genres import BEATS_PER_BAR, BPM_RANGE
from ddbridge.sound.audio import load_audio, resample, to_mono

SAMPLE_RATE = 44100
SONIC_PI = Path("/usr/share/sonic-pi/samples")
CROSSFADE = 0.01  # s
SPEEDS = (0.82, 0.9, 1.0, 1.1, 1.22)


@dataclass(frozen=True)
class Break:
    """A loop file of Sonic Pi's with the beats it holds and the genre it is played in (None: any)."""

    name: str
    beats: int
    genre: str | None


# The drum loops among Sonic Pi's samples (its drones and synth loops are left out).
BREAKS = (
    Break("loop_amen", 4, "breakbeat"),
    Break("loop_amen_full", 16, "breakbeat"),
    Break("loop_breakbeat", 4, "breakbeat"),
    Break("loop_industrial", 2, "techno"),
    Break("loop_mehackit1", 4, "hiphop"),
    Break("loop_mehackit2", 4, "hiphop"),
    Break("loop_compus", 16, None),
    Break("loop_mika", 16, None),
    Break("loop_safari", 16, None),
    Break("loop_tabla", 16, None),
    Break("loop_perc1", 4, None),
    Break("loop_perc2", 4, None),
)


@dataclass(frozen=True)
class BreakLoop:
    """One loop cut from a break: ``bars`` bars at ``bpm`` (mono float32 at ``SAMPLE_RATE``)."""

    name: str
    genre: str | None
    bpm: float
    bars: int
    audio: np.ndarray


def split_bars(audio: np.ndarray, n_bars: int, bar: float) -> list[np.ndarray]:
    """The first ``n_bars`` bars of ``bar`` samples each, every bar crossfaded over its first 10 ms from what
    followed it (wrapping round the end of ``audio``), so each wraps seamlessly on its own."""
    fade = int(CROSSFADE * SAMPLE_RATE)
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    out = []
    for k in range(n_bars):
        start, stop = round(k * bar), round((k + 1) * bar)
        piece = audio[start:stop].astype(np.float32)
        after = np.take(audio, np.arange(stop, stop + fade), mode="wrap")
        piece[:fade] = after * (1 - ramp) + piece[:fade] * ramp
        out.append(piece)
    return out


def _bars(audio: np.ndarray, beats: int) -> list[np.ndarray]:
    """The break as whole bars: itself when it is one bar or less (a short one repeated to a bar), else its bars."""
    if beats <= BEATS_PER_BAR:
        return [np.tile(audio, BEATS_PER_BAR // beats)]
    n_bars = beats // BEATS_PER_BAR
    return split_bars(audio, n_bars, audio.size / n_bars)


def loops(folder: Path = SONIC_PI) -> Iterator[BreakLoop]:
    """Every break in ``folder`` (whole and cut into bars), at each of ``SPEEDS`` within the tempo range."""
    low, high = BPM_RANGE
    for brk in BREAKS:
        path = folder / f"{brk.name}.flac"
        if not path.is_file():
            continue
        audio, rate = load_audio(path)
        mono = resample(to_mono(audio), rate, SAMPLE_RATE)[0]
        bpm = brk.beats * 60.0 * SAMPLE_RATE / mono.size
        pieces = [(f"bar{k + 1}", piece, 1) for k, piece in enumerate(_bars(mono, brk.beats))]
        for speed in SPEEDS:
            tempo = bpm * speed
            if not low <= tempo <= high:
                continue
            for label, piece, bars in pieces:
                n = round(bars * BEATS_PER_BAR * 60.0 / tempo * SAMPLE_RATE)
                stretched = resample(np.tile(piece, 3)[None], piece.size, n)[0, n : 2 * n]
                exact = bars * BEATS_PER_BAR * 60.0 * SAMPLE_RATE / n  # the tempo of exactly n samples
                yield BreakLoop(f"{brk.name}-{label}-x{speed:g}", brk.genre, exact, bars, stretched.astype(np.float32))
