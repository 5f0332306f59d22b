"""Build a data set: run every source's jobs, prepare each hit, drop silent and duplicate ones, write it all.

The set is written to a hidden sibling folder and moved into place when complete, so an interrupted
or failed build leaves the output folder as it was.

Every hit has a split in ``manifest.csv``. A permissive set holds whole kits out of training
(``valid``): checkpoints, samplers and guidance are chosen on them, and the copyleft held-out set
(``heldout``, every hit) only reports. The validation kits (``VALID_KITS``, ``VALID_SOURCE_KITS``) give
every category some hits from kits unlike the training ones: no validation hit correlates with a
training hit of its category above 0.89 (``measures.cross_correlations``, in the full build):

- the TR-808, the kit and its 808-tom program (whose toms correlate with the kit's up to 0.96), in
  every SoundFont: an electronic kit with a clap, both hats, kick, snare and toms;
- Sonic Pi's acoustic ``drum_*`` kit (hats, kicks, snares, toms) and ``bass_*`` synth basses: one
  recording each, in no other source;
- the acoustic bass and the harp in every SoundFont: a played bass and a pluck.

That is 1 of 3 claps, 6 of 19 closed and 3 of 8 open hats, 6 of 80 kicks, 5 of 76 snares, 32 of 127
toms, 22 of 177 basses, 20 of 168 plucks and 11 of 84 percussion hits of the full build.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ddbridge.dataset import files, hydrogen, soundfont
from ddbridge.dataset.dedupe import Deduper
from ddbridge.dataset.hits import Hit, Job, prepare
from ddbridge.dataset.output import (
    EVAL_ONLY,
    NOTICE,
    building_into,
    eval_only_text,
    notice_text,
    write_hit,
    write_manifest,
)
from ddbridge.dataset.sources import Source, locate

_JOBS = {"soundfont": soundfont.jobs, "folder": files.jobs, "hydrogen": hydrogen.jobs}
VALID_KITS = frozenset({"tr-808", "808-tom", "acoustic-bass", "harp"})  # in any permissive source
VALID_SOURCE_KITS = frozenset({("sonicpi", "drum"), ("sonicpi", "bass")})


def split_of(source: str, kit: str, heldout: bool = False) -> str:
    """The split of a hit of ``kit`` from ``source``: ``heldout`` in a held-out set, else ``valid`` for the
    validation kits (see the module doc) and ``train`` for the rest."""
    if heldout:
        return "heldout"
    return "valid" if kit in VALID_KITS or (source, kit) in VALID_SOURCE_KITS else "train"


@dataclass
class Report:
    """What a build wrote (per category, per source) and what it dropped."""

    folder: Path
    categories: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)
    valid: Counter = field(default_factory=Counter)  # validation hits per category
    silent: int = 0
    duplicates: int = 0

    @property
    def total(self) -> int:
        return sum(self.categories.values())


def plan(sources: list[Source]) -> list[tuple[Source, Job]]:
    """Every job of ``sources``; ``BadRequest`` naming the Debian package of a source that is not installed."""
    out = []
    for source in sources:
        for path in locate(source):
            out += [(source, job) for job in _JOBS[source.kind](source, path)]
    return out


def build(
    out: Path,
    sources: list[Source],
    *,
    heldout: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> Report:
    """Write the set built from ``sources`` to ``out``; ``progress(done, total, label)`` after each job."""
    out = Path(out).expanduser().resolve()
    with building_into(out) as partial:
        jobs = plan(sources)
        report, rows = Report(out), []
        dedupe, names = Deduper(), set()
        for i, (source, (label, run)) in enumerate(jobs):
            for raw in run():
                audio = prepare(raw.audio)
                if audio is None:
                    report.silent += 1
                    continue
                if not dedupe.is_new(raw.category, audio):
                    report.duplicates += 1
                    continue
                what, n = raw.what, 1
                while (source.name, raw.category, raw.kit, what) in names:  # two instruments of one name
                    n += 1
                    what = f"{raw.what}-{n}"
                names.add((source.name, raw.category, raw.kit, what))
                hit = Hit(raw.category, source.name, raw.kit, what, raw.licence or source.licence, raw.origin, audio)
                split = split_of(hit.source, hit.kit, heldout)
                rows.append(write_hit(partial, hit, split))
                if split == "valid":
                    report.valid[hit.category] += 1
                report.categories[hit.category] += 1
                report.sources[hit.source] += 1
            if progress:
                progress(i + 1, len(jobs), label)
        write_manifest(partial, sorted(rows, key=lambda r: r["path"]))
        (partial / NOTICE).write_text(notice_text(sources, rows, heldout), encoding="utf-8")
        if heldout:
            (partial / EVAL_ONLY).write_text(eval_only_text(sources), encoding="utf-8")
    return report
