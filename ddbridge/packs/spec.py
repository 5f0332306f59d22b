"""A pack's TOML spec and the fixed plan of work it expands to (the same on every run and backend).

name = "Night Drums"
model = "default"          # a name or path, as `ddbridge generate --model` takes
seed = 1000                # sound i of the plan uses seed + i
steps = 0                  # 0: the model's default
sampler = ""               # "": the model's default
sample_rate = 44100
bit_depth = 24
loudness = -14.0           # LUFS every sound is matched to
batch = 8                  # sounds per batch (one model call)
min_distance = 0.03        # a sound closer than this (feature RMS distance) to a kept one is dropped
check_category = true      # drop sounds the drum judge hears as another category
licence = "CC0-1.0"        # written to LICENSE.txt with the notice

[[sounds]]
category = "kick"
count = 40
seconds = 1.0              # optional: the model's length

[[loops]]
category = "loop"          # optional
genre = "house"            # optional (a model with a loop network): house, techno, hiphop, trap, breakbeat, dnb,
                           # electro, any, or an alias such as boom-bap or jungle
bpm = 120
bars = 1                   # a loop is exactly bars * 4 * 60 / bpm seconds (a loop network: 70-180 BPM, 1, 2 or 4 bars)
count = 8

Loops land in ``Loops/<Genre>/<bpm> BPM/`` (``Loops/<bpm> BPM/`` without a genre), named
``<name>_loop_<genre>_<bpm>bpm_NNNN_s<seed>.wav`` (a fractional tempo's point written as ``-``).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from ddbridge.loops.genres import BEATS_PER_BAR, resolve_genre
from ddbridge.protocol.errors import BadRequest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MAX_SOUNDS = 100_000
SEED_LIMIT = 2**32
# A genre's folder under Loops/.
GENRE_FOLDERS = {
    "house": "House", "techno": "Techno", "hiphop": "Hip Hop", "trap": "Trap", "breakbeat": "Breakbeat",
    "dnb": "Drum and Bass", "electro": "Electro",
}  # fmt: skip


@dataclass(frozen=True)
class Item:
    """One sound of the plan: ``index`` is its place in the plan, ``folder`` where it goes in the pack; a loop
    has its tempo (``bpm``, ``bars``) and ``genre`` (None: any)."""

    index: int
    category: str
    seed: int
    seconds: float | None
    loop: bool
    folder: str
    stem: str
    bpm: float | None = None
    bars: int | None = None
    genre: str | None = None

    @property
    def tempo(self) -> tuple[float, int] | None:
        """``(bpm, bars)`` of a loop, else None."""
        return None if self.bpm is None else (self.bpm, self.bars)

    def kind(self) -> tuple:
        """What one model call shares: category, length, loop, tempo and genre."""
        return self.category, self.seconds, self.loop, self.bpm, self.bars, self.genre


@dataclass(frozen=True)
class PackSpec:
    name: str
    model: str
    seed: int
    steps: int
    sampler: str
    sample_rate: int
    bit_depth: int
    loudness: float
    batch: int
    min_distance: float
    check_category: bool
    licence: str
    items: tuple[Item, ...]

    def batches(self) -> list[tuple[Item, ...]]:
        """The plan cut into batches: consecutive items of one kind (category, length, loop, tempo, genre), at most
        ``batch``."""
        out: list[list[Item]] = []
        for item in self.items:
            last = out[-1][-1] if out else None
            same = last is not None and last.kind() == item.kind()
            if same and len(out[-1]) < self.batch:
                out[-1].append(item)
            else:
                out.append([item])
        return [tuple(b) for b in out]


FIELDS = {
    "name": str,
    "model": str,
    "seed": int,
    "steps": int,
    "sampler": str,
    "sample_rate": int,
    "bit_depth": int,
    "loudness": float,
    "batch": int,
    "min_distance": float,
    "check_category": bool,
    "licence": str,
    "sounds": list,
    "loops": list,
}


def load_spec(path: str | Path) -> PackSpec:
    """Read and check a spec; ``BadRequest`` naming the file and the field for anything wrong."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise BadRequest(f"cannot read the pack spec {path}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BadRequest(f"pack spec {path}: {e}") from None
    return parse_spec(data, str(path))


def _get(data: dict, key: str, default, where: str):
    value = data.get(key, default)
    kind = FIELDS.get(key, type(default))
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise BadRequest(f"{where}: '{key}' must be {kind.__name__}, got {value!r}")
    return value


def parse_spec(data: dict, where: str = "pack spec") -> PackSpec:
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise BadRequest(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}")
    name = _get(data, "name", "", where).strip()
    if not name or "/" in name or name.startswith("."):
        raise BadRequest(f"{where}: 'name' must be a plain folder name, got {name!r}")
    seed, batch = _get(data, "seed", 0, where), _get(data, "batch", 8, where)
    sample_rate, bit_depth = _get(data, "sample_rate", 44100, where), _get(data, "bit_depth", 24, where)
    if not 0 <= seed < SEED_LIMIT:
        raise BadRequest(f"{where}: 'seed' must be 0..{SEED_LIMIT - 1}")
    if not 1 <= batch <= 64:
        raise BadRequest(f"{where}: 'batch' must be 1..64, got {batch}")
    if bit_depth not in (16, 24, 32) or not 8000 <= sample_rate <= 192000:
        raise BadRequest(f"{where}: 'bit_depth' must be 16, 24 or 32 and 'sample_rate' 8000..192000")
    items: list[Item] = []
    for n, entry in enumerate(_get(data, "sounds", [], where)):
        here = f"{where}: sounds[{n}]"
        category, count, seconds = _entry(entry, here, ("category", "count", "seconds"))
        folder = category.replace("_", " ").title()
        _extend(items, seed, count, Item(0, category, 0, seconds, False, folder, f"{name}_{category}"))
    for n, entry in enumerate(_get(data, "loops", [], where)):
        here = f"{where}: loops[{n}]"
        category, count, bpm, bars, genre = _loop_entry(entry, here)
        bpm_text = f"{bpm:g}"
        folder = "/".join(["Loops", *([GENRE_FOLDERS[genre]] if genre else []), f"{bpm_text} BPM"])
        stem = "_".join([name, category, *([genre] if genre else []), bpm_text.replace(".", "-") + "bpm"])
        seconds = bars * BEATS_PER_BAR * 60 / bpm
        _extend(items, seed, count, Item(0, category, 0, seconds, True, folder, stem, bpm, bars, genre))
    if not items:
        raise BadRequest(f"{where}: no [[sounds]] or [[loops]] to make")
    if len(items) > MAX_SOUNDS:
        raise BadRequest(f"{where}: {len(items)} sounds; the limit is {MAX_SOUNDS}")
    min_distance = _get(data, "min_distance", 0.03, where)
    if not (math.isfinite(min_distance) and min_distance >= 0):
        raise BadRequest(f"{where}: 'min_distance' must be >= 0")
    return PackSpec(
        name=name,
        model=_get(data, "model", "default", where),
        seed=seed,
        steps=_get(data, "steps", 0, where),
        sampler=_get(data, "sampler", "", where),
        sample_rate=sample_rate,
        bit_depth=bit_depth,
        loudness=_get(data, "loudness", -14.0, where),
        batch=batch,
        min_distance=min_distance,
        check_category=_get(data, "check_category", True, where),
        licence=_get(data, "licence", "CC0-1.0", where),
        items=tuple(items),
    )


def _extend(items: list[Item], seed: int, count: int, kind: Item) -> None:
    """``count`` items like ``kind``, numbered on from ``items`` with their seeds."""
    for _ in range(count):
        i = len(items)
        items.append(replace(kind, index=i, seed=(seed + i) % SEED_LIMIT, stem=kind.stem.replace(" ", "_")))


def _entry(entry, where: str, keys: tuple[str, ...]) -> tuple[str, int, float | None]:
    if not isinstance(entry, dict) or set(entry) - set(keys):
        raise BadRequest(f"{where}: a table with {', '.join(keys)}")
    category, count, seconds = entry.get("category"), entry.get("count"), entry.get("seconds")
    if not (isinstance(category, str) and category.replace("_", "").isalnum()):
        raise BadRequest(f"{where}: 'category' must be a name such as kick, got {category!r}")
    if not (isinstance(count, int) and not isinstance(count, bool) and count >= 1):
        raise BadRequest(f"{where}: 'count' must be a whole number >= 1, got {count!r}")
    if seconds is not None and not (isinstance(seconds, (int, float)) and 0 < seconds <= 60):
        raise BadRequest(f"{where}: 'seconds' must be in (0, 60], got {seconds!r}")
    return category, count, None if seconds is None else float(seconds)


def _loop_entry(entry, where: str) -> tuple[str, int, float, int, str | None]:
    if not isinstance(entry, dict) or set(entry) - {"category", "count", "bpm", "bars", "genre"}:
        raise BadRequest(f"{where}: a table with category, genre, count, bpm, bars")
    category, count, _ = _entry(
        {"category": entry.get("category", "loop"), "count": entry.get("count")},
        where,
        ("category", "count", "seconds"),
    )
    bpm, bars = entry.get("bpm"), entry.get("bars", 1)
    if not (isinstance(bpm, (int, float)) and not isinstance(bpm, bool) and 30 <= bpm <= 300):
        raise BadRequest(f"{where}: 'bpm' must be 30..300, got {bpm!r}")
    if not (isinstance(bars, int) and not isinstance(bars, bool) and 1 <= bars <= 8 and bars * 240 / bpm <= 60):
        raise BadRequest(f"{where}: 'bars' must be 1..8 and at most 60 s long")
    genre = entry.get("genre")
    if genre is not None and not isinstance(genre, str):
        raise BadRequest(f"{where}: 'genre' must be a name such as house, got {genre!r}")
    try:
        genre = resolve_genre(genre)
    except BadRequest as e:
        raise BadRequest(f"{where}: {e}") from None
    return category, count, float(bpm), bars, genre
