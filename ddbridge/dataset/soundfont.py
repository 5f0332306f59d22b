"""Render an SF2 SoundFont note by note with the fluidsynth CLI: its drum kits, basses, plucks, pitched toms.

One fluidsynth run (the SoundFont loaded once) renders a MIDI file, written with mido, that plays
a few presets' notes one after another a few seconds apart, reverb and chorus off, silencing
everything (all-sound-off) before the next note; the render is then cut into one window per note.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ddbridge.dataset.categories import BASS_PROGRAMS, MELODIC_BANKS, PLUCK_PROGRAMS, TOM_PROGRAMS, drum_keys
from ddbridge.dataset.hits import SAMPLE_RATE, Job, RawHit
from ddbridge.dataset.sf2 import Preset, presets
from ddbridge.dataset.sources import Source, kit_id
from ddbridge.protocol.errors import BadRequest, DDBridgeError

GAIN = 0.5  # fluidsynth master gain; the float output cannot clip and every hit is normalised later
DRUM_VELOCITIES = (110, 70)
DRUM_HOLD = 2.1  # s: drum notes are held past the longest tail kept, so a note-off never shortens one
MELODIC_HOLD = 0.4  # s: bass and pluck notes are short one-shots
MELODIC_VELOCITY = 100
BASS_NOTES = tuple(range(28, 53, 4))  # E1 .. E3
PLUCK_NOTES = tuple(range(45, 82, 6))  # A2 .. A5
TOM_NOTES = tuple(range(38, 63, 4))  # D2 .. D4
PERIOD = 3.0  # s from one note-on to the next; all sound is cut 0.2 s before the next note
LEAD = 0.5  # s of silence before the first note
BATCH_SECONDS = 600.0  # at most this much audio per fluidsynth run (~210 MB of float stereo)
TICKS_PER_SECOND = 960  # MIDI: 960 ticks per beat at 60 bpm
# Bank-128 presets laid out as General MIDI / GS drum kits (other drum presets use their own maps).
GM_KITS = re.compile(r"^(standard|room|power|electronic|tr[ -]?808|jazz|brush|orchestra)", re.IGNORECASE)


def fluidsynth() -> str:
    """The fluidsynth executable; ``BadRequest`` naming the Debian package when it is missing."""
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise BadRequest("rendering SoundFonts needs the fluidsynth command: sudo apt-get install fluidsynth")
    return exe


@dataclass(frozen=True)
class Part:
    """One preset's notes in a render: (key, velocity) pairs, how long each is held, each key's category."""

    preset: Preset
    notes: tuple[tuple[int, int], ...]
    hold: float
    categories: dict[int, str]
    melodic: bool


def _song(parts: list[Part]) -> tuple[list[tuple[float, object]], list[float]]:
    """The MIDI events (seconds, message; in time order) playing every part's notes one after another, and
    each note's start (s)."""
    import mido

    events: list[tuple[float, mido.Message]] = []
    starts: list[float] = []
    for part in parts:
        p = part.preset
        channel = 9 if p.bank == 128 else 0  # GS: the drum channel's programs are the bank-128 kits
        first = LEAD + len(starts) * PERIOD
        if channel != 9:
            events.append((first - 0.1, mido.Message("control_change", channel=channel, control=0, value=p.bank & 127)))
        events.append((first - 0.1, mido.Message("program_change", channel=channel, program=p.program)))
        for key, velocity in part.notes:
            start = LEAD + len(starts) * PERIOD
            starts.append(start)
            events.append((start, mido.Message("note_on", channel=channel, note=key, velocity=velocity)))
            events.append((start + part.hold, mido.Message("note_off", channel=channel, note=key, velocity=0)))
            events.append((start + PERIOD - 0.2, mido.Message("control_change", channel=channel, control=120, value=0)))
    return sorted(events, key=lambda e: e[0]), starts


def play(
    sf2: Path, events: list[tuple[float, object]], ticks_per_second: int, tail_s: float, timeout: float
) -> np.ndarray:
    """One fluidsynth run of ``sf2`` (reverb and chorus off) playing ``events`` (seconds, mido message; in time
    order) as a one-track MIDI file at 60 BPM that ends ``tail_s`` after the last: float32 ``[L, C]`` frames."""
    import mido
    import soundfile as sf

    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=1_000_000, time=0)])
    now = 0
    for t, msg in events:
        tick = round(t * ticks_per_second)
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=round(tail_s * ticks_per_second)))
    song = mido.MidiFile(ticks_per_beat=ticks_per_second)
    song.tracks.append(track)
    with tempfile.TemporaryDirectory(prefix="ddbridge-sf2-") as tmp:
        path, out = Path(tmp) / "song.mid", Path(tmp) / "out.wav"
        song.save(str(path))
        cmd = [fluidsynth(), "-ni", "-q", "-R", "0", "-C", "0", "-g", str(GAIN), "-r", str(SAMPLE_RATE)]
        cmd += ["-O", "float", "-T", "wav", "-F", str(out), str(sf2), str(path)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0 or not out.is_file():
            raise DDBridgeError(f"fluidsynth failed on {sf2.name}: {done.stderr.strip()}")
        return sf.read(str(out), dtype="float32", always_2d=True)[0]


def render(sf2: Path, parts: list[Part]) -> list[np.ndarray]:
    """One fluidsynth run of ``parts``: a mono window per note, in order, each starting just before its note."""
    events, starts = _song(parts)
    frames = play(sf2, events, TICKS_PER_SECOND, tail_s=0.5, timeout=1800)
    audio = frames.sum(axis=1, dtype=np.float64)
    before, length = int(0.01 * SAMPLE_RATE), int((PERIOD - 0.25) * SAMPLE_RATE)
    return [audio[int(s * SAMPLE_RATE) - before : int(s * SAMPLE_RATE) - before + length] for s in starts]


def _batch_job(source: Source, sf2: Path, parts: list[Part]) -> Job:
    def run() -> Iterator[RawHit]:
        windows = iter(render(sf2, parts))
        for part in parts:
            p, kind = part.preset, "note" if part.melodic else "key"
            for key, vel in part.notes:
                origin = f"{sf2.name} preset {p.bank}:{p.program} ({p.name}) {kind} {key} vel {vel}"
                what = f"{'n' if part.melodic else 'k'}{key}-v{vel}"
                yield RawHit(part.categories[key], kit_id(p.name), what, origin, next(windows))

    names = [p.preset.name for p in parts]
    return f"{source.name}: {names[0]}" + (f" .. {names[-1]}" if len(names) > 1 else ""), run


# category: (GM programs, notes, hold); pitched drums are held like kit drums, to ring out naturally
MELODIC = {
    "bass": (BASS_PROGRAMS, BASS_NOTES, MELODIC_HOLD),
    "pluck": (PLUCK_PROGRAMS, PLUCK_NOTES, MELODIC_HOLD),
    "tom": (TOM_PROGRAMS, TOM_NOTES, DRUM_HOLD),
}


def gs_kit_layout(name: str) -> str:
    """The key map of a GM/GS kit preset by its name: the Orchestra and Brush kits differ from ``gm``."""
    lower = name.lower()
    return "orchestra" if lower.startswith("orch") else "brush" if lower.startswith("brush") else "gm"


def parts(source: Source, sf2: Path) -> list[Part]:
    """What to render from ``sf2``: every drum kit, and every bass, pluck or pitched-drum program it holds."""
    found = presets(sf2)
    if source.keymap != "gm":  # kits stored as ordinary presets with their own key map
        kits = [(p, drum_keys(source.keymap)) for p in found]
    else:
        gm = sorted((p for p in found if p.bank == 128 and GM_KITS.match(p.name)), key=lambda p: p.program)
        kits = [(p, drum_keys(gs_kit_layout(p.name))) for p in gm]
    out = [Part(p, tuple((k, v) for k in sorted(keys) for v in DRUM_VELOCITIES), DRUM_HOLD, keys, False)
           for p, keys in kits]  # fmt: skip
    if source.keymap == "gm":
        melodic = sorted((p for p in found if p.bank in MELODIC_BANKS), key=lambda p: (p.program, p.bank))
        for category, (programs, notes, hold) in MELODIC.items():
            out += [Part(p, tuple((k, MELODIC_VELOCITY) for k in notes), hold, dict.fromkeys(notes, category), True)
                    for p in melodic if p.program in programs]  # fmt: skip
    return out


def jobs(source: Source, sf2: Path) -> list[Job]:
    """Render jobs for ``sf2``: its parts in batches of at most ``BATCH_SECONDS`` of audio."""
    fluidsynth()
    batches: list[list[Part]] = []
    seconds = BATCH_SECONDS
    for part in parts(source, sf2):
        if seconds + len(part.notes) * PERIOD > BATCH_SECONDS:
            batches.append([])
            seconds = 0.0
        batches[-1].append(part)
        seconds += len(part.notes) * PERIOD
    return [_batch_job(source, sf2, batch) for batch in batches]
