"""Write model files atomically and never over an existing path."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ddbridge.protocol.errors import PathRefused


@contextmanager
def atomic_output(final: Path, directory: bool = False) -> Iterator[Path]:
    """Yield a hidden temporary path beside ``final``; on success it becomes ``final``.

    With ``directory=True`` the temporary path is a fresh folder to fill. Refuses (PathRefused)
    when ``final`` exists; on failure the temporary path is removed and ``final`` is untouched.
    """
    final = Path(final)
    _refuse_existing(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.tmp"
    if directory:
        tmp.mkdir()
    else:
        tmp.touch(exist_ok=False)
    mode = tmp.stat().st_mode & 0o666  # what the umask allows; some writers create files private
    try:
        yield tmp
        for f in tmp.rglob("*") if directory else [tmp]:
            if f.is_file():
                os.chmod(f, mode)
                _fsync(f)
        _publish(tmp, final, directory)
    finally:
        if directory and tmp.exists():
            shutil.rmtree(tmp)
        elif tmp.exists():
            tmp.unlink()


def _publish(tmp: Path, final: Path, directory: bool) -> None:
    _refuse_existing(final)
    if directory:
        os.rename(tmp, final)
        return
    try:
        os.link(tmp, final)  # fails rather than replace a file created meanwhile
    except FileExistsError:
        raise PathRefused(_exists_message(final)) from None
    except OSError:  # file systems without hard links
        os.replace(tmp, final)


def _refuse_existing(final: Path) -> None:
    if final.exists() or final.is_symlink():
        raise PathRefused(_exists_message(final))


def _exists_message(final: Path) -> str:
    return f"{final} already exists; remove it or choose another name"


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())
