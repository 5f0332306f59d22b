"""Score a model's loops against reference loops (``ddbridge eval --loops --reference DIR``), with targets.

For each genre of the reference, the model makes ``per_genre`` loops (raw output, no selection) at the
reference loops' own tempi and bar counts, and both sets are measured the same way (``loops.rhythm``):
onset periodicity at the beat grid, onset peakiness, share of onsets on the sixteenth grid, tempo
estimated from the sound, the seam at the wrap and the drum bands present. A generated median passes
when it lies in the reference's interquartile range, widened by 5 % of the reference's median (a set
of programmed loops can sit all on the grid, an IQR of zero); genres with fewer than 8 reference loops
are not scored. The drum balance (the kick, snare and hat bands' shares of a loop's energy) is read as
each loop's mean distance in dB from the reference genre's median balance: the generated median passes
when it is no further off than the reference's upper quartile, widened the same way. A genre judge fitted on the
training loops names each loop's genre; its accuracy on the reference comes first and the generated
accuracy is read relative to it. Variety is the spread of pattern features across seeds against the
reference's spread; copies are loops whose circular cross-correlation with a training loop reaches 0.9.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ddbridge.diffusion.loop_task import generate_loop, loop_network
from ddbridge.loops import rhythm
from ddbridge.loops.genres import ANY, BEATS_PER_BAR, GENRES, loop_samples
from ddbridge.model.bundle import ModelBundle
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound.audio import fit_length, load_audio, resample, to_mono
from ddbridge.train.genre_judge import feature_matrix, fit_genre_judge
from ddbridge.train.loop_data import read_manifest
from ddbridge.train.real_eval import Target

TEMPO_GOAL = 0.90
GENRE_RATIO_GOAL = 0.80
CLICK_LIMIT = 2.0  # the wrap's jump over the loop's 99th-percentile sample step
CLICK_FREE_GOAL = 1.0
COPY_LIMIT = 0.9
NOT_COPY_GOAL = 0.95
VARIETY_GOAL = 0.7
PARTS_RATIO_GOAL = 0.8
NEAR_LENGTH = 0.06
MIN_REFERENCE = 8  # loops a genre needs in the reference to be scored
IQR_MARGIN = 0.05  # programmed loops can have an interquartile range of zero: widen it by 5 % of the median
MEASURES = ("periodicity", "peakiness", "grid_share")


@dataclass(frozen=True)
class Loop:
    """One loop to measure: mono audio at ``rate`` and the tempo and bars it is meant to be."""

    audio: np.ndarray
    bpm: float
    bars: int
    genre: str


@dataclass
class Measured:
    """Per-loop measures of a set of loops (lists, one entry per loop)."""

    periodicity: list[float] = field(default_factory=list)
    peakiness: list[float] = field(default_factory=list)
    grid_share: list[float] = field(default_factory=list)
    tempo_ok: list[bool] = field(default_factory=list)
    exact: list[bool] = field(default_factory=list)
    click: list[float] = field(default_factory=list)
    all_parts: list[bool] = field(default_factory=list)
    levels: list[dict[str, float]] = field(default_factory=list)

    def quartiles(self, name: str) -> tuple[float, float, float]:
        return tuple(float(v) for v in np.percentile(getattr(self, name), [25, 50, 75]))


@dataclass
class GenreRow:
    """One genre: how many loops, the measures of both sets, recognition, variety and copies."""

    genre: str
    real: int
    generated: int
    real_measures: dict[str, tuple[float, float, float]]
    generated_measures: dict[str, tuple[float, float, float]]
    judge_real: float | None
    judge_generated: float | None
    tempo_share: float
    exact_share: float
    click_free: float
    parts_real: float
    parts_generated: float
    levels_real: dict[str, float]  # median share of the loop's energy per drum band, dB
    levels_generated: dict[str, float]
    balance_real: tuple[float, float, float]  # quartiles of the real loops' distance from levels_real, dB
    balance_generated: float  # median distance of the generated loops from levels_real, dB
    spread_ratio: float
    copies: float


@dataclass
class LoopReport:
    model: str
    steps: int
    sampler: str
    guidance_scale: float
    per_genre: int
    seed: int
    reference: str
    split: str
    rows: list[GenreRow]
    targets: list[Target]

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.targets)

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}

    def table(self) -> str:
        """The report as text: per genre the measures (real quartiles, generated median), then the targets."""
        lines = [
            f"model {self.model}: {self.per_genre} loops per genre, {self.steps} steps, sampler {self.sampler}, "
            f"guidance {self.guidance_scale:g}, seed {self.seed}; raw model output",
            f"reference {self.reference} (split {self.split})",
            "",
            f"{'genre':<10} {'n':>3} | {'periodicity':>17} | {'peakiness':>17} | {'grid':>15} | {'judge':>11} | "
            f"{'tempo':>5} {'clickfree':>9} {'parts':>11} {'spread':>6} {'copies':>6}",
        ]
        for r in self.rows:
            cells = []
            for m in MEASURES:
                q1, _, q3 = r.real_measures[m]
                cells.append(f"{q1:5.2f}-{q3:5.2f} {r.generated_measures[m][1]:5.2f}")
            judge = f"{_pct(r.judge_real)}/{_pct(r.judge_generated)}"
            lines.append(
                f"{r.genre:<10} {r.generated:>3} | {cells[0]:>17} | {cells[1]:>17} | {cells[2]:>15} | {judge:>11} | "
                f"{_pct(r.tempo_share):>5} {_pct(r.click_free):>9} {_pct(r.parts_real)}/{_pct(r.parts_generated)} "
                f"{r.spread_ratio:>6.2f} {_pct(r.copies):>6}"
            )
        lines += ["", "(measures: real interquartile range, then the generated median; judge: real/generated)", "",
                  f"{'genre':<10} | drum balance, dB of the loop: kick, snare, hat (real / generated median) | "
                  "off the real median, dB (real Q3 / generated median)"]  # fmt: skip
        for r in self.rows:
            parts = ", ".join(f"{r.levels_real[p]:5.1f} /{r.levels_generated[p]:5.1f}" for p in r.levels_real)
            lines.append(f"{r.genre:<10} | {parts:>48} | {r.balance_real[2]:4.1f} / {r.balance_generated:4.1f}")
        lines += ["", f"targets ({sum(t.passed for t in self.targets)} of {len(self.targets)} met):"]
        lines += [f"  {'PASS' if t.passed else 'FAIL'}  {t.name}: {t.value:.3g} (goal {t.goal})" for t in self.targets]
        return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def load_loops(folder: str | Path, split: str, rate: int, genres: Sequence[str] | None = None) -> list[Loop]:
    """The loops of ``folder``'s manifest in ``split`` (all genres, or ``genres``), mono at ``rate``."""
    rows = read_manifest(folder, split)
    out = []
    for r in rows:
        if genres is not None and r.genre not in genres:
            continue
        audio, file_rate = load_audio(r.path)
        out.append(Loop(resample(to_mono(audio), file_rate, rate)[0], r.bpm, r.bars, r.genre))
    return out


def measure(loops: Sequence[Loop], rate: int) -> Measured:
    """The per-loop measures of ``loops``."""
    m = Measured()
    for loop in loops:
        a, beats = loop.audio, loop.bars * BEATS_PER_BAR
        m.periodicity.append(rhythm.periodicity(a, rate, loop.bpm))
        m.peakiness.append(rhythm.peakiness(a, rate))
        m.grid_share.append(rhythm.grid_share(a, rate, loop.bpm))
        m.tempo_ok.append(rhythm.tempo_matches(rhythm.tempo(a, rate), loop.bpm))
        m.exact.append(a.size == loop_samples(loop.bpm, loop.bars, rate))
        m.click.append(rhythm.seam(a, rate, beats).click)
        m.all_parts.append(all(rhythm.parts_present(a, rate).values()))
        m.levels.append(rhythm.part_levels(a, rate))
    return m


def median_levels(levels: Sequence[dict[str, float]]) -> dict[str, float]:
    """The median share of the loop's energy, dB, per drum band."""
    return {part: float(np.median([lv[part] for lv in levels])) for part in rhythm.PART_BANDS}


def balance_distance(levels: dict[str, float], centre: dict[str, float]) -> float:
    """How far a loop's drum balance is from ``centre``: the mean absolute difference of the band levels, dB."""
    return float(np.mean([abs(levels[part] - centre[part]) for part in centre]))


def spread(x: np.ndarray) -> float:
    """The mean distance between pairs of feature rows (0 for fewer than two)."""
    if len(x) < 2:
        return 0.0
    return float(np.mean([np.linalg.norm(a - b) for a, b in itertools.combinations(x, 2)]))


def copy_scores(loops: Sequence[Loop], training: Sequence[Loop]) -> list[float]:
    """Per loop, its highest normalised circular cross-correlation with any training loop of the same bars and a
    length within ``NEAR_LENGTH`` (a copy keeps its tempo), the training loop stretched to its length."""
    out = []
    for loop in loops:
        a = loop.audio - loop.audio.mean()
        fa = np.fft.rfft(a)
        na = np.linalg.norm(a) + 1e-12
        best = 0.0
        for t in training:
            if t.bars != loop.bars or abs(t.audio.size / a.size - 1) > NEAR_LENGTH:
                continue
            b = fit_length(t.audio[None], a.size, circular=True)[0]
            b = b - b.mean()
            xc = np.fft.irfft(fa * np.conj(np.fft.rfft(b)), n=a.size)
            best = max(best, float(np.max(np.abs(xc)) / (na * (np.linalg.norm(b) + 1e-12))))
        out.append(best)
    return out


def _generate(
    bundle: ModelBundle, reference: Sequence[Loop], genre: str, n: int, seed: int, steps: int | None,
    sampler: str | None, guidance: float | None,
) -> list[Loop]:  # fmt: skip
    """``n`` loops of ``genre`` at the tempi and bars of the reference loops (cycled), one seed each."""
    out = []
    for i in range(n):
        ref = reference[i % len(reference)]
        audio = generate_loop(
            bundle, 1, bpm=ref.bpm, bars=ref.bars, genre=None if genre == ANY else genre, seeds=[seed + i],
            steps=steps, sampler=sampler, guidance_scale=guidance,
        )  # fmt: skip
        out.append(Loop(audio[0].mean(axis=0).numpy(), ref.bpm, ref.bars, genre))
    return out


def evaluate_loops(
    bundle: ModelBundle,
    reference: str | Path,
    split: str,
    training: str | Path,
    per_genre: int = 8,
    steps: int | None = None,
    sampler: str | None = None,
    guidance_scale: float | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    min_reference: int = MIN_REFERENCE,
) -> LoopReport:
    """Generate ``per_genre`` loops per reference genre and score them (see the module doc). ``training`` is the
    loop set the model was trained on: the genre judge is fitted on its training split and copies are
    looked for in it. Genres with fewer than ``min_reference`` reference loops are not scored."""
    net = loop_network(bundle)
    if net is None:
        raise BadRequest(f"model '{bundle.name}' has no loop network to evaluate")
    if per_genre < 2:
        raise BadRequest(f"per_genre must be >= 2 (a spread needs several loops), got {per_genre}")
    rate = net.sample_rate
    steps, sampler = steps or net.default_steps, sampler or net.default_sampler
    real = load_loops(reference, split, rate)
    train = load_loops(training, "train", rate)
    labelled = [t for t in train if t.genre in GENRES]
    judge = fit_genre_judge(GENRES, feature_matrix([(t.audio, t.bpm, t.bars) for t in labelled], rate),
                            np.array([GENRES.index(t.genre) for t in labelled]))  # fmt: skip
    genres = [g for g in (*GENRES, ANY) if sum(r.genre == g for r in real) >= min_reference]
    if not genres:
        raise BadRequest(f"the reference's {split} split has no genre with {min_reference} loops or more")
    guidance = net.guidance_for(net.resolve_category(GENRES[0]), guidance_scale)
    rows = []
    for k, genre in enumerate(genres):
        ref = [r for r in real if r.genre == genre]
        made = _generate(net, ref, genre, per_genre, seed + 1000 * k, steps, sampler, guidance_scale)
        rows.append(_row(genre, ref, made, rate, judge, [t for t in train if t.genre == genre] or train))
        if progress is not None:
            progress((k + 1) / len(genres))
    return LoopReport(net.name, steps, sampler, guidance, per_genre, seed, str(reference), split, rows,
                      loop_targets(rows))  # fmt: skip


def _row(genre: str, real: list[Loop], made: list[Loop], rate: int, judge, train: list[Loop]) -> GenreRow:
    mr, mg = measure(real, rate), measure(made, rate)
    xr = feature_matrix([(r.audio, r.bpm, r.bars) for r in real], rate)
    xg = feature_matrix([(g.audio, g.bpm, g.bars) for g in made], rate)
    judged = genre in GENRES
    label = GENRES.index(genre) if judged else 0
    z_real, z_made = judge.scaler(xr), judge.scaler(xg)
    real_spread = spread(z_real[: max(len(made), 2)])
    centre = median_levels(mr.levels)
    balance_real = np.percentile([balance_distance(lv, centre) for lv in mr.levels], [25, 50, 75])
    return GenreRow(
        genre, len(real), len(made),
        {m: mr.quartiles(m) for m in MEASURES}, {m: mg.quartiles(m) for m in MEASURES},
        judge.accuracy(xr, np.full(len(xr), label)) if judged else None,
        judge.accuracy(xg, np.full(len(xg), label)) if judged else None,
        float(np.mean(mg.tempo_ok)), float(np.mean(mg.exact)), float(np.mean(np.array(mg.click) <= CLICK_LIMIT)),
        float(np.mean(mr.all_parts)), float(np.mean(mg.all_parts)),
        centre, median_levels(mg.levels), tuple(float(q) for q in balance_real),
        float(np.median([balance_distance(lv, centre) for lv in mg.levels])),
        spread(z_made) / real_spread if real_spread > 0 else 0.0,
        float(np.mean(np.array(copy_scores(made, train)) >= COPY_LIMIT)),
    )  # fmt: skip


def loop_targets(rows: Sequence[GenreRow]) -> list[Target]:
    """Every target of the loop eval, per genre where the issue asks for it."""
    out = []
    for r in rows:
        for m in MEASURES:
            q1, q2, q3 = r.real_measures[m]
            low, high = q1 - IQR_MARGIN * abs(q2), q3 + IQR_MARGIN * abs(q2)
            median = r.generated_measures[m][1]
            passed = low <= median <= high
            out.append(Target(f"{r.genre} {m} median in real IQR", median, f"{low:.2f}-{high:.2f}", passed))
        _, q2, q3 = r.balance_real
        limit = q3 + IQR_MARGIN * abs(q2)
        out.append(Target(f"{r.genre} drum balance off the real median, dB", r.balance_generated,
                          f"<= {limit:.1f}", r.balance_generated <= limit))  # fmt: skip
    total = sum(r.generated for r in rows)

    def mean(name: str) -> float:
        return sum(getattr(r, name) * r.generated for r in rows) / total

    out.append(Target("loops at the asked tempo (+-1 %)", mean("tempo_share"), f">= {TEMPO_GOAL:g}",
                      mean("tempo_share") >= TEMPO_GOAL))  # fmt: skip
    out.append(Target("loops exactly bars * 4 * 60 / bpm long", mean("exact_share"), ">= 1", mean("exact_share") >= 1))
    out.append(Target("click-free at the wrap", mean("click_free"), f">= {CLICK_FREE_GOAL:g}",
                      mean("click_free") >= CLICK_FREE_GOAL))  # fmt: skip
    not_copies = 1 - mean("copies")
    goal = f">= {NOT_COPY_GOAL:g}"
    out.append(Target("not a copy of a training loop", not_copies, goal, not_copies >= NOT_COPY_GOAL))
    judged = [r for r in rows if r.judge_real]
    if judged:
        ratio = float(np.mean([r.judge_generated for r in judged])) / float(np.mean([r.judge_real for r in judged]))
        out.append(Target("genre recognised, generated / real", ratio, f">= {GENRE_RATIO_GOAL:g}",
                          ratio >= GENRE_RATIO_GOAL))  # fmt: skip
    parts_real = sum(r.parts_real * r.real for r in rows) / max(sum(r.real for r in rows), 1)
    ratio = mean("parts_generated") / parts_real if parts_real else 0.0
    out.append(Target("kick, snare and hat bands all present, generated / real", ratio, f">= {PARTS_RATIO_GOAL:g}",
                      ratio >= PARTS_RATIO_GOAL))  # fmt: skip
    for r in rows:
        out.append(Target(f"{r.genre} spread across seeds / real", r.spread_ratio, f">= {VARIETY_GOAL:g}",
                          r.spread_ratio >= VARIETY_GOAL))  # fmt: skip
    return out
