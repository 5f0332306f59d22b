"""The client's half of ``deliver: "reply"``: the daemon sends finished WAV files in its reply and the
client writes them into its own folders, with the same writer and layout the daemon uses.

``LocalTarget`` takes a request's ``out_dir`` / ``project_dir`` (checked before anything is sent);
``write_files`` publishes each delivered file atomically, never over an existing one, with its
sidecar, and turns the reply's entries into the usual ``path`` / ``sidecar`` / ``seed`` / ``metadata``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ddbridge.protocol.errors import BadAudio, PathRefused
from ddbridge.sound import render

DEFAULT_PROJECT_DIR = "~/Music/ddbridge"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True)
class LocalTarget:
    """Where delivered files go: straight into ``out_dir``, or ``<project>/Samples/Generated/<name>/``."""

    out_dir: Path | None
    project_dir: Path

    @classmethod
    def from_request(cls, out_dir: str | None, project_dir: str | None) -> LocalTarget:
        """``PathRefused`` for a relative or missing folder (nothing is sent then)."""
        for label, value in (("out_dir", out_dir), ("project_dir", project_dir)):
            if value is not None and not (Path(value).is_absolute() and Path(value).is_dir()):
                raise PathRefused(f"{label} '{value}' must be an existing absolute folder on this machine")
        project = Path(project_dir) if project_dir else Path(DEFAULT_PROJECT_DIR).expanduser()
        return cls(Path(out_dir) if out_dir else None, project)

    def folder(self, name: str) -> Path:
        """The folder for files named ``name`` (created under the project)."""
        if self.out_dir is not None:
            return self.out_dir
        folder = self.project_dir / "Samples" / "Generated" / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PathRefused(f"cannot make the folder '{folder}': {e.strerror or e}") from None
        return folder


def write_files(reply: dict, target: LocalTarget) -> dict:
    """Write the WAV bytes a successful reply carries (``wav`` in each file entry); the reply with local paths."""
    files = []
    for entry in reply.get("files") or []:
        name, data, metadata = entry.get("name"), entry.get("wav"), entry.get("metadata")
        folder = entry.get("folder", name)  # daemons before loops at a tempo named files after their folder
        for value in (name, folder):
            if not (isinstance(value, str) and _NAME.fullmatch(value)):
                raise BadAudio(f"the reply names a file or folder {value!r}, which is not a plain name")
        if not isinstance(data, bytes) or not isinstance(metadata, dict):
            raise BadAudio("the reply's file entries carry no audio; is the daemon's deliver mode supported?")
        path = render.write_wav_bytes(data, target.folder(folder), name, metadata=metadata)
        files.append(
            {
                "path": str(path),
                "sidecar": str(path.with_suffix(".json")),
                "seed": entry.get("seed"),
                "metadata": metadata,
            }
        )
    return {**reply, "files": files}
