"""Show a file in the system's file manager ("reveal in folder")."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

from ddbridge.protocol.errors import Unavailable


def reveal_command(path: Path, configured: list[str]) -> list[str]:
    """The command that shows ``path``: the configured one (``{path}`` and ``{folder}`` filled in),
    else Finder's, Explorer's or the desktop's folder opener."""
    if configured:
        return [arg.replace("{path}", str(path)).replace("{folder}", str(path.parent)) for arg in configured]
    if sys.platform == "darwin":
        return ["open", "-R", str(path)]
    if sys.platform == "win32":
        return ["explorer", f"/select,{path}"]
    return ["xdg-open", str(path.parent)]


def reveal(path: Path, configured: list[str]) -> list[str]:
    """Start the reveal command without waiting for it; returns it. ``Unavailable`` when it is not installed."""
    command = reveal_command(path, configured)
    if shutil.which(command[0]) is None:
        raise Unavailable(f"cannot show the file: '{command[0]}' is not installed; set web.reveal_command")
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    threading.Thread(target=proc.wait, name="ddbridge-reveal", daemon=True).start()  # reap it when it exits
    return command
