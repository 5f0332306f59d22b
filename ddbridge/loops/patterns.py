"""A drum-pattern grammar per genre: parts on a sixteenth grid, variations, swing, ghost notes, fills.

A pattern is a list of :class:`Note` (a part, a position in beats, a velocity) covering ``bars`` bars of
4/4. Each genre draws its parts from a few typical templates (one character per sixteenth: ``X`` accent,
``x`` normal, ``o`` ghost, ``.`` rest), then varies them: notes dropped or added, ghost notes, a second bar
that answers the first, a fill into the wrap, swing and humanised velocity. Everything comes from the
caller's ``numpy`` generator, so a seed gives the same pattern.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ddbridge.loops.genres import BEATS_PER_BAR, GENRES

STEPS = 16  # sixteenths per bar
PARTS = (
    "kick", "snare", "rim", "clap", "hat_closed", "hat_pedal", "hat_open", "ride", "crash",
    "tom_low", "tom_mid", "tom_high", "cowbell", "shaker", "tambourine", "conga", "clave",
)  # fmt: skip
VELOCITY = {"X": 122, "x": 100, "o": 52}


@dataclass(frozen=True)
class Note:
    """One drum hit: ``part`` at ``beat`` (0 <= beat < 4 * bars) with a MIDI ``velocity`` (1-127)."""

    part: str
    beat: float
    velocity: int


@dataclass(frozen=True)
class Pattern:
    """A genre's pattern over ``bars`` bars; ``swing`` delays every second sixteenth (or eighth, ``swing_eighths``)
    by that fraction of its length."""

    genre: str
    bars: int
    notes: tuple[Note, ...]
    swing: float
    swing_eighths: bool

    @property
    def beats(self) -> int:
        return self.bars * BEATS_PER_BAR


class _Bar:
    """One bar under construction: per part, a velocity (0 = rest) on each sixteenth, plus off-grid notes."""

    def __init__(self) -> None:
        self.grid: dict[str, np.ndarray] = {}
        self.extra: list[Note] = []

    def put(self, part: str, template: str) -> None:
        row = self.grid.setdefault(part, np.zeros(STEPS, dtype=np.int64))
        for i, ch in enumerate(template.replace(" ", "")[:STEPS]):
            if ch in VELOCITY:
                row[i] = VELOCITY[ch]

    def copy(self) -> _Bar:
        other = _Bar()
        other.grid = {k: v.copy() for k, v in self.grid.items()}
        other.extra = list(self.extra)
        return other


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _maybe(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def _ghosts(rng: np.random.Generator, bar: _Bar, part: str, steps: tuple[int, ...], p: float) -> None:
    """Ghost notes on ``steps`` of ``part`` where it rests, each with probability ``p``."""
    row = bar.grid.setdefault(part, np.zeros(STEPS, dtype=np.int64))
    for s in steps:
        if row[s] == 0 and _maybe(rng, p):
            row[s] = int(rng.integers(30, 62))


def _mutate(rng: np.random.Generator, bar: _Bar, part: str, drop: float, add: float, where: tuple[int, ...]) -> None:
    """Drop each non-accented note of ``part`` with ``drop``; add a normal note on a rest in ``where`` with ``add``."""
    row = bar.grid.get(part)
    if row is None:
        return
    for s in range(STEPS):
        if 0 < row[s] < VELOCITY["X"] and s % 4 and _maybe(rng, drop):
            row[s] = 0
    for s in where:
        if row[s] == 0 and _maybe(rng, add):
            row[s] = VELOCITY["x"]


def _hat_roll(rng: np.random.Generator, bar: _Bar, beat: int) -> None:
    """A trap hat roll on one beat: the sixteenths replaced by 32nds or sixteenth triplets."""
    row = bar.grid.setdefault("hat_closed", np.zeros(STEPS, dtype=np.int64))
    row[beat * 4 : beat * 4 + 4] = 0
    division = 8 if _maybe(rng, 0.6) else 6
    start = int(rng.integers(0, 2)) * division // 2
    for k in range(start, division):
        velocity = int(np.clip(60 + 50 * k / division + rng.normal(0, 6), 30, 127))
        bar.extra.append(Note("hat_closed", beat + k / division, velocity))


def _fill(rng: np.random.Generator, bar: _Bar, genre: str) -> None:
    """The last beat (or two) of a bar turned into a snare or tom fill leading back to the start."""
    steps = 4 if _maybe(rng, 0.7) else 8
    first = STEPS - steps
    for part in ("hat_closed", "hat_open", "ride", "shaker"):
        if part in bar.grid and _maybe(rng, 0.5):
            bar.grid[part][first:] = 0
    toms = genre in ("breakbeat", "dnb", "hiphop", "electro") and _maybe(rng, 0.5)
    parts = ("tom_high", "tom_mid", "tom_low") if toms else ("snare",)
    density = 1 if genre in ("dnb", "breakbeat", "trap") or _maybe(rng, 0.5) else 2
    for i, s in enumerate(range(first, STEPS, density)):
        part = parts[min(i * len(parts) // max((STEPS - first) // density, 1), len(parts) - 1)]
        row = bar.grid.setdefault(part, np.zeros(STEPS, dtype=np.int64))
        row[s] = int(np.clip(70 + 50 * (s - first) / steps + rng.normal(0, 8), 30, 127))


def _house(rng: np.random.Generator, bar: _Bar) -> None:
    bar.put("kick", "X...X...X...X...")
    bar.put("clap" if _maybe(rng, 0.7) else "snare", "....x.......x...")
    if _maybe(rng, 0.85):
        bar.put("hat_open", "..x...x...x...x.")
    bar.put("hat_closed", _pick(rng, ["xoxoxoxoxoxoxoxo", "x.x.x.x.x.x.x.x.", "oooxoooxoooxooox", "................"]))
    if _maybe(rng, 0.4):
        bar.put("shaker", "oxoxoxoxoxoxoxox")
    if _maybe(rng, 0.35):
        bar.put(
            _pick(rng, ["rim", "conga", "clave", "cowbell"]),
            _pick(rng, ["...x..x....x..x.", "..x..x...x..x...", "x..x..x...x..x.."]),
        )
    if _maybe(rng, 0.25):
        bar.put("kick", "X...X...X...X..o")


def _techno(rng: np.random.Generator, bar: _Bar) -> None:
    bar.put("kick", _pick(rng, ["X...X...X...X...", "X...X...X...X...", "X...X...X...X.o.", "X..oX...X..oX..."]))
    bar.put("hat_closed", _pick(rng, ["..x...x...x...x.", "xxxxxxxxxxxxxxxx", "oxoxoxoxoxoxoxox", "x.xxx.xxx.xxx.xx"]))
    if _maybe(rng, 0.5):
        bar.put("hat_open", "..x...x...x...x.")
    if _maybe(rng, 0.55):
        bar.put(_pick(rng, ["clap", "snare", "rim"]), "....x.......x...")
    if _maybe(rng, 0.35):
        bar.put("ride", "x.x.x.x.x.x.x.x.")
    if _maybe(rng, 0.6):
        part = _pick(rng, ["rim", "tom_low", "tom_mid", "cowbell", "clave", "conga"])
        bar.put(part, _pick(rng, ["...x..x.....x...", "..x..x..x..x..x.", ".x.....x..x...x.", "...x...x...x..x."]))


def _hiphop(rng: np.random.Generator, bar: _Bar) -> None:
    bar.put("kick", _pick(rng, ["X......x..x.....", "X.....x...x.....", "X..x......x..x..", "X......xx.....x.",
                                "X.x.......x..x..", "X.....x.x.....x."]))  # fmt: skip
    bar.put(_pick(rng, ["snare", "snare", "clap", "rim"]), "....X.......X...")
    bar.put("hat_closed", _pick(rng, ["x.x.x.x.x.x.x.x.", "x.x.x.x.x.x.x.x.", "xoxoxoxoxoxoxoxo", "x.x.x.x.x.x.x.o."]))
    _ghosts(rng, bar, "snare", (7, 9, 15), 0.3)
    if _maybe(rng, 0.3):
        bar.put("hat_open", ".............x..")
    if _maybe(rng, 0.2):
        bar.put("tambourine", "....x.......x...")


def _trap(rng: np.random.Generator, bar: _Bar) -> None:
    bar.put("kick", _pick(rng, ["X.....x...x.....", "X......x.x......", "X..x.....x...x..", "X.......x.x...x.",
                                "X.....X......x.."]))  # fmt: skip
    bar.put(_pick(rng, ["clap", "snare", "clap"]), "........X.......")
    bar.put("hat_closed", _pick(rng, ["xxxxxxxxxxxxxxxx", "x.x.x.x.x.x.x.x.", "xoxoxoxoxoxoxoxo"]))
    for beat in range(BEATS_PER_BAR):
        if _maybe(rng, 0.3):
            _hat_roll(rng, bar, beat)
    if _maybe(rng, 0.35):
        bar.put("hat_open", _pick(rng, ["......x.........", "..............x.", "...........x...."]))
    if _maybe(rng, 0.25):
        bar.put("snare", "...............o")


def _breakbeat(rng: np.random.Generator, bar: _Bar) -> None:
    bar.put("kick", _pick(rng, ["X.........x.....", "X.x.......xx....", "X......x..x.....", "X.x...x...x....."]))
    bar.put("snare", _pick(rng, ["....X.......X...", "....X..o.o..X..o", "....X.....o.X...", "....X.......X.o."]))
    bar.put(_pick(rng, ["hat_closed", "hat_closed", "ride"]), _pick(rng, ["x.x.x.x.x.x.x.x.", "xxxxxxxxxxxxxxxx"]))
    _ghosts(rng, bar, "snare", (2, 7, 9, 11, 15), 0.25)
    if _maybe(rng, 0.35):
        bar.put("hat_open", "..............x.")


def _dnb(rng: np.random.Generator, bar: _Bar) -> None:
    bar.put("kick", _pick(rng, ["X.........x.....", "X.........x..x..", "X.x.......x.....", "X......x..x....."]))
    bar.put("snare", _pick(rng, ["....X.......X...", "....X..o....X..o", "....X.......X.o."]))
    bar.put(_pick(rng, ["hat_closed", "ride", "shaker"]),
            _pick(rng, ["x.x.x.x.x.x.x.x.", "..x...x...x...x.", "xxxxxxxxxxxxxxxx"]))  # fmt: skip
    _ghosts(rng, bar, "snare", (3, 6, 9, 11, 14), 0.3)
    if _maybe(rng, 0.3):
        bar.put("hat_open", "..x.......x.....")


def _electro(rng: np.random.Generator, bar: _Bar) -> None:
    bar.put("kick", _pick(rng, ["X.....x...x.....", "X..x......x..x..", "X.....x.x.......", "X.........xx....",
                                "X..x..x...x....."]))  # fmt: skip
    bar.put(_pick(rng, ["clap", "snare", "snare"]), "....X.......X...")
    bar.put("hat_closed", _pick(rng, ["xxxxxxxxxxxxxxxx", "xoxoxoxoxoxoxoxo", "x.x.x.x.x.x.x.x."]))
    if _maybe(rng, 0.4):
        bar.put(
            _pick(rng, ["cowbell", "clave", "rim"]),
            _pick(rng, ["x..x..x...x..x..", "..x..x..x..x.x..", "...x..x...x..x.."]),
        )
    if _maybe(rng, 0.3):
        bar.put(_pick(rng, ["tom_low", "tom_mid", "tom_high"]), _pick(rng, ["..........x..x..", "......x......x.."]))
    if _maybe(rng, 0.3):
        bar.put("hat_open", "......x.......x.")


GRAMMAR: dict[str, Callable[[np.random.Generator, _Bar], None]] = {
    "house": _house, "techno": _techno, "hiphop": _hiphop, "trap": _trap,
    "breakbeat": _breakbeat, "dnb": _dnb, "electro": _electro,
}  # fmt: skip
# Swing (fraction of a sixteenth, or of an eighth where True) each genre is played with: (low, high, eighths)
SWING: dict[str, tuple[float, float, bool]] = {
    "house": (0.0, 0.25, False), "techno": (0.0, 0.08, False), "hiphop": (0.05, 0.35, True),
    "trap": (0.0, 0.05, False), "breakbeat": (0.0, 0.15, False), "dnb": (0.0, 0.1, False),
    "electro": (0.0, 0.1, False),
}  # fmt: skip
# Where a second bar adds kicks or percussion to answer the first.
_ANSWER_STEPS = (3, 6, 7, 10, 11, 14, 15)


def pattern(genre: str, bars: int, rng: np.random.Generator) -> Pattern:
    """A new pattern of ``genre`` over ``bars`` bars, drawn from ``rng``."""
    if genre not in GRAMMAR:
        raise ValueError(f"unknown genre {genre!r}; known: {', '.join(GENRES)}")
    first = _Bar()
    GRAMMAR[genre](rng, first)
    _mutate(rng, first, "hat_closed", 0.05, 0.0, ())
    layout = [first]
    for i in range(1, bars):
        bar = first.copy() if _maybe(rng, 0.85) else _regrown(genre, rng)
        if i % 2:  # the answering bar: another kick or two, a few notes dropped
            _mutate(rng, bar, "kick", 0.15, 0.12, _ANSWER_STEPS)
            _mutate(rng, bar, "hat_closed", 0.08, 0.0, ())
        layout.append(bar)
    if _maybe(rng, 0.35 if bars > 1 else 0.15):
        _fill(rng, layout[-1], genre)
    low, high, eighths = SWING[genre]
    swing = float(rng.uniform(low, high))
    notes = []
    for b, bar in enumerate(layout):
        for part, row in bar.grid.items():
            for s in np.flatnonzero(row):
                notes.append(Note(part, b * BEATS_PER_BAR + _swung(int(s), swing, eighths), _humanise(rng, row[s])))
        notes += [Note(n.part, b * BEATS_PER_BAR + n.beat, n.velocity) for n in bar.extra]
    notes.sort(key=lambda n: (n.beat, n.part))
    return Pattern(genre, bars, tuple(notes), swing, eighths)


def _regrown(genre: str, rng: np.random.Generator) -> _Bar:
    bar = _Bar()
    GRAMMAR[genre](rng, bar)
    return bar


def _swung(step: int, swing: float, eighths: bool) -> float:
    """The position in beats of sixteenth ``step`` with swing applied."""
    beat = step / 4
    if eighths:
        return beat + (swing * 0.5 if step % 4 == 2 else 0.0)
    return beat + (swing * 0.25 if step % 2 == 1 else 0.0)


def _humanise(rng: np.random.Generator, velocity: int) -> int:
    return int(np.clip(round(velocity + rng.normal(0, 7)), 1, 127))
