"""The shipped judge: a drum-category classifier fitted on real hits, kept as a small JSON file.

The daemon loads it without any data folder (``DEFAULT_JUDGE``) to check pool candidates.
``ddbridge judge fit DIR --out FILE`` rebuilds it from a folder that ``ddbridge data build``
wrote; ``ddbridge judge test DIR`` scores it on real hits it never saw. Its regularisation is
chosen by cross-validation on the fitting folder alone, one kit family (``judge.kit_family``: a
General MIDI kit's variations and renderings in several SoundFonts) held out at a time.

The permissive sets hold few hats (8 open, 19 closed), all open ones ringing long, so the fit also
hears every hit as a sampler would play it (``VARIANTS`` draws of pitch ±3 semitones and tilt ±4 dB,
as ``ddbridge train --augment`` does), every open hat half-open (``OPEN_HAT_VARIANTS`` draws, each
also falling exponentially from its peak with a time constant spread over ``HALF_OPEN_TAU_S``: -20 dB
after 0.28 to 1.15 s) and choked (``CHOKES`` closed hats from each open hat, as training makes
them). Variants stay with their source in the cross-validation, which scores originals only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ddbridge.dataset.output import EVAL_ONLY
from ddbridge.protocol.errors import BadRequest
from ddbridge.train import augment as aug
from ddbridge.train.classifier import FeatureClassifier
from ddbridge.train.features import JUDGE_FEATURE_NAMES, Standardizer, judge_features
from ddbridge.train.judge import fit_judge, group_folds, kit_family
from ddbridge.train.reference import RATE, Reference, fit_hit, load_reference

FORMAT = "ddbridge-judge"
VERSION = 1
DEFAULT_JUDGE = Path(__file__).resolve().parent.parent / "assets" / "judge" / "drums.json"
# The eval's drum categories; a catch-all ``perc`` lowers the accuracy on unseen kits (57 % against 77 %).
CATEGORIES = ("kick", "snare", "clap", "hat_closed", "hat_open", "tom")
SECONDS = 1.0
L2_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
AUGMENT_SEED = 0
VARIANTS = 4
OPEN_HAT_VARIANTS = 16
CHOKES = 8
HALF_OPEN_TAU_S = (0.12, 0.5)


@dataclass
class SavedJudge:
    """A fitted classifier with the window it reads: mono at ``rate``, cut or padded to ``seconds``."""

    classifier: FeatureClassifier
    rate: int = RATE
    seconds: float = SECONDS
    info: dict = field(default_factory=dict)  # how it was fitted, for people

    @property
    def categories(self) -> tuple[str, ...]:
        return self.classifier.categories

    def features(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """Judge features of one hit ``[C, L]`` or ``[L]`` at ``sample_rate``, in the judge's window."""
        hit = fit_hit(np.atleast_2d(np.asarray(audio, dtype=np.float32)), sample_rate, round(self.seconds * self.rate))
        return judge_features(hit, self.rate)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Category probabilities ``[N, K]`` for features ``[N, F]``."""
        w = self.classifier.weights
        logits = self.classifier.scaler(np.atleast_2d(x)) @ w[:-1] + w[-1]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def classify(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """Category probabilities ``[K]`` of one hit."""
        return self.probabilities(self.features(audio, sample_rate)[None])[0]


def _labelled(reference: Reference, categories: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    present = [c for c in categories if c in reference.hits]
    x = np.concatenate([np.stack([judge_features(h, reference.rate) for h in reference.hits[c]]) for c in present])
    labels = np.concatenate([np.full(len(reference.hits[c]), categories.index(c)) for c in present])
    return x, labels


def variants(
    reference: Reference, categories: Sequence[str], seed: int = AUGMENT_SEED
) -> list[tuple[np.ndarray, str, str]]:
    """``(hit, category, group)`` variants of the reference's hits (see the module doc), drawn from ``seed``."""
    rng, rate = np.random.default_rng(seed), reference.rate
    length = len(next(iter(reference.hits.values()))[0])
    out = []

    def add(audio: np.ndarray, category: str, group: str) -> None:
        out.append((fit_hit(audio, rate, length), category, group))

    for category in categories:
        for hit, group in zip(reference.hits.get(category, []), reference.groups.get(category, []), strict=True):
            half_open = category == "hat_open"
            taus = np.geomspace(*HALF_OPEN_TAU_S, OPEN_HAT_VARIANTS) if half_open else [None] * VARIANTS
            for tau in taus:
                v = aug.tilt(aug.pitch(hit[None], rng, rate), rng, rate)
                add(v if tau is None else aug.shorten(v, rng, rate, (tau, tau)), category, group)
            if half_open and "hat_closed" in categories:
                for _ in range(CHOKES):
                    add(aug.choke(hit[None], rng, rate), "hat_closed", group)
    return out


def _cross_validated(
    x: np.ndarray, labels: np.ndarray, groups: Sequence[str], k: int, l2: float, scored: np.ndarray | None = None
) -> float:
    """Balanced accuracy when every group is predicted by a judge fitted on the others; only the hits
    marked in ``scored`` (default: all) count."""
    folds = group_folds(groups)
    scored = np.ones(len(labels), dtype=bool) if scored is None else scored
    predicted = np.empty_like(labels)
    for fold in range(folds.max() + 1):
        test = folds == fold
        predicted[test] = fit_judge(x[~test], labels[~test], [str(i) for i in range(k)], l2).predict(x[test])
    right, labels = predicted[scored] == labels[scored], labels[scored]
    return float(np.mean([right[labels == i].mean() for i in range(k) if (labels == i).any()]))


def fit_folder(
    folder: str | Path,
    categories: Sequence[str] = CATEGORIES,
    seconds: float = SECONDS,
    augment: bool = True,
    seed: int = AUGMENT_SEED,
) -> SavedJudge:
    """A judge fitted on the real hits of ``folder`` (``ddbridge data build`` layout, every split) and,
    with ``augment``, their variants (see the module doc, drawn from ``seed``), every category weighing
    the same; L2 from ``L2_GRID`` by leave-one-kit-family-out accuracy on the originals.

    Refuses an evaluation-only folder and one that lacks any of ``categories``.
    """
    folder = Path(folder).expanduser()
    if (folder / EVAL_ONLY).is_file():
        raise BadRequest(f"'{folder}' is an evaluation-only set ({EVAL_ONLY}): never fit the judge on it")
    categories = list(categories)
    reference = load_reference(folder, seconds, categories)
    missing = [c for c in categories if c not in reference.hits]
    if missing:
        raise BadRequest(f"'{folder}' has no hits of {', '.join(missing)}: the judge needs every category")
    x, labels = _labelled(reference, categories)
    kits = [g for c in categories for g in reference.groups[c]]
    extra = variants(reference, categories, seed) if augment else []
    if extra:
        x = np.concatenate([x, np.stack([judge_features(h, reference.rate) for h, _, _ in extra])])
        labels = np.concatenate([labels, [categories.index(c) for _, c, _ in extra]])
        kits += [g for _, _, g in extra]
    scored = np.arange(len(labels)) < len(labels) - len(extra)
    sources = [k.split("/")[0] for k in kits]
    groups, grouping = [kit_family(k) for k in kits], "kit family"
    if len(set(groups)) < 2:
        raise BadRequest(f"'{folder}' holds one kit family: the judge needs several to choose its regularisation")
    scores = {l2: _cross_validated(x, labels, groups, len(categories), l2, scored) for l2 in L2_GRID}
    l2 = max(scores, key=scores.get)
    accuracy = {str(k): round(v, 4) for k, v in scores.items()}
    info = {
        "fitted_on": {c: len(reference.hits[c]) for c in categories},
        "sources": sorted(set(sources)),
        "l2": l2,
        "cross_validation": {"held_out": grouping, "balanced_accuracy": accuracy},
    }
    if augment:
        info["variants"] = {
            "seed": seed, "per_hit": VARIANTS, "per_open_hat": OPEN_HAT_VARIANTS, "chokes_per_open_hat": CHOKES,
            "half_open_tau_s": list(HALF_OPEN_TAU_S), "total": len(extra),
        }  # fmt: skip
    return SavedJudge(fit_judge(x, labels, categories, l2), reference.rate, seconds, info)


def score_folder(judge: SavedJudge, folder: str | Path) -> dict:
    """Accuracy of ``judge`` on the hits of ``folder`` in its categories: per category, their mean, all hits."""
    reference = load_reference(folder, judge.seconds, list(judge.categories))
    x, labels = _labelled(reference, list(judge.categories))
    right = judge.probabilities(x).argmax(axis=1) == labels
    per = {c: float(right[labels == i].mean()) for i, c in enumerate(judge.categories) if (labels == i).any()}
    hits = {c: int((labels == i).sum()) for i, c in enumerate(judge.categories) if (labels == i).any()}
    balanced = float(np.mean(list(per.values())))
    return {"per_category": per, "balanced": balanced, "overall": float(right.mean()), "hits": hits}


def save_judge(judge: SavedJudge, path: str | Path) -> Path:
    """Write ``judge`` as JSON (feature names, scaling, weights, window, how it was fitted)."""
    c = judge.classifier
    data = {
        "format": FORMAT,
        "version": VERSION,
        "categories": list(c.categories),
        "rate": judge.rate,
        "seconds": judge.seconds,
        "features": list(JUDGE_FEATURE_NAMES),
        "mean": c.scaler.mean.tolist(),
        "std": c.scaler.std.tolist(),
        "weights": c.weights.tolist(),
        "l2": c.l2,
        "info": judge.info,
    }
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path


def load_judge(path: str | Path = DEFAULT_JUDGE) -> SavedJudge:
    """Read a judge that ``save_judge`` wrote; ``BadRequest`` when it is missing, malformed or was
    fitted on other features than this version computes."""
    path = Path(path).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BadRequest(f"judge file {path} unreadable: {e}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise BadRequest(f"judge file {path} is not a {FORMAT} version {VERSION} file")
    if data.get("features") != list(JUDGE_FEATURE_NAMES):
        raise BadRequest(f"judge file {path} was fitted on other features: rebuild it with `ddbridge judge fit`")
    try:
        classifier = FeatureClassifier(data["categories"], l2=float(data["l2"]))
        scaler = Standardizer(np.zeros((1, len(JUDGE_FEATURE_NAMES))))
        scaler.mean, scaler.std = np.asarray(data["mean"], float), np.asarray(data["std"], float)
        classifier.scaler, classifier.weights = scaler, np.asarray(data["weights"], float)
        n = len(JUDGE_FEATURE_NAMES)
        shapes_ok = scaler.mean.shape == scaler.std.shape == (n,)
        shapes_ok = shapes_ok and classifier.weights.shape == (n + 1, len(classifier.categories))
        judge = SavedJudge(classifier, int(data["rate"]), float(data["seconds"]), dict(data.get("info", {})))
    except (KeyError, TypeError, ValueError) as e:
        raise BadRequest(f"judge file {path} is malformed: {e}") from None
    if not shapes_ok:
        raise BadRequest(f"judge file {path} is malformed: its arrays do not match its features and categories")
    return judge
