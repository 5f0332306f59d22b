"""The shipped judge: a drum-category classifier fitted on real hits, kept as a small JSON file.

The daemon loads it without any data folder (``DEFAULT_JUDGE``) to check pool candidates.
``ddbridge judge fit DIR --out FILE`` rebuilds it from a folder that ``ddbridge data build``
wrote; ``ddbridge judge test DIR`` scores it on real hits it never saw. Its regularisation is
chosen by cross-validation on the fitting folder alone, one source (package) held out at a time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ddbridge.dataset.output import EVAL_ONLY
from ddbridge.protocol.errors import BadRequest
from ddbridge.train.classifier import FeatureClassifier
from ddbridge.train.features import JUDGE_FEATURE_NAMES, Standardizer, judge_features
from ddbridge.train.judge import fit_judge, group_folds
from ddbridge.train.reference import RATE, Reference, fit_hit, load_reference

FORMAT = "ddbridge-judge"
VERSION = 1
DEFAULT_JUDGE = Path(__file__).resolve().parent.parent / "assets" / "judge" / "drums.json"
# The eval's drum categories; a catch-all ``perc`` lowers the accuracy on unseen kits (57 % against 77 %).
CATEGORIES = ("kick", "snare", "clap", "hat_closed", "hat_open", "tom")
SECONDS = 1.0
L2_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)


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


def _cross_validated(x: np.ndarray, labels: np.ndarray, groups: Sequence[str], k: int, l2: float) -> float:
    """Balanced accuracy when every group is predicted by a judge fitted on the others."""
    folds = group_folds(groups)
    predicted = np.empty_like(labels)
    for fold in range(folds.max() + 1):
        test = folds == fold
        predicted[test] = fit_judge(x[~test], labels[~test], [str(i) for i in range(k)], l2).predict(x[test])
    return float(np.mean([(predicted[labels == i] == i).mean() for i in range(k) if (labels == i).any()]))


def fit_folder(folder: str | Path, categories: Sequence[str] = CATEGORIES, seconds: float = SECONDS) -> SavedJudge:
    """A judge fitted on the real hits of ``folder`` (``ddbridge data build`` layout), every category
    weighing the same; L2 from ``L2_GRID`` by leave-one-source-out accuracy (kits when one source).

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
    sources = [k.split("/")[0] for k in kits]
    groups, grouping = (sources, "source") if len(set(sources)) > 1 else (kits, "kit")
    if len(set(groups)) < 2:
        raise BadRequest(f"'{folder}' holds one kit: the judge needs several to choose its regularisation")
    scores = {l2: _cross_validated(x, labels, groups, len(categories), l2) for l2 in L2_GRID}
    l2 = max(scores, key=scores.get)
    accuracy = {str(k): round(v, 4) for k, v in scores.items()}
    info = {
        "fitted_on": {c: len(reference.hits[c]) for c in categories},
        "sources": sorted(set(sources)),
        "l2": l2,
        "cross_validation": {"held_out": grouping, "balanced_accuracy": accuracy},
    }
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
