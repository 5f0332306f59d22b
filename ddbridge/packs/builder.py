"""Building a pack: run the plan's batches on a backend, decide in plan order, write with the daemon's writer.

Decisions are made in plan order whatever order batches finish in, so a pack is the same on one
machine or many. A sound the judge hears as another category is dropped (off-category), so is one
within ``min_distance`` of a kept sound of its category (near-duplicate; loops: of its category and
genre). Loops carry their tempo, bars and genre in the sidecar, the manifest and the WAV's ``acid`` and
``smpl`` chunks. Kept sounds are written
with ``render.write_wav`` (atomic, never over a file) into ``<out>/<name>/<Folder>/``; every
decision is appended to ``.pack/state.jsonl`` only after its file exists, and a file whose
decision was lost in a crash is found again by its sidecar, so an interrupted run resumes where it
stopped with nothing lost or written twice.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ddbridge import __version__
from ddbridge.loops.genres import ANY, BEATS_PER_BAR
from ddbridge.packs.spec import Item, PackSpec
from ddbridge.packs.worker import Rendered
from ddbridge.sound import render
from ddbridge.train.features import FEATURE_NAMES, features

# A backend takes the batches still to do and yields each one's results as it finishes (any order).
Backend = Callable[[list[tuple[Item, ...]]], Iterable[list[Rendered]]]
STATE = ".pack"


class PackBuilder:
    def __init__(self, spec: PackSpec, out: Path, log: Callable[[str], None] | None = None) -> None:
        self.spec, self.root = spec, Path(out).absolute() / spec.name
        self.state_file = self.root / STATE / "state.jsonl"
        self.log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self.decided: dict[int, dict] = {}

    def build(self, backend: Backend, progress: bool = True) -> dict:
        """Make whatever the plan still lacks, then write the manifest and licence; the summary."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.state_file.parent.mkdir(exist_ok=True)
        self._load_state()
        todo = [b for b in self.spec.batches() if any(item.index not in self.decided for item in b)]
        if self.decided:
            self.log(f"resuming: {len(self.decided)} of {len(self.spec.items)} sounds already decided")
        waiting: dict[int, Rendered] = {}
        pending = sorted(i.index for b in todo for i in b if i.index not in self.decided)
        bar = _Progress(len(pending), self.log if progress else None)
        for results in backend(todo) if todo else ():
            for r in results:
                if r.item.index not in self.decided:
                    waiting[r.item.index] = r
            while pending and pending[0] in waiting:
                self._decide(waiting.pop(pending.pop(0)))
                bar.step()
        if pending:
            raise RuntimeError(f"the backend finished with {len(pending)} sound(s) undone")
        return self._finish()

    # -- decisions ------------------------------------------------------------------------------

    def _load_state(self) -> None:
        if self.state_file.is_file():
            for line in self.state_file.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash: that sound is decided again
                self.decided[entry["index"]] = entry
        for sidecar in self.root.glob("**/*.json"):
            if STATE in sidecar.parts or sidecar.name.startswith(("manifest", ".")):
                continue
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            index = meta.get("pack_index")
            if meta.get("pack") == self.spec.name and index is not None and index not in self.decided:
                wav = sidecar.with_suffix(".wav")
                entry = {"index": index, "status": "kept", "file": self._relative(wav), "category": meta["category"]}
                self._record({**entry, "genre": meta.get("genre"), "features": meta["features"]})

    def _decide(self, r: Rendered) -> None:
        item = r.item
        vector = features(r.audio.T, self.spec.sample_rate)
        if not r.on_category:
            self._record({"index": item.index, "status": "off_category", "heard_as": r.heard_as})
            return
        group = (item.category, _genre(item))
        for kept in self.decided.values():
            if kept["status"] == "kept" and (kept.get("category", item.category), kept.get("genre")) == group:
                distance = float(np.sqrt(np.mean((np.asarray(kept["features"]) - vector) ** 2)))
                if distance < self.spec.min_distance:
                    self._record({"index": item.index, "status": "duplicate", "of": kept["file"]})
                    return
        folder = self.root / item.folder
        folder.mkdir(parents=True, exist_ok=True)
        meta = self._metadata(item, r.audio, vector)
        path = render.write_wav(
            r.audio, self.spec.sample_rate, folder, item.stem, bit_depth=self.spec.bit_depth, metadata=meta
        )
        self._record(
            {
                "index": item.index,
                "status": "kept",
                "file": self._relative(path),
                "category": item.category,
                "genre": _genre(item),
                "features": meta["features"],
            }
        )

    def _record(self, entry: dict) -> None:
        self.decided[entry["index"]] = entry
        with open(self.state_file, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()

    def _metadata(self, item: Item, audio: np.ndarray, vector: np.ndarray) -> dict:
        s = self.spec
        tempo = {}
        if item.tempo:  # also what gives the WAV its acid and smpl chunks
            tempo = {"bpm": item.bpm, "bars": item.bars, "beats": item.bars * BEATS_PER_BAR, "genre": _genre(item)}
        return {
            "seed": item.seed,
            "model": s.model,
            "sampler": s.sampler or "default",
            "steps": s.steps or "default",
            "category": item.category,
            "loop": item.loop,
            **tempo,
            "sample_rate": s.sample_rate,
            "bit_depth": s.bit_depth,
            "seconds": round(audio.shape[0] / s.sample_rate, 6),
            "loudness_lufs": s.loudness,
            "pack": s.name,
            "pack_index": item.index,
            "features": [round(float(v), 6) for v in vector],
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "software": f"ddbridge {__version__}",
        }

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # -- the manifest ---------------------------------------------------------------------------

    def _finish(self) -> dict:
        items = {i.index: i for i in self.spec.items}
        kept = [(items[i], e) for i, e in sorted(self.decided.items()) if e["status"] == "kept"]
        counts = {
            s: sum(e["status"] == s for e in self.decided.values()) for s in ("kept", "off_category", "duplicate")
        }
        summary = {
            "pack": self.spec.name,
            "model": self.spec.model,
            "licence": self.spec.licence,
            "planned": len(self.spec.items),
            **counts,
            "off_category_rate": round(counts["off_category"] / max(1, len(self.spec.items)), 4),
            "duplicate_rate": round(counts["duplicate"] / max(1, len(self.spec.items)), 4),
        }
        sounds = [
            {
                "file": e["file"],
                "category": item.category,
                "seed": item.seed,
                "model": self.spec.model,
                "loop": item.loop,
                "bpm": item.bpm,
                "bars": item.bars,
                "genre": _genre(item),
                "features": dict(zip(FEATURE_NAMES, e["features"], strict=True)),
            }
            for item, e in kept
        ]
        _write_atomic(self.root / "manifest.json", json.dumps({**summary, "sounds": sounds}, indent=2) + "\n")
        columns = ["file", "category", "seed", "model", "loop", "bpm", "bars", "genre"]
        rows = [[*columns, *FEATURE_NAMES]]
        rows += [[_cell(s[c]) for c in columns] + list(s["features"].values()) for s in sounds]
        _write_atomic(self.root / "manifest.csv", _csv(rows))
        _write_atomic(self.root / "LICENSE.txt", _licence(self.spec))
        return summary


class _Progress:
    """One stderr line per few seconds: done/total, sounds per second and the time left."""

    def __init__(self, total: int, log: Callable[[str], None] | None) -> None:
        self.total, self.done, self.log = total, 0, log
        self.start = self.last = time.monotonic()

    def step(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.log and (now - self.last >= 2.0 or self.done == self.total):
            rate = self.done / max(now - self.start, 1e-9)
            left = (self.total - self.done) / rate
            bar = "#" * int(30 * self.done / self.total)
            self.log(f"[{bar:<30}] {self.done}/{self.total} {rate:.2f} sounds/s, ETA {_clock(left)}")
            self.last = now


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds + 0.5), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}"


def _genre(item: Item) -> str | None:
    """A loop's genre as files and the manifest name it (``any`` when none was asked); None for a one-shot."""
    return (item.genre or ANY) if item.tempo else None


def _cell(value) -> object:
    """A manifest.csv cell: empty for what a sound does not have (a one-shot's tempo), ``124`` for 124.0."""
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else value


def _csv(rows: list[list]) -> str:
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _write_atomic(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.partial")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)


def _licence(spec: PackSpec) -> str:
    return (
        f"{spec.name}\n\nLicence: {spec.licence}\n\n"
        f"Generated with ddbridge {__version__} from the model '{spec.model}'. Each sound's seed, model and\n"
        "settings are in manifest.json, manifest.csv and the sound's .json sidecar; the model's own licence\n"
        "and notices (for the bundled default model, ddbridge's NOTICE) apply to how it may be used.\n"
    )


def local_backend(spec: PackSpec, device: str = "auto", threads: int = 0) -> Backend:
    """Every batch in this process, on one warm model."""

    def run(batches: list[tuple[Item, ...]]) -> Iterator[list[Rendered]]:
        from ddbridge.packs.worker import PackWorker

        worker = PackWorker(spec, device, threads)
        for batch in batches:
            yield worker.render(batch)

    return run
