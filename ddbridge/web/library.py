"""The sounds ddbridge wrote, found by their JSON sidecars, and the checks a path passes before the page uses it.

A sound is a ``.wav`` under an allowed root whose ``.json`` sidecar holds ddbridge's metadata (a
``seed`` and a ``model``). The library lists the folders the daemon recorded writing to plus any
configured library folders; favourites and hidden sounds are marks kept in the daemon's state
folder, so nothing the page does ever changes or deletes a user's file.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from ddbridge.protocol.errors import BadAudio, BadRequest, PathRefused
from ddbridge.web import analysis

MAX_DEPTH = 4  # folder levels walked below a library folder
MAX_SOUNDS = 20000
MAX_PATH = 4096


def read_sidecar(wav: Path) -> dict | None:
    """The ddbridge metadata beside ``wav``, or None when there is none (not a sound ddbridge wrote)."""
    try:
        meta = json.loads(wav.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("seed"), int) or not isinstance(meta.get("model"), str):
        return None
    return meta


def operation(meta: dict) -> str:
    """The op that made a sound: the daemon records ``op``, the command line ``task``."""
    op = meta.get("op") or meta.get("task") or "generate"
    return op if op in ("generate", "variate", "interpolate", "extend") else "generate"


class Library:
    """Lists and checks sounds; ``folders()`` names the folders to list (checked against ``roots``)."""

    def __init__(
        self, roots: list[Path], folders: Callable[[], Iterable[Path]], marks_path: Path, uploads: Path
    ) -> None:
        self.roots = [Path(r).resolve() for r in roots]
        self.folders = folders
        self.marks_path = marks_path
        self.uploads = uploads
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, int, dict]] = {}
        self._marks = self._load_marks()

    # -- checks -----------------------------------------------------------------------------------

    def inside_roots(self, resolved: Path) -> bool:
        return any(resolved == root or resolved.is_relative_to(root) for root in self.roots)

    def sound(self, value: object) -> Path:
        """The resolved path of a sound ddbridge wrote under an allowed root; refuses anything else, saying why."""
        path = _absolute(value, "path")
        resolved = path.resolve()
        if not self.inside_roots(resolved):
            roots = ", ".join(str(r) for r in self.roots)
            raise PathRefused(f"'{value}' is outside the allowed roots ({roots})")
        if resolved.suffix.lower() != ".wav":
            raise PathRefused(f"'{value}' is not a WAV file; only sounds ddbridge wrote are served")
        if not resolved.is_file():
            raise BadAudio(f"'{value}' does not exist")
        if read_sidecar(resolved) is None:
            raise PathRefused(f"'{value}' has no ddbridge sidecar (.json); only sounds ddbridge wrote are served")
        return resolved

    def source(self, value: object) -> Path:
        """A job's source: a library sound or a file dropped on the page (kept in the uploads folder)."""
        path = _absolute(value, "source")
        resolved = path.resolve()
        uploads = self.uploads.resolve()
        if resolved.is_relative_to(uploads) and resolved.is_file():
            return resolved
        return self.sound(value)

    # -- listing ----------------------------------------------------------------------------------

    def sounds(self, include_hidden: bool = False) -> list[dict]:
        """Every sound in the library folders, newest first, with its metadata, marks and waveform peaks."""
        found: dict[str, Path] = {}
        for folder in self._library_folders():
            for wav in _walk(folder):
                if not self.inside_roots(wav.resolve()):
                    continue  # a link to a file outside the allowed roots
                found.setdefault(str(wav), wav)
                if len(found) >= MAX_SOUNDS:
                    break
        entries = [e for e in (self.entry(p) for p in found.values()) if e is not None]
        if not include_hidden:
            entries = [e for e in entries if not e["hidden"]]
        entries.sort(key=lambda e: (e["mtime"], e["name"]), reverse=True)
        return entries

    def entry(self, wav: Path) -> dict | None:
        """The library entry of one sound (None when it is not one); cached until the file changes."""
        try:
            st = wav.stat()
        except OSError:
            return None
        key = str(wav)
        with self._lock:
            cached = self._cache.get(key)
        if cached is None or cached[:2] != (st.st_mtime_ns, st.st_size):
            meta = read_sidecar(wav)
            if meta is None:
                return None
            try:
                peaks = analysis.peaks(wav)
            except BadAudio:
                return None
            base = {
                "path": key,
                "name": wav.name,
                "folder": str(wav.parent),
                "mtime": st.st_mtime,
                "op": operation(meta),
                "category": meta.get("category") or ("loop" if meta.get("loop") else ""),
                "meta": meta,
                "peaks": peaks,
            }
            cached = (st.st_mtime_ns, st.st_size, base)
            with self._lock:
                self._cache[key] = cached
        with self._lock:
            marks = {"favourite": key in self._marks["favourites"], "hidden": key in self._marks["hidden"]}
        return {**cached[2], **marks}

    def _library_folders(self) -> list[Path]:
        folders = []
        for folder in self.folders():
            try:
                resolved = Path(folder).expanduser().resolve()
            except (OSError, RuntimeError):
                continue
            if resolved.is_dir() and self.inside_roots(resolved) and resolved not in folders:
                folders.append(resolved)
        return folders

    # -- marks ------------------------------------------------------------------------------------

    def mark(self, path: Path, name: str, on: bool) -> None:
        """Set or clear the ``favourite`` or ``hidden`` mark of a (checked) sound; the file is never touched."""
        sets = {"favourite": "favourites", "hidden": "hidden"}
        if name not in sets:
            raise BadRequest(f"unknown mark '{name}'; choose favourite or hidden")
        with self._lock:
            marked = self._marks[sets[name]]
            (marked.add if on else marked.discard)(str(path))
            data = {k: sorted(v) for k, v in self._marks.items()}
        _write_json(self.marks_path, data)

    def _load_marks(self) -> dict[str, set[str]]:
        try:
            data = json.loads(self.marks_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        return {k: {str(p) for p in data.get(k, []) if isinstance(p, str)} for k in ("favourites", "hidden")}


def _absolute(value: object, name: str) -> Path:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"field '{name}' must be a non-empty string")
    if len(value) > MAX_PATH or "\0" in value:
        raise PathRefused(f"field '{name}' is not a usable path")
    path = Path(value)
    if not path.is_absolute():
        raise PathRefused(f"{name} '{value}' must be an absolute path")
    if ".." in path.parts:
        raise PathRefused(f"{name} '{value}' contains '..'; path traversal is refused")
    return path


def _walk(folder: Path, depth: int = 0) -> Iterable[Path]:
    """``*.wav`` files with a ``.json`` sibling in ``folder`` and its sub-folders (hidden ones skipped)."""
    try:
        with os.scandir(folder) as it:
            items = list(it)
    except OSError:
        return
    names = {item.name for item in items}
    for item in items:
        if item.name.startswith("."):
            continue
        if item.name.lower().endswith(".wav") and item.name[:-4] + ".json" in names:
            yield Path(item.path)
        elif depth < MAX_DEPTH and item.is_dir(follow_symlinks=False):
            yield from _walk(Path(item.path), depth + 1)


def _write_json(path: Path, data: object) -> None:
    """Write the daemon's own state file atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(temp, path)
