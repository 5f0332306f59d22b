"""Drum patterns played by SoundFont kits: MIDI written with mido, rendered with the fluidsynth CLI.

One fluidsynth run renders many loops: each plays its pattern three times on the drum channel with
its kit's program, then everything is silenced before the next. The middle repetition is the loop:
it starts with the tails of the first and its own tails run on into the third, so it wraps seamlessly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ddbridge.dataset.soundfont import play
from ddbridge.loops.genres import loop_samples
from ddbridge.loops.patterns import Pattern

SAMPLE_RATE = 44100
TICKS_PER_SECOND = 19200  # MIDI ticks (one beat per second): a tick is 2.3 samples
REPEATS = 3
GAP = 2.5  # s of silence after a loop's last repetition, before the next loop's kit is chosen
MAX_HOLD = 2.0  # s a note is held at most (until the same part plays again)
BATCH_SECONDS = 600.0

# General MIDI percussion keys of the pattern parts.
PART_KEYS = {
    "kick": 36, "snare": 38, "rim": 37, "clap": 39, "hat_closed": 42, "hat_pedal": 44, "hat_open": 46,
    "ride": 51, "crash": 49, "tom_low": 45, "tom_mid": 47, "tom_high": 50, "cowbell": 56, "shaker": 70,
    "tambourine": 54, "conga": 63, "clave": 75,
}  # fmt: skip
# How far (sd, seconds) a drummer's timing wanders; programmed genres stay on the grid.
TIMING_SD = {"hiphop": 0.004, "breakbeat": 0.003, "dnb": 0.002}


@dataclass(frozen=True)
class Take:
    """A pattern to play at ``bpm`` with the kit at ``program`` (bank 128) of a SoundFont."""

    pattern: Pattern
    bpm: float
    program: int
    seed: int

    @property
    def samples(self) -> int:
        return loop_samples(self.bpm, self.pattern.bars, SAMPLE_RATE)

    @property
    def seconds(self) -> float:
        return REPEATS * self.samples / SAMPLE_RATE + GAP


def note_times(take: Take) -> list[tuple[float, int, int]]:
    """``(seconds from the loop's start, key, velocity)`` of one repetition, timing humanised per genre."""
    rng = np.random.default_rng(take.seed)
    sd = TIMING_SD.get(take.pattern.genre, 0.0)
    beat = 60.0 / take.bpm
    loop = take.samples / SAMPLE_RATE
    out = []
    for note in take.pattern.notes:
        t = note.beat * beat + (float(rng.normal(0, sd)) if sd else 0.0)
        out.append((min(max(t, 0.0), loop - 1e-3), PART_KEYS[note.part], note.velocity))
    return out


def _song(takes: list[Take]) -> tuple[list[tuple[float, object]], list[float]]:
    """The MIDI events (seconds, message; in time order) playing ``takes`` one after another, and each take's
    start (s)."""
    import mido

    events: list[tuple[float, int, mido.Message]] = []  # (time, order, message): program changes first
    starts, now = [], 0.5
    for take in takes:
        starts.append(now)
        events.append((now - 0.3, 0, mido.Message("program_change", channel=9, program=take.program)))
        loop = take.samples / SAMPLE_RATE
        one = note_times(take)
        for rep in range(REPEATS):
            for i, (t, key, velocity) in enumerate(one):
                start = now + rep * loop + t
                later = [u for u, k, _ in one[i + 1 :] if k == key] + [u + loop for u, k, _ in one if k == key]
                hold = min((later[0] - t) if later else MAX_HOLD, MAX_HOLD) * 0.95
                events.append((start, 2, mido.Message("note_on", channel=9, note=key, velocity=velocity)))
                events.append((start + hold, 1, mido.Message("note_off", channel=9, note=key, velocity=0)))
        end = now + REPEATS * loop + GAP - 0.4
        events.append((end, 1, mido.Message("control_change", channel=9, control=120, value=0)))
        now += take.seconds
    return [(t, msg) for t, _, msg in sorted(events, key=lambda e: (e[0], e[1]))], starts


def render(sf2: Path, takes: list[Take]) -> list[np.ndarray]:
    """One fluidsynth run: each take's loop, mono float32 of exactly ``take.samples`` samples."""
    events, starts = _song(takes)
    audio = play(sf2, events, TICKS_PER_SECOND, tail_s=1.0, timeout=3600).mean(axis=1)
    loops = []
    for take, start in zip(takes, starts, strict=True):
        first = round(start * SAMPLE_RATE) + take.samples
        piece = audio[first : first + take.samples]
        loops.append(np.pad(piece, (0, take.samples - piece.size)).astype(np.float32))
    return loops


def batches(takes: list[Take]) -> list[list[Take]]:
    """``takes`` in runs of at most ``BATCH_SECONDS`` of rendered audio."""
    out: list[list[Take]] = []
    seconds = BATCH_SECONDS
    for take in takes:
        if seconds + take.seconds > BATCH_SECONDS:
            out.append([])
            seconds = 0.0
        out[-1].append(take)
        seconds += take.seconds
    return out
