"""RIFF chunks that tell a DAW or sampler how to play a file: ``acid`` (tempo, beats, loop) and ``smpl``
(MIDI unity note, loop points).

``acid`` (24 bytes): flags (u32: 0x01 one-shot, 0x02 root note set, 0x04 stretch), root note (u16), two
reserved fields (u16 0x8000, f32 0), number of beats (u32), meter denominator and numerator (u16 each),
tempo in BPM (f32). Live, REAPER and other hosts read it on drop to set the clip's tempo and warp it.
``smpl`` (36 bytes + 24 per loop): manufacturer, product, sample period in ns, MIDI unity note, pitch
fraction, SMPTE format and offset, loop count, sampler data (u32 each), then per loop: cue id, type
(0: forward), first and last sample (inclusive), fraction, play count (0: for ever).
"""

from __future__ import annotations

import struct

ACID_ONE_SHOT, ACID_ROOT_NOTE, ACID_STRETCH = 0x01, 0x02, 0x04
MIDDLE_C = 60


def chunk(cid: bytes, payload: bytes) -> bytes:
    """One RIFF chunk: id, little-endian size, payload, a pad byte when the size is odd."""
    return cid + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")


def acid_chunk(bpm: float, beats: int, root_note: int | None = None) -> bytes:
    """A loop's ``acid`` chunk: ``beats`` beats of 4/4 at ``bpm``, stretchable, with an optional root note."""
    flags = ACID_STRETCH | (ACID_ROOT_NOTE if root_note is not None else 0)
    note = MIDDLE_C if root_note is None else root_note
    return chunk(b"acid", struct.pack("<IHHfIHHf", flags, note, 0x8000, 0.0, beats, 4, 4, float(bpm)))


def smpl_chunk(sample_rate: int, frames: int, unity_note: int = MIDDLE_C, loop: bool = True) -> bytes:
    """A ``smpl`` chunk: ``unity_note`` and, for a loop, one forward loop over all ``frames``."""
    loops = 1 if loop else 0
    header = struct.pack("<9I", 0, 0, round(1e9 / sample_rate), unity_note, 0, 0, 0, loops, 0)
    points = struct.pack("<6I", 0, 0, 0, frames - 1, 0, 0) if loop else b""
    return chunk(b"smpl", header + points)


def playback_chunks(metadata: dict, sample_rate: int, frames: int) -> bytes:
    """The chunks ``metadata`` calls for: a loop with a tempo (``bpm``, ``beats``) gets ``acid`` and ``smpl``; a
    one-shot tuned to a root note (``midi_note``) gets ``smpl`` with that unity note and no loop."""
    if metadata.get("loop") and metadata.get("bpm") and metadata.get("beats"):
        return acid_chunk(metadata["bpm"], int(metadata["beats"])) + smpl_chunk(sample_rate, frames)
    if metadata.get("midi_note") is not None and not metadata.get("loop"):
        return smpl_chunk(sample_rate, frames, unity_note=int(metadata["midi_note"]), loop=False)
    return b""
