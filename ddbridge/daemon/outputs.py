"""Where results go: checked output folders, the project layout, and the record of folders written to.

A request names ``out_dir`` (files go straight in) or ``project_dir`` (files go into
``<project_dir>/Samples/Generated/<folder>/``), or neither (the configured default project).
Every folder must be absolute, exist (the layout below a project is created), be writable and lie
under an allowed root once symlinks are resolved; the project layout is checked whole before any
of it is created. Folders written to are recorded so that a restart can remove hidden partial files
a crash left behind.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ddbridge.protocol.errors import PathRefused
from ddbridge.sound import render

LAYOUT = ("Samples", "Generated")
RECORD_NAME = "out_dirs.txt"
MAX_RECORDED = 500


class Outputs:
    """Resolves and records output folders."""

    def __init__(self, allowed_roots: list[Path], default_project_dir: Path, state_dir: Path) -> None:
        self.allowed_roots = [Path(r).resolve() for r in allowed_roots]
        self.default_project_dir = default_project_dir
        self.record_path = state_dir / RECORD_NAME
        self._recorded: set[Path] = set()
        self._lock = threading.Lock()

    def resolve(self, out_dir: str | None, project_dir: str | None, folder: str) -> Path:
        """The folder a request's files go into; ``PathRefused`` saying why when it cannot be used."""
        if out_dir is not None:
            target = self._existing_dir(out_dir, "out_dir")
        else:
            if project_dir is not None:
                project = self._existing_dir(project_dir, "project_dir")
            else:
                project = self._default_project()
            # Every link on the way (even one to a folder not made yet) is followed and checked before
            # anything is created, so a refused request leaves no folder behind.
            target = self._inside_roots(_resolve(project.joinpath(*LAYOUT, folder)), "output folder")
            try:
                target.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise PathRefused(f"cannot create '{target}': {e.strerror or e}") from None
        self._record(target)
        return target

    def _existing_dir(self, value: str, name: str) -> Path:
        p = Path(value)
        if not p.is_absolute():
            raise PathRefused(f"{name} must be an absolute path, got '{value}'")
        if not p.exists():
            raise PathRefused(f"{name} '{value}' does not exist")
        if not p.is_dir():
            raise PathRefused(f"{name} '{value}' is a file, not a folder")
        resolved = self._inside_roots(p.resolve(), name)
        if not os.access(resolved, os.W_OK | os.X_OK):
            raise PathRefused(f"{name} '{value}' is not writable")
        return resolved

    def _default_project(self) -> Path:
        project = self.default_project_dir
        try:
            project.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PathRefused(f"cannot create the default project folder '{project}': {e.strerror or e}") from None
        return self._existing_dir(str(project), "default project folder")

    def _inside_roots(self, resolved: Path, name: str) -> Path:
        if any(resolved == root or resolved.is_relative_to(root) for root in self.allowed_roots):
            return resolved
        roots = ", ".join(str(r) for r in self.allowed_roots)
        raise PathRefused(f"{name} '{resolved}' is outside the allowed roots ({roots}); add it to output.allowed_roots")

    def _record(self, folder: Path) -> None:
        with self._lock:
            if folder in self._recorded:
                return
            self._recorded.add(folder)
            try:
                self.record_path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.record_path, "a", encoding="utf-8") as f:
                    f.write(f"{folder}\n")
            except OSError:
                pass  # the record only speeds up crash clean-up; writing results must not depend on it

    def clean_recorded(self) -> list[Path]:
        """Remove partial files from every recorded folder; return what was removed."""
        try:
            lines = self.record_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
        folders = list(dict.fromkeys(Path(line) for line in lines if line.strip()))[-MAX_RECORDED:]
        removed: list[Path] = []
        for folder in folders:
            removed += render.clean_partials(folder)
        kept = [f for f in folders if f.is_dir()]
        try:
            self.record_path.parent.mkdir(parents=True, exist_ok=True)
            self.record_path.write_text("".join(f"{f}\n" for f in kept), encoding="utf-8")
        except OSError:
            pass
        with self._lock:
            self._recorded = set(kept)
        return removed


def _resolve(path: Path) -> Path:
    """``path`` with every symlink followed, including links to what does not exist yet."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as e:  # RuntimeError: a symlink loop
        raise PathRefused(f"cannot resolve '{path}': {e}") from None
