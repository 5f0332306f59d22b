"""Score a model against real drum hits (``ddbridge eval --reference DIR``), with pass/fail targets.

Raw model output at the given settings (no selection; with ``finish``, as written to files: DC
removed, faded and normalised, but not trimmed, so the window stays put) is mixed to mono,
resampled to the reference's rate and cut to the model's window; real hits are cut to the same.
The judge (``judge.py``) recognises categories: its own accuracy on held-out kits comes first, and
the generated accuracy is read relative to it. Fréchet distance and MMD of the judge's features
are compared with those of an untrained network of the same shape; tail level, energy above
8 kHz and spectral centroid are compared with the real hits'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ddbridge.model.bundle import ModelBundle
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound.audio import finish as finish_audio
from ddbridge.train.evaluate import ALL, Scores, generated_hits, mean_scores, untrained_like
from ddbridge.train.features import feature_matrix, frechet_distance, judge_features, mmd_rbf
from ddbridge.train.judge import HeldOut, fit_judge, held_out_accuracy
from ddbridge.train.measures import high_band_share, spectral_centroid, tail_db
from ddbridge.train.reference import Reference, fit_hit

DRUMS = ("kick", "snare", "clap", "hat_closed", "hat_open", "tom")  # scored unless asked otherwise
SILENT_DB = -60.0
SHORT = ("kick", "snare", "clap", "hat_closed")  # these must end in silence
RINGING = ("tom", "hat_open")  # these may ring to the window's end, but no louder than real ones
JUDGE_GOAL = 0.80
MEAN_RATIO_GOAL = 0.90
CATEGORY_RATIO_GOAL = 0.75
SILENT_SHARE_GOAL = 0.95
HAT_HIGH_GOAL = 0.30
FRECHET_RATIO_GOAL = 5.0


@dataclass
class Sound:
    """Medians over a set of hits, and the share of hits whose tail is below ``SILENT_DB`` re peak."""

    tail_db: float
    silent_share: float
    high_share: float
    centroid_hz: float


@dataclass
class Row(Scores):
    """The procedural eval's scores for one category, plus how its sounds measure."""

    sound: Sound


@dataclass
class Target:
    name: str
    value: float
    goal: str
    passed: bool


@dataclass
class RealReport:
    model: str
    steps: int
    sampler: str
    guidance_scale: float
    per_category: int
    seed: int
    finished: bool
    reference: str
    rate: int
    seconds: float
    grouping: str
    real_hits: dict[str, int]
    kits: dict[str, int]
    judge: HeldOut
    real: dict[str, Sound]
    rows: list[Row]
    baseline: list[Row] | None
    targets: list[Target]

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.targets)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mean"] = asdict(mean_row(self.rows))
        if self.baseline is not None:
            d["baseline_mean"] = asdict(mean_row(self.baseline))
        d["passed"] = self.passed
        return d

    def table(self) -> str:
        """The report as text: recognition and distances, sound measures, then the targets."""
        j = self.judge
        lines = [
            f"model {self.model}: {self.per_category} per category, {self.steps} steps, sampler {self.sampler}, "
            f"guidance {self.guidance_scale:g}, seed {self.seed}, "
            + ("finished output (DC removed, faded, normalised)" if self.finished else "raw model output"),
            f"reference {self.reference}: {sum(self.real_hits.values())} real hits at {self.rate} Hz, "
            f"window {self.seconds:.3f} s; held out by {self.grouping}",
            f"judge on held-out real hits: {_pct(j.balanced)} (mean over categories), {_pct(j.overall)} of all hits",
            "",
            f"{'category':<11} {'real':>5} {'kits':>4} {'judge':>7} | {'generated':>9} {'ratio':>6} {'Fréchet':>8} "
            f"{'MMD':>7} | {'untrained':>9} {'Fréchet':>8} {'MMD':>7}",
        ]
        base = self.baseline or [None] * len(self.rows)
        for row, b in [*zip(self.rows, base, strict=True), (mean_row(self.rows), _mean_or_none(self.baseline))]:
            real_acc = j.per_category.get(row.category) if row.category != "mean" else j.balanced
            n = self.real_hits.get(row.category, sum(self.real_hits.values()) if row.category in ("mean", ALL) else 0)
            kits = self.kits.get(row.category, "")
            ratio = _ratio(row.accuracy, real_acc)
            line = (
                f"{row.category:<11} {n:>5} {kits:>4} {_pct(real_acc):>7} | {_pct(row.accuracy):>9} {ratio:>6} "
                f"{row.frechet:>8.2f} {row.mmd:>7.4f} |"
            )
            lines.append(line + (f" {_pct(b.accuracy):>9} {b.frechet:>8.2f} {b.mmd:>7.4f}" if b else ""))
        lines += [
            "",
            f"{'category':<11} {'tail dB':>8} {'real':>7} | {'< -60 dB':>8} {'real':>6} | {'> 8 kHz':>7} {'real':>6}"
            f" | {'centroid':>8} {'real':>7}",
        ]
        for row in self.rows:
            g, r = row.sound, self.real.get(row.category) or self.real[ALL]
            lines.append(
                f"{row.category:<11} {g.tail_db:>8.1f} {r.tail_db:>7.1f} | {_pct(g.silent_share):>8} "
                f"{_pct(r.silent_share):>6} | {_pct(g.high_share):>7} {_pct(r.high_share):>6} | "
                f"{_hz(g.centroid_hz):>8} {_hz(r.centroid_hz):>7}"
            )
        lines += ["", f"targets ({sum(t.passed for t in self.targets)} of {len(self.targets)} met):"]
        lines += [f"  {'PASS' if t.passed else 'FAIL'}  {t.name}: {t.value:.3g} (goal {t.goal})" for t in self.targets]
        return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _hz(x: float) -> str:
    return f"{x / 1000:.2f} k" if x >= 1000 else f"{x:.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}"


def mean_row(rows: Sequence[Row]) -> Row:
    """The average row: accuracy, Fréchet and MMD averaged; sound measures averaged over the rows' medians."""
    sound = Sound(*(float(np.mean([getattr(r.sound, f) for r in rows])) for f in Sound.__dataclass_fields__))
    return Row(**vars(mean_scores(rows)), sound=sound)


def _mean_or_none(rows: Sequence[Row] | None) -> Row | None:
    return None if rows is None else mean_row(rows)


def sound_of(hits: Sequence[np.ndarray], rate: int) -> Sound:
    """Tail, brightness and centroid of a set of mono hits (see ``Sound``)."""
    tails = np.array([tail_db(h, rate) for h in hits])
    return Sound(
        float(np.median(tails)),
        float(np.mean(tails < SILENT_DB)),
        float(np.median([high_band_share(h, rate) for h in hits])),
        float(np.median([spectral_centroid(h, rate) for h in hits])),
    )


def targets(judge: HeldOut, rows: Sequence[Row], real: dict[str, Sound], baseline: Sequence[Row] | None) -> list:
    """Every target that applies to these rows, with its value and whether it is met."""
    out = [
        Target("judge accuracy on held-out kits", judge.balanced, f">= {JUDGE_GOAL:g}", judge.balanced >= JUDGE_GOAL)
    ]
    scored = [r for r in rows if r.accuracy is not None]
    if scored:
        ratio = float(np.mean([r.accuracy for r in scored])) / judge.balanced if judge.balanced else 0.0
        goal = f">= {MEAN_RATIO_GOAL:g}"
        out.append(Target("generated / judge accuracy, mean", ratio, goal, ratio >= MEAN_RATIO_GOAL))
    for r in scored:
        real_acc = judge.per_category.get(r.category, 0.0)
        ratio = r.accuracy / real_acc if real_acc else 0.0
        goal = f">= {CATEGORY_RATIO_GOAL:g}"
        out.append(Target(f"generated / judge accuracy, {r.category}", ratio, goal, ratio >= CATEGORY_RATIO_GOAL))
    for r in rows:
        if r.category in SHORT:
            share, goal = r.sound.silent_share, SILENT_SHARE_GOAL
            out.append(Target(f"{r.category} ending below {SILENT_DB:g} dB", share, f">= {goal:g}", share >= goal))
        elif r.category in RINGING and r.category in real:
            # Below SILENT_DB is silence: when most real ones end silent, silent is as quiet as they are.
            level, real_level = r.sound.tail_db, real[r.category].tail_db
            limit, goal = max(real_level, SILENT_DB), f"<= real {real_level:.1f}"
            goal += f" (silent: < {SILENT_DB:g})" if real_level < SILENT_DB else ""
            out.append(Target(f"{r.category} tail level, dB", level, goal, level <= limit))
        if r.category == "hat_closed":
            share = r.sound.high_share
            out.append(Target("hat_closed energy above 8 kHz", share, f">= {HAT_HIGH_GOAL:g}", share >= HAT_HIGH_GOAL))
    if baseline is not None:
        trained, untrained = mean_row(rows).frechet, mean_row(baseline).frechet
        ratio = untrained / trained if trained > 0 else float("inf")
        goal = f">= {FRECHET_RATIO_GOAL:g}"
        out.append(Target("Fréchet untrained / trained", ratio, goal, ratio >= FRECHET_RATIO_GOAL))
    return out


def default_categories(model_categories: Sequence[str]) -> list[str]:
    """What to score when not told: the model's drum categories (``DRUMS``), since a catch-all such as
    ``perc`` makes a poor judge of anything; every category of a model without drums; ``DRUMS`` for an
    unconditional model."""
    drums = [c for c in model_categories or DRUMS if c in DRUMS]
    return drums or list(model_categories)


def evaluate_reference(
    bundle: ModelBundle,
    reference: Reference,
    per_category: int = 16,
    steps: int | None = None,
    sampler: str | None = None,
    guidance_scale: float | None = None,
    seed: int = 0,
    baseline: bool = True,
    finish: bool = False,
    progress: Callable[[float], None] | None = None,
) -> RealReport:
    """Generate ``per_category`` hits per category and score them against ``reference`` (see the module doc).

    A class-conditioned model is scored on its categories that the reference has; an unconditional
    one gets one row, ``all``, against every real hit. ``guidance_scale`` (default: the model's)
    applies to the model, not to the untrained baseline.
    """
    if per_category < 2:
        raise BadRequest(f"per_category must be >= 2 (a distribution needs several hits), got {per_category}")
    steps = bundle.default_steps if steps is None else steps
    sampler = sampler or bundle.default_sampler
    categories = [c for c in bundle.categories if c in reference.hits] if bundle.categories else reference.categories
    if not categories:
        raise BadRequest(
            f"model '{bundle.name}' shares no category with the reference ({', '.join(reference.categories)})"
        )
    asked: list[str | None] = list(categories) if bundle.categories else [None]
    guidance_scale = bundle.guidance_for(bundle.resolve_category(asked[0]), guidance_scale)
    rate, length = reference.rate, reference.hits[categories[0]][0].shape[-1]
    real_x = {c: feature_matrix(reference.hits[c], rate, judge_features) for c in categories}
    x = np.concatenate([real_x[c] for c in categories])
    labels = np.concatenate([np.full(len(real_x[c]), i) for i, c in enumerate(categories)])
    groups = [g for c in categories for g in reference.groups[c]]
    held_out = held_out_accuracy(x, labels, groups, categories)
    judge = fit_judge(x, labels, categories)
    real = {c: sound_of(reference.hits[c], rate) for c in categories}
    if not bundle.categories:
        real[ALL] = sound_of([h for c in categories for h in reference.hits[c]], rate)
    bundles = [bundle, untrained_like(bundle)] if baseline else [bundle]
    done, results = 0, []
    for b in bundles:
        rows = []
        for category in asked:
            guidance = guidance_scale if b is bundle else 1.0
            raw = generated_hits(b, category, per_category, seed, steps, sampler, guidance)
            if finish:
                raw = [finish_audio(a, b.sample_rate, rate, trim_silence=False).T for a in raw]
            hits = [fit_hit(a, rate if finish else b.sample_rate, length) for a in raw]
            feats = feature_matrix(hits, rate, judge_features)
            acc = None if category is None else judge.accuracy(feats, np.full(len(feats), categories.index(category)))
            ref = judge.scaler(x if category is None else real_x[category])
            gen = judge.scaler(feats)
            rows.append(Row(category or ALL, acc, frechet_distance(gen, ref), mmd_rbf(gen, ref), sound_of(hits, rate)))
            done += 1
            if progress is not None:
                progress(done / (len(bundles) * len(asked)))
        results.append(rows)
    return RealReport(
        bundle.name,
        int(steps),
        sampler,
        float(guidance_scale),
        per_category,
        seed,
        finish,
        str(reference.path),
        rate,
        length / rate,
        f"{reference.grouping}, {held_out.folds} folds",
        {c: len(reference.hits[c]) for c in categories},
        {c: len(set(reference.groups[c])) for c in categories},
        held_out,
        real,
        results[0],
        results[1] if baseline else None,
        targets(held_out, results[0], real, results[1] if baseline else None),
    )
