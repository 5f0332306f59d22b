"""``ddbridge data loops --heldout``: real loops for evaluation only, from copyleft material (never trains).

- Hydrogen's demo songs (``hydrogen``, GPL), rendered with their own kits by ``h2cli`` and cut into bars
  at the song's tempo, each bar crossfaded into what followed it so it wraps: real, human-programmed
  patterns, of no genre in particular.
- The pattern grammar at each genre's usual tempi, played by kits ddbridge never trained on: the Hydrogen
  kits and the AVL drum kits (``hydrogen-drumkits``, ``avldrums.lv2``; GPL, CC-BY-SA), their one-shots
  taken from a held-out one-shot set (``ddbridge data build --heldout``).
The folder is marked ``EVAL_ONLY``, which ``ddbridge train`` refuses.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ddbridge.dataset import loop_kits
from ddbridge.dataset.build import build as build_hits
from ddbridge.dataset.loop_breaks import split_bars
from ddbridge.dataset.loop_build import COLUMNS, PEAK, LoopReport
from ddbridge.dataset.output import EVAL_ONLY, MANIFEST, NOTICE, building_into, write_manifest
from ddbridge.dataset.sources import SOURCES, select
from ddbridge.loops.genres import GENRES, USUAL_BPM, loop_samples
from ddbridge.loops.patterns import pattern
from ddbridge.protocol.errors import BadRequest, DDBridgeError
from ddbridge.sound.audio import load_audio, resample, to_mono

SAMPLE_RATE = 44100
DEMO_SONGS = Path("/usr/share/hydrogen/data/demo_songs")
HYDROGEN_LICENCE = "GPL-2+ (Hydrogen demo songs and their kits)"
LOOPS_PER_KIT_AND_GENRE = 2
# h2cli renders a demo song in about 25 s; now and then it hangs after writing, and a second try renders it.
RENDER_TIMEOUT_S = 150
RENDER_ATTEMPTS = 2


def song_tempo(song: Path) -> float:
    """The tempo a Hydrogen song states (``<bpm>``)."""
    try:
        text = ET.parse(song).getroot().findtext(".//bpm")
        return float(text)
    except (OSError, ET.ParseError, TypeError, ValueError):
        raise BadRequest(f"cannot read the tempo of {song}") from None


def render_song(song: Path) -> np.ndarray:
    """``song`` rendered by ``h2cli`` with its own kit: mono float32 at ``SAMPLE_RATE``."""
    exe = shutil.which("h2cli")
    if exe is None:
        raise BadRequest("rendering Hydrogen songs needs h2cli: sudo apt-get install hydrogen")
    with tempfile.TemporaryDirectory(prefix="ddbridge-h2-") as tmp:
        out = Path(tmp) / "song.wav"
        command = [exe, "-s", str(song), "-o", str(out), "-r", str(SAMPLE_RATE), "-b", "16"]
        for attempt in range(RENDER_ATTEMPTS):
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=RENDER_TIMEOUT_S)
                break
            except subprocess.TimeoutExpired:
                out.unlink(missing_ok=True)
                if attempt == RENDER_ATTEMPTS - 1:
                    waited = f"{RENDER_ATTEMPTS} x {RENDER_TIMEOUT_S} s"
                    raise DDBridgeError(f"h2cli hung rendering {song.name}: no result after {waited}") from None
        if not out.is_file():
            raise DDBridgeError(f"h2cli failed on {song.name}: {done.stderr.strip()[-300:]}")
        audio, rate = load_audio(out)
    return resample(to_mono(audio), rate, SAMPLE_RATE)[0]


def song_loops(folder: Path = DEMO_SONGS) -> Iterator[tuple[str, float, np.ndarray]]:
    """``(name, bpm, one bar)`` for every whole bar of every demo song that is not silent."""
    for song in sorted(folder.glob("*.h2song")):
        bpm = song_tempo(song)
        audio = render_song(song)
        bar = loop_samples(bpm, 1, SAMPLE_RATE)
        whole = audio.size // bar
        for k, piece in enumerate(split_bars(audio[: whole * bar + bar // 4], whole, bar)):
            if np.sqrt(np.mean(piece**2)) > 1e-3:
                yield f"{song.stem}-bar{k + 1}", bpm, piece


def kit_pools(hits: Path) -> dict[str, dict[str, list[np.ndarray]]]:
    """The held-out one-shots of ``hits`` (a ``data build --heldout`` set) by kit, then by category."""
    pools: dict[str, dict[str, list[np.ndarray]]] = {}
    with (hits / MANIFEST).open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            audio, rate = load_audio(hits / row["path"])
            mono = resample(to_mono(audio), rate, SAMPLE_RATE)[0]
            pools.setdefault(f"{row['source']}-{row['kit']}", {}).setdefault(row["category"], []).append(mono)
    return pools


def build_heldout(out: Path, hits: Path | None = None, seed: int = 0, songs: Path = DEMO_SONGS) -> LoopReport:
    """Write the evaluation-only loop set to ``out``: the Hydrogen songs in ``songs`` and the grammar on the kits of
    ``hits``, a held-out one-shot set (built when None)."""
    out = Path(out).expanduser().resolve()
    report, rows = LoopReport(out), []
    with building_into(out) as partial:
        if hits is None:
            hits = partial / ".hits"
            build_hits(hits, select(None, heldout=True), heldout=True)
        for name, bpm, audio in song_loops(songs):
            rows.append(_write(partial, "any", bpm, 1, "hydrogen-demo", name, HYDROGEN_LICENCE, audio, report))
        rng = np.random.default_rng(seed)
        for kit_name, pools in sorted(kit_pools(Path(hits)).items()):
            kit = loop_kits.assemble(kit_name, pools, rng)
            if kit is None:
                continue
            for genre in GENRES:
                for _ in range(LOOPS_PER_KIT_AND_GENRE):
                    bpm = round(float(rng.uniform(*USUAL_BPM[genre])), 1)
                    pat = pattern(genre, 1, rng)
                    audio = loop_kits.play(kit, pat, bpm)
                    licence = "copyleft kit (see the held-out one-shot set's manifest)"
                    rows.append(_write(partial, genre, bpm, 1, kit_name, f"{genre} pattern", licence, audio, report))
        shutil.rmtree(partial / ".hits", ignore_errors=True)
        write_manifest(partial, rows, COLUMNS)
        (partial / NOTICE).write_text(_notice(), encoding="utf-8")
        (partial / EVAL_ONLY).write_text(
            "EVAL ONLY: held-out loops from copyleft material (Hydrogen's demo songs and kits, AVL drum kits).\n"
            "Never train weights that ship on it; `ddbridge train` refuses this folder.\n",
            encoding="utf-8",
        )
    return report


def _write(root: Path, genre: str, bpm: float, bars: int, kit: str, origin: str, licence: str, audio: np.ndarray,
           report: LoopReport) -> dict[str, str]:  # fmt: skip
    import soundfile as sf

    index = report.total
    rel = f"{genre}/{kit}_{index:05d}.flac"
    (root / genre).mkdir(parents=True, exist_ok=True)
    peak = float(np.max(np.abs(audio))) or 1.0
    sf.write(str(root / rel), (audio * (PEAK / peak)).astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    report.genres[genre] += 1
    report.sources["hydrogen-demo" if kit == "hydrogen-demo" else "copyleft-kits"] += 1
    report.splits["heldout"] += 1
    values = (rel, genre, f"{bpm:g}", str(bars), kit, kit.split("-")[0], licence, origin, "heldout",
              f"{audio.size / SAMPLE_RATE:.4f}")  # fmt: skip
    return dict(zip(COLUMNS, values, strict=True))


def _notice() -> str:
    lines = ["Held-out drum loops made by `ddbridge data loops --heldout`; EVAL ONLY (copyleft).", ""]
    for name in ("hydrogen", "avldrums"):
        s = SOURCES[name]
        lines += [f"{s.name}: Debian package {s.package}", f"  Licence: {s.licence}", f"  Credit: {s.credit}", ""]
    lines += ["Hydrogen's demo songs: Debian package hydrogen (/usr/share/hydrogen/data/demo_songs), GPL-2+.", ""]
    return "\n".join(lines)
