"""Build a data set: run every source's jobs, prepare each hit, drop silent and duplicate ones, write it all.

The set is written to a hidden sibling folder and moved into place when complete, so an interrupted
or failed build leaves the output folder as it was.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ddbridge.dataset import files, hydrogen, soundfont
from ddbridge.dataset.dedupe import Deduper
from ddbridge.dataset.hits import Hit, Job, prepare
from ddbridge.dataset.output import EVAL_ONLY, MANIFEST, NOTICE, eval_only_text, notice_text, write_hit, write_manifest
from ddbridge.dataset.sources import Source, locate
from ddbridge.protocol.errors import PathRefused

_JOBS = {"soundfont": soundfont.jobs, "folder": files.jobs, "hydrogen": hydrogen.jobs}


@dataclass
class Report:
    """What a build wrote (per category, per source) and what it dropped."""

    folder: Path
    categories: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)
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


def check_target(out: Path) -> None:
    """Refuse a file, or a non-empty folder that is not an earlier data build (which is replaced)."""
    if out.exists() and not out.is_dir():
        raise PathRefused(f"output folder '{out}' is a file")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise PathRefused(f"output folder '{out}' is not empty and holds no earlier data build ({MANIFEST})")


def build(
    out: Path,
    sources: list[Source],
    *,
    heldout: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> Report:
    """Write the set built from ``sources`` to ``out``; ``progress(done, total, label)`` after each job."""
    out = Path(out).expanduser().resolve()
    check_target(out)
    jobs = plan(sources)
    partial = out.parent / f".{out.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
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
                rows.append(write_hit(partial, hit))
                report.categories[hit.category] += 1
                report.sources[hit.source] += 1
            if progress:
                progress(i + 1, len(jobs), label)
        write_manifest(partial, rows)
        (partial / NOTICE).write_text(notice_text(sources, rows, heldout), encoding="utf-8")
        if heldout:
            (partial / EVAL_ONLY).write_text(eval_only_text(sources), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return report
