"""Render an SF2 SoundFont note by note with the fluidsynth CLI: its drum kits, bass and plucked programs.

Each preset is one fluidsynth run over a MIDI file (written with mido) that plays its notes a few
seconds apart, reverb and chorus off, silencing everything (all-sound-off) before the next note;
the render is then cut into one window per note.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ddbridge.dataset.categories import BASS_PROGRAMS, MELODIC_BANKS, PLUCK_PROGRAMS, TOM_PROGRAMS, drum_keys
from ddbridge.dataset.hits import SAMPLE_RATE, Job, RawHit
from ddbridge.dataset.sf2 import Preset, presets
from ddbridge.dataset.sources import Source, kit_id
from ddbridge.errors import BadRequest, DDBridgeError

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
TICKS_PER_SECOND = 960  # MIDI: 960 ticks per beat at 60 bpm
# Bank-128 presets laid out as General MIDI / GS drum kits (other drum presets use their own maps).
GM_KITS = re.compile(r"^(standard|room|power|electronic|tr[ -]?808|jazz|brush|orchestra)", re.IGNORECASE)


def fluidsynth() -> str:
    """The fluidsynth executable; ``BadRequest`` naming the Debian package when it is missing."""
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise BadRequest("rendering SoundFonts needs the fluidsynth command: sudo apt-get install fluidsynth")
    return exe


def _midi(path: Path, bank: int, program: int, notes: list[tuple[int, int]], hold: float) -> list[float]:
    """Write a MIDI file playing ``notes`` (key, velocity) one after another; returns each note's start (s)."""
    import mido

    channel = 9 if bank == 128 else 0
    events: list[tuple[float, mido.Message]] = []
    if channel != 9:
        events.append((0.0, mido.Message("control_change", channel=channel, control=0, value=bank & 127)))
    events.append((0.0, mido.Message("program_change", channel=channel, program=program)))
    period = PERIOD
    starts = [LEAD + i * period for i in range(len(notes))]
    for start, (key, velocity) in zip(starts, notes, strict=True):
        events.append((start, mido.Message("note_on", channel=channel, note=key, velocity=velocity)))
        events.append((start + hold, mido.Message("note_off", channel=channel, note=key, velocity=0)))
        events.append((start + period - 0.2, mido.Message("control_change", channel=channel, control=120, value=0)))
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=1_000_000, time=0)])
    now = 0
    for t, msg in sorted(events, key=lambda e: e[0]):
        tick = round(t * TICKS_PER_SECOND)
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=round(0.5 * TICKS_PER_SECOND)))
    song = mido.MidiFile(ticks_per_beat=TICKS_PER_SECOND)
    song.tracks.append(track)
    song.save(str(path))
    return starts


def render_notes(sf2: Path, bank: int, program: int, notes: list[tuple[int, int]], hold: float) -> list[np.ndarray]:
    """One mono window per note of preset ``bank:program`` of ``sf2``, each starting just before its note."""
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="ddbridge-sf2-") as tmp:
        song, out = Path(tmp) / "song.mid", Path(tmp) / "out.wav"
        starts = _midi(song, bank, program, notes, hold)
        cmd = [fluidsynth(), "-ni", "-q", "-R", "0", "-C", "0", "-g", str(GAIN), "-r", str(SAMPLE_RATE)]
        cmd += ["-O", "float", "-T", "wav", "-F", str(out), str(sf2), str(song)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if done.returncode != 0 or not out.is_file():
            raise DDBridgeError(f"fluidsynth failed on {sf2.name} preset {bank}:{program}: {done.stderr.strip()}")
        frames = sf.read(str(out), dtype="float32", always_2d=True)[0]  # [L, C]
        audio = frames[:, 0].astype(np.float64)
        for c in range(1, frames.shape[1]):
            audio += frames[:, c]
    before, length = int(0.01 * SAMPLE_RATE), int((PERIOD - 0.25) * SAMPLE_RATE)
    return [audio[int(s * SAMPLE_RATE) - before : int(s * SAMPLE_RATE) - before + length] for s in starts]


def _kit_job(source: Source, sf2: Path, preset: Preset, keymap: str) -> Job:
    keys = drum_keys(keymap)
    notes = [(k, v) for k in sorted(keys) for v in DRUM_VELOCITIES]

    def run() -> Iterator[RawHit]:
        windows = render_notes(sf2, preset.bank, preset.program, notes, DRUM_HOLD)
        for (key, vel), audio in zip(notes, windows, strict=True):
            origin = f"{sf2.name} preset {preset.bank}:{preset.program} ({preset.name}) key {key} vel {vel}"
            yield RawHit(keys[key], kit_id(preset.name), f"k{key}-v{vel}", origin, audio)

    return f"{source.name}: {preset.name}", run


# category: (GM programs, notes, hold); pitched drums are held like kit drums, to ring out naturally
MELODIC = {
    "bass": (BASS_PROGRAMS, BASS_NOTES, MELODIC_HOLD),
    "pluck": (PLUCK_PROGRAMS, PLUCK_NOTES, MELODIC_HOLD),
    "tom": (TOM_PROGRAMS, TOM_NOTES, DRUM_HOLD),
}


def _melodic_job(source: Source, sf2: Path, preset: Preset, category: str) -> Job:
    _, keys, hold = MELODIC[category]
    notes = [(k, MELODIC_VELOCITY) for k in keys]

    def run() -> Iterator[RawHit]:
        windows = render_notes(sf2, preset.bank, preset.program, notes, hold)
        for (key, vel), audio in zip(notes, windows, strict=True):
            origin = f"{sf2.name} preset {preset.bank}:{preset.program} ({preset.name}) note {key} vel {vel}"
            yield RawHit(category, kit_id(preset.name), f"n{key}-v{vel}", origin, audio)

    return f"{source.name}: {preset.name}", run


def jobs(source: Source, sf2: Path) -> list[Job]:
    """One render job per drum kit and per bass, pluck or pitched-drum program that ``sf2`` holds."""
    fluidsynth()
    found = presets(sf2)
    if source.keymap != "gm":  # kits stored as ordinary presets with their own key map
        return [_kit_job(source, sf2, p, source.keymap) for p in found]
    kits = sorted((p for p in found if p.bank == 128 and GM_KITS.match(p.name)), key=lambda p: p.program)
    out = [_kit_job(source, sf2, p, "orchestra" if p.name.lower().startswith("orch") else "gm") for p in kits]
    melodic = sorted((p for p in found if p.bank in MELODIC_BANKS), key=lambda p: (p.program, p.bank))
    for category, (programs, _, _) in MELODIC.items():
        out += [_melodic_job(source, sf2, p, category) for p in melodic if p.program in programs]
    return out
