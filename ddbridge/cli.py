"""``ddbridge`` command line: discovers the sub-commands in ``ddbridge.commands``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ddbridge import __version__, commands
from ddbridge.protocol.errors import DDBridgeError


def build_parser() -> argparse.ArgumentParser:
    """The full parser, one sub-parser per module in ``ddbridge.commands``."""
    parser = argparse.ArgumentParser(prog="ddbridge", description="Dance Diffusion for your DAW.")
    parser.add_argument("--version", action="version", version=f"ddbridge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"ddbridge.commands.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; user errors print one line and exit 2, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DDBridgeError as e:
        print(f"ddbridge: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ddbridge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
