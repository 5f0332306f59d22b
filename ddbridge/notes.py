"""Notes: names, MIDI note numbers and frequencies. ``C4`` is MIDI 60 (middle C, 261.63 Hz), ``A4`` is 69
(440 Hz), so ``C2`` is 36 (65.41 Hz) and ``C-1`` is 0.

A note is a name (a letter A-G in either case, an optional ``#`` or ``b``, then the octave, -1 to 9:
``C2``, ``F#1``, ``Bb0``) or a MIDI note number 0-127 (an integer, or its decimal digits). The protocol
checks a request's ``note`` against ``NOTE_PATTERN``. Pure Python.
"""

from __future__ import annotations

import math
import re

from ddbridge.protocol.errors import BadRequest

NOTE_PATTERN = "^[A-Ga-g][#b]?(-1|[0-9])$"
NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MIDI_RANGE = (0, 127)
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {"": 0, "#": 1, "b": -1}
_NAME = re.compile(r"([A-Ga-g])([#b]?)(-1|[0-9])")


def parse_note(value: str | int | float) -> int:
    """The MIDI note number of a note name or number; ``BadRequest`` saying what a note looks like otherwise."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        midi = value
    elif isinstance(value, str) and (m := _NAME.fullmatch(value.strip())):
        letter, accidental, octave = m.groups()
        midi = (int(octave) + 1) * 12 + _LETTERS[letter.upper()] + _ACCIDENTALS[accidental]
    else:
        raise BadRequest(
            f"note {str(value)[:20]!r} is not a note: give a name such as C2, F#1 or Bb0 (C4 is middle C) "
            "or a MIDI note number 0-127"
        )
    if not MIDI_RANGE[0] <= midi <= MIDI_RANGE[1]:
        raise BadRequest(f"note {value!r} is MIDI note {midi}, outside 0-127 (C-1 to G9)")
    return midi


def note_name(midi: int) -> str:
    """The name of MIDI note ``midi`` with sharps: 36 -> ``C2``, 61 -> ``C#4``."""
    return f"{NAMES[midi % 12]}{midi // 12 - 1}"


def note_hz(midi: float) -> float:
    """The frequency of (fractional) MIDI note ``midi`` in equal temperament at A4 = 440 Hz."""
    return 440.0 * 2 ** ((midi - 69) / 12)


def hz_midi(hz: float) -> float:
    """The fractional MIDI note of frequency ``hz``: 440 -> 69.0."""
    return 69 + 12 * math.log2(hz / 440.0)
