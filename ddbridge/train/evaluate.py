"""Score a model against held-out procedural drums: per-category classifier accuracy, Fréchet distance, MMD.

The references are rendered by ``synth`` with seeds disjoint from those ``ddbridge synth`` uses for
training sets (``HELD_OUT_SEED`` on), the classifier is fitted on another disjoint range, and the
same scores for an untrained network of the same shape show how far training has come.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ddbridge.dataset import synth
from ddbridge.model.bundle import ModelBundle
from ddbridge.protocol.errors import BadRequest
from ddbridge.train.classifier import FeatureClassifier
from ddbridge.train.features import feature_matrix, frechet_distance, mmd_rbf

HELD_OUT_SEED = 10**6
CLASSIFIER_SEED = 2 * 10**6
BASELINE_SEED = 0
ALL = "all"


@dataclass
class Scores:
    """One table row; ``accuracy`` is None for an unconditional model (there is no asked-for category)."""

    category: str
    accuracy: float | None
    frechet: float
    mmd: float


@dataclass
class EvalReport:
    model: str
    steps: int
    sampler: str
    guidance_scale: float
    per_category: int
    seed: int
    real_accuracy: float
    rows: list[Scores]
    baseline: list[Scores] | None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mean"] = asdict(mean_scores(self.rows))
        if self.baseline is not None:
            d["baseline_mean"] = asdict(mean_scores(self.baseline))
        return d

    def table(self) -> str:
        """The report as aligned text: one row per category, then the means and trained/untrained ratios."""
        head = f"{'category':<12} {'accuracy':>9} {'Fréchet':>10} {'MMD':>9}"
        if self.baseline is not None:
            head += f"   | untrained: {'accuracy':>9} {'Fréchet':>10} {'MMD':>9}"
        lines = [
            f"model {self.model}: {self.per_category} per category, {self.steps} steps, sampler {self.sampler}, "
            f"guidance {self.guidance_scale:g}, seed {self.seed}",
            f"classifier accuracy on held-out real hits: {_pct(self.real_accuracy)}",
            head,
        ]
        pairs = zip(self.rows, self.baseline or [None] * len(self.rows), strict=True)
        for row, base in [*pairs, (mean_scores(self.rows), self.baseline and mean_scores(self.baseline))]:
            line = f"{row.category:<12} {_cells(row)}"
            lines.append(line if base is None else f"{line}   | {'':<11}{_cells(base)}")
        if self.baseline is not None:
            m, b = mean_scores(self.rows), mean_scores(self.baseline)
            lines.append(f"trained / untrained: Fréchet {_ratio(m.frechet, b.frechet)}, MMD {_ratio(m.mmd, b.mmd)}")
        return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b > 0 else "-"


def _cells(s: Scores) -> str:
    return f"{_pct(s.accuracy):>9} {s.frechet:>10.3f} {s.mmd:>9.4f}"


def mean_scores(rows: Sequence[Scores]) -> Scores:
    """The average row (accuracy averaged over the rows that have one)."""
    acc = [r.accuracy for r in rows if r.accuracy is not None]
    return Scores(
        "mean",
        float(np.mean(acc)) if acc else None,
        float(np.mean([r.frechet for r in rows])),
        float(np.mean([r.mmd for r in rows])),
    )


def real_hits(category: str, count: int, first_seed: int, sample_rate: int, length: int) -> list[np.ndarray]:
    """``count`` procedural hits of exactly ``length`` samples at ``sample_rate``."""
    return [synth.render(category, first_seed + i, sample_rate, length / sample_rate)[:, :length] for i in range(count)]


def fit_classifier(categories: Sequence[str], per_category: int, sample_rate: int, length: int) -> FeatureClassifier:
    """A classifier fitted on ``per_category`` hits per category from the classifier seed range."""
    hits = [real_hits(c, per_category, CLASSIFIER_SEED, sample_rate, length) for c in categories]
    x = np.concatenate([feature_matrix(h, sample_rate) for h in hits])
    return FeatureClassifier(categories).fit(x, np.repeat(np.arange(len(categories)), per_category))


def generated_hits(
    bundle: ModelBundle, category: str | None, count: int, seed: int, steps: int, sampler: str, guidance_scale: float
) -> list:
    """``count`` raw hits ``[C, L]`` (seeds ``seed``, ``seed + 1``, ...), clipped to [-1, 1] with NaNs zeroed."""
    from ddbridge.diffusion.tasks import generate

    seeds = [seed + i for i in range(count)]
    audio = generate(
        bundle, count, seeds=seeds, steps=steps, sampler=sampler, category=category, guidance_scale=guidance_scale
    )
    return [np.clip(np.nan_to_num(a), -1.0, 1.0) for a in audio.numpy()]


def untrained_like(bundle: ModelBundle) -> ModelBundle:
    """A randomly initialised (fixed seed) network of the same shape, rate, length, categories and data scale."""
    from ddbridge.train.netinit import new_network

    net = new_network(bundle.net.config, BASELINE_SEED).to(next(bundle.net.parameters()).device).eval()
    keep = ("data_scale", "representation")
    name, info = f"{bundle.name} (untrained)", {k: bundle.info[k] for k in keep if k in bundle.info}
    return ModelBundle(net, name, bundle.sample_rate, bundle.sample_size, bundle.categories, info)


def evaluate(
    bundle: ModelBundle,
    per_category: int = 16,
    steps: int | None = None,
    sampler: str | None = None,
    guidance_scale: float | None = None,
    seed: int = 0,
    classifier_per_category: int = 40,
    baseline: bool = True,
    progress: Callable[[float], None] | None = None,
) -> EvalReport:
    """Generate ``per_category`` hits per category and score them (see the module doc).

    A class-conditioned model is scored per category on those of its categories the drum synth
    knows; an unconditional model gets one row, ``all``, against hits of every category.
    ``guidance_scale`` (default: the model's) applies to the model, not to the untrained baseline
    (whose null class is as untrained as the rest).
    """
    if per_category < 2:
        raise BadRequest(f"per_category must be >= 2 (a distribution needs several hits), got {per_category}")
    steps = bundle.default_steps if steps is None else steps
    sampler = sampler or bundle.default_sampler
    known = [c for c in bundle.categories if c in synth.CATEGORIES]
    if bundle.categories and not known:
        raise BadRequest(
            f"model '{bundle.name}' knows none of the drum categories the evaluator synthesises "
            f"({', '.join(synth.CATEGORIES)})"
        )
    guidance_scale = bundle.guidance_for(bundle.resolve_category(known[0] if known else None), guidance_scale)
    rate, length = bundle.sample_rate, bundle.sample_size
    categories = known or list(synth.CATEGORIES)
    classifier = fit_classifier(categories, classifier_per_category, rate, length)
    scale = classifier.scaler
    real = {c: feature_matrix(real_hits(c, per_category, HELD_OUT_SEED, rate, length), rate) for c in categories}
    real_x = np.concatenate([real[c] for c in categories])
    real_y = np.repeat(np.arange(len(categories)), per_category)
    real_accuracy = classifier.accuracy(real_x, real_y)
    bundles = [bundle, untrained_like(bundle)] if baseline else [bundle]
    asked = categories if known else [None]
    done, total = 0, len(bundles) * len(asked)
    results = []
    for b in bundles:
        rows = []
        for category in asked:
            guidance = guidance_scale if b is bundle else 1.0
            raw = feature_matrix(generated_hits(b, category, per_category, seed, steps, sampler, guidance), rate)
            acc = None if category is None else classifier.accuracy(raw, np.full(len(raw), categories.index(category)))
            x, ref = scale(raw), scale(real_x if category is None else real[category])
            rows.append(Scores(category or ALL, acc, frechet_distance(x, ref), mmd_rbf(x, ref)))
            done += 1
            if progress is not None:
                progress(done / total)
        results.append(rows)
    return EvalReport(
        bundle.name,
        int(steps),
        sampler,
        float(guidance_scale),
        per_category,
        seed,
        real_accuracy,
        results[0],
        results[1] if baseline else None,
    )
