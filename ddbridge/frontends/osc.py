"""OSC front end (UDP): the addresses of ``protocol.osc_map.OSC_REQUESTS`` mapped onto core requests.

Every request's first argument is its id (``/ddbridge/request`` carries a whole JSON request
instead). Replies go to the sender, or to the sender's host on the configured reply port:
``/ddbridge/pong``, ``/ddbridge/progress``, ``/ddbridge/done`` (one per file), ``/ddbridge/error``,
and last ``/ddbridge/reply <id> <json>`` with the full reply. A datagram that python-osc cannot
read in full (it fails, or warns) is dropped whole and noted in one short log line, at most one a second.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import socket
import struct
import threading
import time
from typing import TYPE_CHECKING

import pythonosc
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from ddbridge.protocol import messages
from ddbridge.protocol.errors import BadRequest, Unavailable
from ddbridge.protocol.osc_map import OSC_REQUESTS

if TYPE_CHECKING:
    from ddbridge.daemon.core import Core

log = logging.getLogger(__name__)

Address = tuple[str, int]
DROP_NOTE_INTERVAL_S = 1.0
_PYTHONOSC_DIR = os.path.dirname(pythonosc.__file__)


class _Unreadable(Exception):
    """python-osc warned while parsing: part of the datagram is not OSC."""


class _ParserWarnings(logging.Filter):
    """Turns python-osc's warnings (logged on the root logger, quoting whole datagrams) into ``_Unreadable``
    on a thread that is parsing with :meth:`parse`; elsewhere they pass untouched."""

    def __init__(self) -> None:
        super().__init__()
        self._parsing = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(self._parsing, "active", False) and record.pathname.startswith(_PYTHONOSC_DIR):
            raise _Unreadable(str(record.msg)[:60])  # stops the parse: nothing of this datagram is used
        return True

    def parse(self, data: bytes) -> list[OscMessage]:
        """The messages of one datagram; ``ValueError`` saying why when it cannot be read in full."""
        self._parsing.active = True
        try:
            return [timed.message for timed in OscPacket(data).messages]
        except Exception as e:
            why = "".join(c if c.isprintable() else "?" for c in str(e)[:60])  # one line, whatever the datagram held
            raise ValueError(why or type(e).__name__) from None
        finally:
            self._parsing.active = False


_PARSER = _ParserWarnings()


class OscFrontend:
    """Serves ``core`` over OSC on UDP ``host:port``."""

    def __init__(self, core: Core, host: str = "127.0.0.1", port: int = 9000, reply_port: int = 0) -> None:
        self.core, self.host, self.port, self.reply_port = core, host, port, reply_port
        self.dropped = 0
        self._unnoted, self._noted_at = 0, -math.inf
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind the UDP port (``Unavailable`` if taken) and start serving."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError as e:
            sock.close()
            raise Unavailable(f"cannot listen for OSC on udp://{self.host}:{self.port}: {e.strerror or e}") from None
        sock.settimeout(0.25)
        self._sock = sock
        logging.getLogger().addFilter(_PARSER)  # python-osc warns on the root logger; added once
        self._thread = threading.Thread(target=self._serve, name="ddbridge-osc", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        if self._sock:
            self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self._sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            try:
                received = _PARSER.parse(data)
            except ValueError as e:
                self._drop(len(data), sender, str(e))  # not OSC: nothing to reply to
                continue
            for message in received:
                try:
                    self._message(message.address, list(message.params), sender)
                except Exception:
                    log.exception("OSC message handling failed")

    def _drop(self, size: int, sender: Address, why: str) -> None:
        """Count a dropped datagram; log one short line for it unless one was logged in the last second."""
        self.dropped += 1
        self._unnoted += 1
        now = time.monotonic()
        if now - self._noted_at < DROP_NOTE_INTERVAL_S:
            return
        more = f"; {self._unnoted - 1} more since the last note" if self._unnoted > 1 else ""
        log.warning("dropped a %d-byte datagram from %s:%d that is not OSC (%s)%s", size, *sender[:2], why, more)
        self._unnoted, self._noted_at = 0, now

    # -- requests -------------------------------------------------------------------------------

    def _message(self, address: str, args: list, sender: Address) -> None:
        dest = (sender[0], self.reply_port or sender[1])
        spec = OSC_REQUESTS.get(address)
        reply = functools.partial(self._reply, dest)
        notify = functools.partial(self._event, dest)
        if spec is None:
            rid = _osc_id(args[0]) if args else None
            reply(messages.error_reply(rid, BadRequest(f"unknown OSC address '{address[:80]}'")))
            return
        if spec.get("no_id_argument"):
            if len(args) != 1 or not isinstance(args[0], str):
                reply(messages.error_reply(None, BadRequest(f"{address} takes one string argument: a JSON request")))
                return
            self.core.handle(args[0], reply, notify)
            return
        try:
            request = _request(address, spec, args)
        except BadRequest as e:
            reply(messages.error_reply(_osc_id(args[0]) if args else None, e))
            return
        self.core.handle(request, reply, notify)

    # -- replies --------------------------------------------------------------------------------

    def _reply(self, dest: Address, reply: dict) -> None:
        rid = reply.get("id") or ""
        if reply.get("ok"):
            if reply.get("pong"):
                self._send(dest, "/ddbridge/pong", [("s", rid), ("s", str(reply.get("version", "")))])
            self._done(dest, rid, reply.get("files") or [])
        else:
            self._error(dest, rid, reply["error"])
        self._send(dest, "/ddbridge/reply", [("s", rid), ("s", json.dumps(reply, separators=(",", ":")))])

    def _event(self, dest: Address, event: dict) -> None:
        rid = event["id"]
        if event["event"] == "progress":
            self._send(dest, "/ddbridge/progress", [("s", rid), ("f", float(event["progress"]))])
        elif event["event"] == "done":
            self._done(dest, rid, event["files"])
        elif event["event"] == "error":
            self._error(dest, rid, event["error"])

    def _done(self, dest: Address, rid: str, files: list[dict]) -> None:
        for i, f in enumerate(files):
            args = [("s", rid), ("s", f["path"]), ("s", str(f["seed"])), ("i", i), ("i", len(files))]
            self._send(dest, "/ddbridge/done", args)

    def _error(self, dest: Address, rid: str, error: dict) -> None:
        self._send(dest, "/ddbridge/error", [("s", rid), ("s", error["code"]), ("s", error["message"])])

    def _send(self, dest: Address, address: str, args: list[tuple[str, object]]) -> None:
        builder = OscMessageBuilder(address)
        for kind, value in args:
            builder.add_arg(value, kind)
        try:
            self._sock.sendto(builder.build().dgram, dest)
        except OSError as e:
            log.warning("OSC reply to %s:%s failed: %s", dest[0], dest[1], e)


def _osc_id(value: object) -> str | None:
    """An OSC id argument as a protocol id: strings as they are, integers in decimal."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= 128:
        return value
    return None


def _request(address: str, spec: dict, args: list) -> dict:
    """The JSON request for positional OSC arguments; type checks are left to the protocol validator."""
    if not args:
        raise BadRequest(f"{address} needs a request id as its first argument")
    rid = _osc_id(args[0])
    if rid is None:
        raise BadRequest(f"{address}: the first argument must be a request id (a string or an int)")
    params = spec["args"]
    if len(args) - 1 > len(params):
        raise BadRequest(f"{address} takes at most {len(params)} arguments after the id, got {len(args) - 1}")
    missing = [p["name"] for p in params[len(args) - 1 :] if not p.get("optional")]
    if missing:
        raise BadRequest(f"{address} is missing: {', '.join(missing)}")
    request: dict = {"id": rid, "op": spec["op"], **spec.get("fields", {})}
    for param, value in zip(params, args[1:], strict=False):
        request[param["name"]] = _coerce(value, param["type"])
    for name in ("category", "genre", "note"):
        if request.get(name) == "":
            del request[name]  # an empty category asks for an unconditional sound, an empty genre for any, no note
    if "position" in request:
        request["positions"] = [request.pop("position")]
    return request


def _coerce(value: object, kind: str) -> object:
    """OSC senders often send floats for ints and ints for floats; convert only when it loses nothing. A float32
    is read as the shortest decimal that float32 holds: the 128.3 a sender typed, not 128.30000305."""
    if kind == "i" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "f" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "f" and isinstance(value, float):
        return _float32_decimal(value)
    return value


def _float32_decimal(value: float) -> float:
    """``value`` (a float32 widened to a float) as the shortest decimal that rounds to the same float32."""
    if not math.isfinite(value):
        return value
    try:
        single = struct.pack("<f", value)
    except OverflowError:  # not a float32 after all (a double from an OSC 'd' argument): keep it
        return value
    if struct.unpack("<f", single)[0] != value:
        return value
    for digits in range(1, 10):
        shortest = float(f"{value:.{digits}g}")
        if struct.pack("<f", shortest) == single:
            return shortest
    return value
