"""``ddbridge data loops``: a set of drum loops by genre and tempo, from permissive material only.

Four kinds of loop, each listed in ``manifest.csv`` with its genre, tempo, bars, kit, licence and split:
- the pattern grammar played by the General MIDI kits of the permissive SoundFonts (fluidsynth);
- the same grammar played by kits of one-shots: procedural (``ddbridge synth``), made by the bundled
  one-shot model, and Sonic Pi's drum samples;
- Sonic Pi's drum loops (CC0), whole and cut into bars, at several tempi.
Whole kits (and two breaks) form the validation split, which chooses checkpoints and settings and never
trains. Everything is drawn from one seed, so the same command writes the same set. The set is written
to a hidden sibling folder and moved into place when complete.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ddbridge.dataset import files, loop_breaks, loop_kits, loop_midi
from ddbridge.dataset.hits import prepare
from ddbridge.dataset.output import NOTICE, building_into, write_manifest
from ddbridge.dataset.soundfont import fluidsynth
from ddbridge.dataset.sources import SOURCES, Source, locate
from ddbridge.loops.genres import ANY, BPM_RANGE, GENRES, USUAL_BPM, loop_samples
from ddbridge.loops.patterns import pattern

SAMPLE_RATE = 44100
PEAK = 10 ** (-1.0 / 20)
COLUMNS = ("path", "genre", "bpm", "bars", "kit", "source", "licence", "origin", "split", "seconds")
SPLITS = ("train", "valid")
# General MIDI kit programs (bank 128) the grammar is played on, and the genres that favour each.
KIT_PROGRAMS = {0: "standard", 8: "room", 16: "power", 24: "electronic", 25: "tr-808", 32: "jazz"}
KIT_PREFERENCE = {
    "house": {24: 3, 25: 2, 16: 1, 0: 0.5}, "techno": {24: 3, 25: 2, 16: 1}, "electro": {25: 4, 24: 2},
    "trap": {25: 5, 24: 1}, "hiphop": {0: 2, 8: 2, 25: 2, 32: 1, 16: 1},
    "breakbeat": {0: 2, 8: 2, 16: 2, 24: 1}, "dnb": {0: 2, 8: 2, 16: 1, 32: 1, 24: 1},
}  # fmt: skip
SOUNDFONTS = ("fluidr3", "musescore", "csound")
# Kits that only validate: one SoundFont kit per SoundFont, every eighth sample kit, two breaks.
VALID_SOUNDFONT_KITS = {("fluidr3", 32), ("musescore", 16), ("csound", 24)}
VALID_BREAKS = ("loop_mehackit2", "loop_perc2")
KIT_CATEGORIES = ("kick", "snare", "clap", "hat_closed", "hat_open", "tom", "perc")
MODEL_LICENCE = "MIT (made by ddbridge's bundled one-shot model, trained on permissive sounds only)"
SYNTH_LICENCE = "MIT (ddbridge synth)"
Progress = Callable[[int, int, str], None]


@dataclass
class Plan:
    """How much of each kind to make."""

    soundfont_per_genre: int = 300
    synth_kits: int = 60
    model_kits: int = 30
    real_kits: int = 24
    loops_per_kit: int = 12
    seed: int = 0
    model: str = "default"
    soundfonts: tuple[str, ...] = SOUNDFONTS


@dataclass
class LoopReport:
    """What a build wrote: loops per genre, per source and per split."""

    folder: Path
    genres: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)
    splits: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.genres.values())


@dataclass(frozen=True)
class _Loop:
    genre: str | None
    bpm: float
    bars: int
    kit: str
    source: str
    licence: str
    origin: str
    split: str
    audio: np.ndarray


def _tempo(genre: str, rng: np.random.Generator) -> float:
    """A tempo for ``genre``: its usual range three times in four, anywhere in the loop range otherwise."""
    low, high = USUAL_BPM[genre] if rng.random() < 0.75 else BPM_RANGE
    return round(float(rng.uniform(low, high)), 1)


def _bars(rng: np.random.Generator) -> int:
    return 1 if rng.random() < 0.7 else 2


def _soundfont_loops(plan: Plan, rng: np.random.Generator, progress: Progress) -> Iterator[_Loop]:
    fluidsynth()
    fonts = plan.soundfonts
    per_font: dict[str, list[loop_midi.Take]] = {name: [] for name in fonts}
    for genre in GENRES:
        programs = list(KIT_PREFERENCE[genre])
        weights = np.array([KIT_PREFERENCE[genre][p] for p in programs], dtype=float)
        for _ in range(plan.soundfont_per_genre):
            font = fonts[int(rng.integers(len(fonts)))]
            program = programs[int(rng.choice(len(programs), p=weights / weights.sum()))]
            pat = pattern(genre, _bars(rng), rng)
            take = loop_midi.Take(pat, _tempo(genre, rng), program, int(rng.integers(2**31)))
            per_font[font].append(take)
    runs = [(name, batch) for name in fonts for batch in loop_midi.batches(per_font[name])]
    for i, (name, batch) in enumerate(runs):
        source = SOURCES[name]
        sf2 = locate(source)[0]
        for take, audio in zip(batch, loop_midi.render(sf2, batch), strict=True):
            kit = f"{name}-{KIT_PROGRAMS[take.program]}"
            split = "valid" if (name, take.program) in VALID_SOUNDFONT_KITS else "train"
            origin = f"{sf2.name} kit {take.program} ({KIT_PROGRAMS[take.program]}), pattern seed {take.seed}"
            pat = take.pattern
            yield _Loop(pat.genre, take.bpm, pat.bars, kit, name, source.licence, origin, split, audio)
        progress(i + 1, len(runs), f"{name} kits")


def _synth_pools(count: int, seed: int) -> Iterator[dict[str, list[np.ndarray]]]:
    from ddbridge.dataset.synth import render

    for k in range(count):
        yield {c: [render(c, seed + 1000 * k + j, SAMPLE_RATE, 1.0).mean(axis=0) for j in range(3)]
               for c in KIT_CATEGORIES}  # fmt: skip


def _model_pools(count: int, seed: int, model: str) -> Iterator[dict[str, list[np.ndarray]]]:
    from ddbridge.diffusion.tasks import generate
    from ddbridge.model.checkpoints import load_model

    bundle = load_model(model)
    for k in range(count):
        pools = {}
        for c in KIT_CATEGORIES:
            seeds = [seed + 1000 * k + j for j in range(3 if c == "perc" else 1)]
            audio = generate(bundle, len(seeds), seeds=seeds, category=c)
            pools[c] = [a.mean(axis=0).numpy() for a in audio]
        yield pools


def _real_pool() -> dict[str, list[np.ndarray]]:
    source = SOURCES["sonicpi"]
    pools: dict[str, list[np.ndarray]] = {}
    for _, run in files.jobs(source, locate(source)[0]):
        for raw in run():
            audio = prepare(raw.audio)
            if audio is not None:
                pools.setdefault(raw.category, []).append(np.asarray(audio, dtype=np.float32).reshape(-1))
    return pools


def _kit_loops(
    kind: str, pools: Iterator[dict[str, list[np.ndarray]]], count: int, licence: str, plan: Plan,
    rng: np.random.Generator, progress: Progress,
) -> Iterator[_Loop]:  # fmt: skip
    for k, pool in enumerate(pools):
        kit = loop_kits.assemble(f"{kind}-{k + 1:03d}", pool, rng)
        if kit is None:
            continue
        split = "valid" if k % 8 == 7 else "train"
        for _ in range(plan.loops_per_kit):
            genre = GENRES[int(rng.integers(len(GENRES)))]
            pat, bpm = pattern(genre, _bars(rng), rng), _tempo(genre, rng)
            origin = f"{kind} kit {k + 1}, {genre} pattern"
            yield _Loop(genre, bpm, pat.bars, kit.name, kind, licence, origin, split, loop_kits.play(kit, pat, bpm))
        progress(k + 1, count, f"{kind} kits")


def _break_loops() -> Iterator[_Loop]:
    source = SOURCES["sonicpi"]
    locate(source)
    for loop in loop_breaks.loops():
        split = "valid" if loop.name.split("-")[0] in VALID_BREAKS else "train"
        yield _Loop(loop.genre, loop.bpm, loop.bars, loop.name.split("-")[0], "sonicpi-breaks",
                    source.licence, f"{loop.name}.flac from Sonic Pi's samples", split, loop.audio)  # fmt: skip


def _stream(plan: Plan, progress: Progress) -> Iterator[_Loop]:
    rng = np.random.default_rng(plan.seed)
    yield from _soundfont_loops(plan, np.random.default_rng([plan.seed, 1]), progress)
    yield from _kit_loops("synth", _synth_pools(plan.synth_kits, plan.seed), plan.synth_kits, SYNTH_LICENCE, plan,
                          np.random.default_rng([plan.seed, 2]), progress)  # fmt: skip
    real = _real_pool()
    reals = (real for _ in range(plan.real_kits))
    yield from _kit_loops("sonicpi", reals, plan.real_kits, SOURCES["sonicpi"].licence, plan,
                          np.random.default_rng([plan.seed, 3]), progress)  # fmt: skip
    if plan.model_kits:
        pools = _model_pools(plan.model_kits, plan.seed, plan.model)
        yield from _kit_loops("model", pools, plan.model_kits, MODEL_LICENCE, plan, rng, progress)
    yield from _break_loops()


def _write(root: Path, index: int, loop: _Loop) -> dict[str, str]:
    import soundfile as sf

    genre = loop.genre or ANY
    rel = f"{genre}/{loop.source}_{loop.kit}_{index:05d}.flac"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    peak = float(np.max(np.abs(loop.audio))) or 1.0
    sf.write(str(path), (loop.audio * (PEAK / peak)).astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    values = (rel, genre, f"{loop.bpm:g}", str(loop.bars), loop.kit, loop.source, loop.licence, loop.origin,
              loop.split, f"{loop.audio.size / SAMPLE_RATE:.4f}")  # fmt: skip
    return dict(zip(COLUMNS, values, strict=True))


def notice(sources: list[Source], rows: list[dict[str, str]]) -> str:
    used = Counter(r["source"] for r in rows)
    lines = [
        "Drum loops in this folder were made by `ddbridge data loops` from permissive material only;",
        "each loop's genre, tempo, kit, licence and origin are listed in manifest.csv.",
        "",
        f"Patterns: ddbridge's pattern grammar (MIT). Procedural kits: `ddbridge synth` (MIT), {used['synth']} loops.",
        f"Model kits: hits made by ddbridge's bundled one-shot model (MIT), {used['model']} loops.",
        "",
    ]
    for s in sources:
        n = used[s.name] + (used["sonicpi-breaks"] if s.name == "sonicpi" else 0)
        lines += [f"{s.name}: {n} loops from Debian package {s.package}", f"  Licence: {s.licence}",
                  f"  Credit: {s.credit}", f"  Full terms: {s.copyright_file}", ""]  # fmt: skip
    return "\n".join(lines)


def build(out: Path, plan: Plan | None = None, progress: Progress | None = None) -> LoopReport:
    """Write the loop set to ``out`` (a new or empty folder, or an earlier loop build to replace)."""
    plan = plan or Plan()
    out = Path(out).expanduser().resolve()
    report, rows = LoopReport(out), []
    with building_into(out) as partial:
        for i, loop in enumerate(_stream(plan, progress or (lambda *_: None))):
            if loop.audio.size != loop_samples(loop.bpm, loop.bars, SAMPLE_RATE) or not np.any(loop.audio):
                continue
            rows.append(_write(partial, i, loop))
            report.genres[loop.genre or ANY] += 1
            report.sources[loop.source] += 1
            report.splits[loop.split] += 1
        write_manifest(partial, rows, COLUMNS)
        used = [SOURCES[n] for n in (*plan.soundfonts, "sonicpi")]
        (partial / NOTICE).write_text(notice(used, rows), encoding="utf-8")
    return report
