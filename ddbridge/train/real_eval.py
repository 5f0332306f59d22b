"""Score a model against real drum hits (``ddbridge eval --reference DIR``), with pass/fail targets.

Raw model output at the given settings (no selection; with ``finish``, as written to files: DC
removed, faded and normalised, but not trimmed, so the window stays put) is mixed to mono,
resampled to the reference's rate and cut to the model's window; real hits are cut to the same.
The judge (``judge.py``) recognises categories: its own accuracy on held-out kits comes first, and
the generated accuracy is read relative to it. Fréchet distance and MMD of the judge's features
are compared with those of an untrained network of the same shape; tail level, energy above
8 kHz and spectral centroid are compared with the real hits'.

How long hits ring (median time from the peak to -20 and -40 dB), how much they vary from seed to
seed (the spread of the judge's standardised features against the real kits' spread), near-duplicates
among seeds, copies of training hits (with ``training``) and, for pitched categories, how clearly a
note has a pitch (``sound.pitch.periodicity``) are compared with the real hits' too, as targets.

``split`` scores against one split of the reference's manifest (``valid``: the permissive set's
validation kits, which choose samplers, guidance and checkpoints); the judge is still fitted and
cross-validated on every hit of the reference, since a judge needs many kits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ddbridge.model.bundle import ModelBundle
from ddbridge.protocol.errors import BadRequest
from ddbridge.sound.audio import finish as finish_audio
from ddbridge.sound.pitch import periodicity
from ddbridge.train.evaluate import ALL, Scores, generated_hits, mean_scores, untrained_like
from ddbridge.train.features import decay_times, feature_matrix, frechet_distance, judge_features, mmd_rbf
from ddbridge.train.judge import HeldOut, fit_judge, held_out_accuracy
from ddbridge.train.measures import (
    cross_correlations,
    duplicate_share,
    high_band_share,
    spectral_centroid,
    tail_db,
)
from ddbridge.train.reference import Reference, fit_hit

DRUMS = ("kick", "snare", "clap", "hat_closed", "hat_open", "tom")  # scored unless asked otherwise
PITCHED = ("bass", "pluck", "808")  # scored unless asked otherwise, with a pitch target
SILENT_DB = -60.0
SHORT = ("kick", "snare", "clap", "hat_closed")  # these must end in silence
RINGING = ("tom", "hat_open")  # these may ring to the window's end, but no louder than real ones
JUDGE_GOAL = 0.80
MEAN_RATIO_GOAL = 0.90
CATEGORY_RATIO_GOAL = 0.75
SILENT_SHARE_GOAL = 0.95
HAT_HIGH_GOAL = 0.30
FRECHET_RATIO_GOAL = 5.0
DECAY_RATIO_GOAL = (0.7, 1.4)
SPREAD_RATIO_GOAL = 0.7
MIN_SPREAD_HITS = 3  # real hits needed to read a spread
DUPLICATE_LIMIT = 0.95
DUPLICATE_GOAL = 0.05
COPY_LIMIT = 0.9
COPY_GOAL = 0.10
PERIODICITY_GOAL = 0.85


@dataclass
class Sound:
    """Medians over a set of hits (tail level, brightness, centroid, times from the peak to -20 and -40 dB,
    periodicity), the share of hits whose tail is below ``SILENT_DB`` re peak, the spread (mean distance
    between two hits' standardised judge features), the share of pairs that are near-duplicates
    (cross-correlation >= ``DUPLICATE_LIMIT``) and of hits that copy a training hit (>= ``COPY_LIMIT``;
    None without a training set)."""

    tail_db: float
    silent_share: float
    high_share: float
    centroid_hz: float
    decay_20_s: float = 0.0
    decay_40_s: float = 0.0
    periodicity: float = 0.0
    spread: float = 0.0
    duplicate_share: float = 0.0
    copy_share: float | None = None


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
    split: str | None
    training: str | None
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
            f"reference {self.reference}"
            + (f" (split {self.split})" if self.split else "")
            + f": {sum(self.real_hits.values())} real hits at {self.rate} Hz, "
            f"window {self.seconds:.3f} s; judge fitted on every hit of the reference, held out by {self.grouping}",
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
        lines += [
            "",
            f"{'category':<11} {'to -20 dB':>9} {'real':>6} {'ratio':>5} | {'to -40 dB':>9} {'real':>6} {'ratio':>5} | "
            f"{'spread':>6} | {'dup pairs':>9} {'real':>6} | {'copies':>6} {'real':>6} | {'periodic':>8} {'real':>5}",
        ]
        for row in self.rows:
            g, r = row.sound, self.real.get(row.category) or self.real[ALL]
            lines.append(
                f"{row.category:<11} {_ms(g.decay_20_s):>9} {_ms(r.decay_20_s):>6} "
                f"{_ratio(g.decay_20_s, r.decay_20_s):>5} | {_ms(g.decay_40_s):>9} {_ms(r.decay_40_s):>6} "
                f"{_ratio(g.decay_40_s, r.decay_40_s):>5} | "
                f"{_ratio(g.spread, r.spread):>6} | {_pct(g.duplicate_share):>9} {_pct(r.duplicate_share):>6} | "
                f"{_pct(g.copy_share):>6} {_pct(r.copy_share):>6} | {g.periodicity:>8.2f} {r.periodicity:>5.2f}"
            )
        lines.append(
            f"(spread: generated / real, standardised judge features; duplicates: pairs at cross-correlation >= "
            f"{DUPLICATE_LIMIT:g}; copies: hits at >= {COPY_LIMIT:g} with a hit of "
            + (self.training if self.training else "the training set (not given: --training DIR)")
            + ")"
        )
        lines += ["", f"targets ({sum(t.passed for t in self.targets)} of {len(self.targets)} met):"]
        lines += [f"  {'PASS' if t.passed else 'FAIL'}  {t.name}: {t.value:.3g} (goal {t.goal})" for t in self.targets]
        return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _ms(x: float) -> str:
    return f"{1000 * x:.0f} ms"


def _hz(x: float) -> str:
    return f"{x / 1000:.2f} k" if x >= 1000 else f"{x:.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}"


def mean_row(rows: Sequence[Row]) -> Row:
    """The average row: accuracy, Fréchet and MMD averaged; sound measures averaged over the rows' medians
    (those that have one)."""

    def mean(name: str) -> float | None:
        values = [getattr(r.sound, name) for r in rows if getattr(r.sound, name) is not None]
        return float(np.mean(values)) if values else None

    return Row(**vars(mean_scores(rows)), sound=Sound(**{f: mean(f) for f in Sound.__dataclass_fields__}))


def _mean_or_none(rows: Sequence[Row] | None) -> Row | None:
    return None if rows is None else mean_row(rows)


def spread(z: np.ndarray) -> float:
    """The mean distance between two rows of ``z`` (0 for fewer than two)."""
    if len(z) < 2:
        return 0.0
    d = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=-1))
    return float(d[np.triu_indices(len(z), k=1)].mean())


def copy_share(hits: Sequence[np.ndarray], training: Sequence[np.ndarray], rate: int) -> float:
    """Share of ``hits`` whose cross-correlation with some training hit reaches ``COPY_LIMIT``."""
    return float(np.mean(cross_correlations(hits, training, rate).max(axis=1) >= COPY_LIMIT))


def sound_of(
    hits: Sequence[np.ndarray], rate: int, z: np.ndarray | None = None, training: Sequence[np.ndarray] | None = None
) -> Sound:
    """How a set of mono hits sounds (see ``Sound``); ``z`` their standardised judge features (for the
    spread), ``training`` the training hits of their category (for copies)."""
    tails = np.array([tail_db(h, rate) for h in hits])
    decays = np.array([decay_times(h, rate, (20, 40)) for h in hits])
    return Sound(
        float(np.median(tails)),
        float(np.mean(tails < SILENT_DB)),
        float(np.median([high_band_share(h, rate) for h in hits])),
        float(np.median([spectral_centroid(h, rate) for h in hits])),
        float(np.median(decays[:, 0])),
        float(np.median(decays[:, 1])),
        float(np.median([periodicity(h, rate) for h in hits])),
        spread(z) if z is not None else 0.0,
        duplicate_share(hits, rate, DUPLICATE_LIMIT),
        copy_share(hits, training, rate) if training else None,
    )


def targets(
    judge: HeldOut,
    rows: Sequence[Row],
    real: dict[str, Sound],
    baseline: Sequence[Row] | None,
    real_hits: dict[str, int] | None = None,
) -> list:
    """Every target that applies to these rows, with its value and whether it is met; ``real_hits``
    (real hits per category, default: enough) says where a spread can be read."""
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
    out += _envelope_variety_pitch(rows, real, real_hits or {})
    if baseline is not None:
        trained, untrained = mean_row(rows).frechet, mean_row(baseline).frechet
        ratio = untrained / trained if trained > 0 else float("inf")
        goal = f">= {FRECHET_RATIO_GOAL:g}"
        out.append(Target("Fréchet untrained / trained", ratio, goal, ratio >= FRECHET_RATIO_GOAL))
    return out


def _envelope_variety_pitch(rows: Sequence[Row], real: dict[str, Sound], real_hits: dict[str, int]) -> list:
    """Decay ratios, spread and periodicity per named category; near-duplicates and copies over all rows."""
    out = []
    low, high = DECAY_RATIO_GOAL
    for r in rows:
        g, ref = r.sound, real.get(r.category)
        if r.category == ALL or ref is None:
            continue
        for drop, made, want in ((20, g.decay_20_s, ref.decay_20_s), (40, g.decay_40_s, ref.decay_40_s)):
            if want > 0:
                ratio = made / want
                name = f"{r.category} decay to -{drop} dB, generated / real"
                out.append(Target(name, ratio, f"{low:g}-{high:g}", low <= ratio <= high))
        if real_hits.get(r.category, MIN_SPREAD_HITS) >= MIN_SPREAD_HITS and ref.spread > 0:
            ratio = g.spread / ref.spread
            goal = f">= {SPREAD_RATIO_GOAL:g}"
            out.append(Target(f"{r.category} spread across seeds / real", ratio, goal, ratio >= SPREAD_RATIO_GOAL))
        if r.category in PITCHED:
            goal = f">= {PERIODICITY_GOAL:g} (real {ref.periodicity:.2f})"
            value = g.periodicity
            out.append(Target(f"{r.category} periodicity, median", value, goal, value >= PERIODICITY_GOAL))
    if rows:
        share = float(np.mean([r.sound.duplicate_share for r in rows]))
        name = f"near-duplicate pairs (cross-correlation >= {DUPLICATE_LIMIT:g})"
        out.append(Target(name, share, f"< {DUPLICATE_GOAL:g}", share < DUPLICATE_GOAL))
    copies = [r.sound.copy_share for r in rows if r.sound.copy_share is not None]
    if copies:
        share = float(np.mean(copies))
        name = f"copies of training hits (cross-correlation >= {COPY_LIMIT:g})"
        out.append(Target(name, share, f"< {COPY_GOAL:g}", share < COPY_GOAL))
    return out


def default_categories(model_categories: Sequence[str]) -> list[str]:
    """What to score when not told: the model's drum and pitched categories (``DRUMS``, ``PITCHED``), since
    a catch-all such as ``perc`` makes a poor judge of anything; every category of a model without them;
    ``DRUMS`` and ``PITCHED`` for an unconditional model."""
    known = DRUMS + PITCHED
    scored = [c for c in model_categories or known if c in known]
    return scored or list(model_categories)


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
    split: str | None = None,
    training: dict[str, list[np.ndarray]] | None = None,
    training_name: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> RealReport:
    """Generate ``per_category`` hits per category and score them against ``reference`` (see the module doc).

    A class-conditioned model is scored on its categories that the reference (its ``split``, when
    given) has; an unconditional one gets one row, ``all``, against every real hit. ``guidance_scale``
    (default: the model's) applies to the model, not to the untrained baseline. ``training``: the
    training hits per category (``reference.load_training``), in which copies are looked for.
    """
    if per_category < 2:
        raise BadRequest(f"per_category must be >= 2 (a distribution needs several hits), got {per_category}")
    steps = bundle.default_steps if steps is None else steps
    sampler = sampler or bundle.default_sampler
    scored_ref = reference.only(split) if split else reference
    categories = [c for c in bundle.categories if c in scored_ref.hits] if bundle.categories else scored_ref.categories
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

    def trained_on(category: str | None) -> list[np.ndarray] | None:
        if training is None:
            return None
        if category is None:
            return [h for c in categories for h in training.get(c, [])]
        return training.get(category, [])

    scored_x = {c: judge.scaler(feature_matrix(scored_ref.hits[c], rate, judge_features)) for c in categories}
    real = {c: sound_of(scored_ref.hits[c], rate, scored_x[c], trained_on(c)) for c in categories}
    if not bundle.categories:
        every = [h for c in categories for h in scored_ref.hits[c]]
        real[ALL] = sound_of(every, rate, np.concatenate(list(scored_x.values())), trained_on(None))
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
            ref = np.concatenate(list(scored_x.values())) if category is None else scored_x[category]
            gen = judge.scaler(feats)
            sound = sound_of(hits, rate, gen, trained_on(category) if b is bundle else None)
            rows.append(Row(category or ALL, acc, frechet_distance(gen, ref), mmd_rbf(gen, ref), sound))
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
        split,
        training_name if training is not None else None,
        rate,
        length / rate,
        f"{reference.grouping}, {held_out.folds} folds",
        {c: len(scored_ref.hits[c]) for c in categories},
        {c: len(set(scored_ref.groups[c])) for c in categories},
        held_out,
        real,
        results[0],
        results[1] if baseline else None,
        targets(
            held_out,
            results[0],
            real,
            results[1] if baseline else None,
            {c: len(scored_ref.hits[c]) for c in categories},
        ),
    )
