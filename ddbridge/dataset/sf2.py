"""The presets an SF2 SoundFont holds, read from its preset headers (``pdta/phdr``) without loading samples."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from ddbridge.protocol.errors import BadRequest

_PHDR = 38  # bytes per preset header: name[20], preset, bank, bag index, library, genre, morphology


@dataclass(frozen=True)
class Preset:
    bank: int
    program: int
    name: str


def presets(path: str | Path) -> list[Preset]:
    """Every preset of the SoundFont at ``path`` in file order; ``BadRequest`` when it is not a SoundFont."""
    path = Path(path)
    with path.open("rb") as f:
        riff, size, form = struct.unpack("<4sI4s", f.read(12).ljust(12, b"\0"))
        if riff != b"RIFF" or form != b"sfbk":
            raise BadRequest(f"{path} is not an SF2 SoundFont")
        while f.tell() < size + 8:
            head = f.read(8)
            if len(head) < 8:
                break
            cid, csize = struct.unpack("<4sI", head)
            if cid == b"LIST" and f.read(4) == b"pdta":
                return _read_phdr(f, f.tell() + csize - 4, path)
            f.seek(csize + (csize & 1) - (4 if cid == b"LIST" else 0), 1)
    raise BadRequest(f"{path} has no preset headers")


def _read_phdr(f, stop: int, path: Path) -> list[Preset]:
    while f.tell() < stop:
        sid, ssize = struct.unpack("<4sI", f.read(8))
        if sid != b"phdr":
            f.seek(ssize + (ssize & 1), 1)
            continue
        data = f.read(ssize)
        out = []
        for i in range(ssize // _PHDR - 1):  # the last header is the terminal "EOP" record
            name, program, bank = struct.unpack_from("<20sHH", data, i * _PHDR)
            out.append(Preset(bank, program, name.split(b"\0")[0].decode("latin-1").strip()))
        return out
    raise BadRequest(f"{path} has no preset headers")
