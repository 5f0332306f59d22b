"""The real-drum judge: a feature classifier fitted on real hits, and its accuracy on kits it never saw.

A judge is only as good as its own accuracy on real drums, so it is measured by grouped
cross-validation: the hits of one kit (group) are always predicted by a classifier fitted on the
other kits only (leave-one-kit-out up to ``MAX_FOLDS`` kits, kits dealt into ``MAX_FOLDS`` folds
beyond that). A kit is its family (``kit_family``): General MIDI kits come as numbered variations
(Standard 1-7, Room 2-3) and in several SoundFonts, which share samples, so they are held out
together. The judge that scores generated hits is then fitted on every real hit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ddbridge.protocol.errors import BadRequest
from ddbridge.train.classifier import FeatureClassifier

L2 = 1e-2  # chosen by leave-one-kit-out accuracy on the Hydrogen kits and on the permissive real set
MAX_FOLDS = 20


@dataclass
class HeldOut:
    """Accuracy on held-out kits: per category, the mean over categories, and over all hits."""

    per_category: dict[str, float]
    balanced: float
    overall: float
    folds: int


def kit_family(group: str) -> str:
    """The family of a ``source/kit`` group: the kit without its source, its variation number or a
    ``-kit`` suffix (``fluidr3/standard-3`` and ``musescore/standard`` are both ``standard``)."""
    kit = group.split("/", 1)[-1]
    return re.sub(r"-kit$", "", re.sub(r"-\d+$", "", kit))


def group_folds(groups: Sequence[str], max_folds: int = MAX_FOLDS) -> np.ndarray:
    """A fold index per hit that keeps each group whole: one fold per group when there are at most
    ``max_folds`` groups, else groups dealt (largest first) into the emptiest of ``max_folds`` folds."""
    sizes = Counter(groups)
    n = min(len(sizes), max_folds)
    load, fold_of = [0] * n, {}
    for group, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        fold_of[group] = int(np.argmin(load))
        load[fold_of[group]] += size
    return np.array([fold_of[g] for g in groups])


def fit_judge(x: np.ndarray, labels: np.ndarray, categories: Sequence[str], l2: float = L2) -> FeatureClassifier:
    """The judge fitted on features ``[N, F]`` with integer labels ``[N]``, every category weighing the
    same in the loss however many hits it has (real claps and hats are few)."""
    counts = np.bincount(labels, minlength=len(categories))
    return FeatureClassifier(categories, l2=l2).fit(x, labels, 1.0 / counts[labels])


def held_out_accuracy(x: np.ndarray, labels: np.ndarray, groups: Sequence[str], categories: Sequence[str]) -> HeldOut:
    """Predict every hit with a judge fitted without its kit family's hits (see the module doc)."""
    folds = group_folds([kit_family(g) for g in groups])
    if folds.max(initial=0) < 1:
        raise BadRequest("the judge needs hits from at least two kits (or folds) to be tested on unseen ones")
    labels = np.asarray(labels)
    predicted = np.empty_like(labels)
    for fold in range(folds.max() + 1):
        test = folds == fold
        predicted[test] = fit_judge(x[~test], labels[~test], categories).predict(x[test])
    right = predicted == labels
    per = {c: float(right[labels == i].mean()) for i, c in enumerate(categories) if (labels == i).any()}
    return HeldOut(per, float(np.mean(list(per.values()))), float(right.mean()), int(folds.max() + 1))
