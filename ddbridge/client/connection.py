"""Python client for the daemon: requests over ZeroMQ with lazy-pirate retries, and the event stream.

Used by the CLI and by REAPER's bridge. Importing it never imports torch. A ``Client`` is for
one thread at a time; open one per thread.

    with Client() as c:
        files = c.generate(category="kick", count=4, out_dir="/abs/project/Samples")["files"]

A daemon on another machine (``remote.toml``, or ``keys``) is reached with CURVE, and its job
replies carry the audio (``deliver: "reply"``): the client writes the files into the request's
``out_dir`` / ``project_dir`` on this machine, so callers see the same reply either way.
"""

from __future__ import annotations

import time

import zmq

from ddbridge.protocol import messages
from ddbridge.protocol.errors import BadRequest, Unavailable
from ddbridge.protocol.remote import ClientKeys, keys_for
from ddbridge.protocol.schema import JOB_OPS

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"
DEFAULT_EVENTS = "tcp://127.0.0.1:5556"


class Client:
    """Sends requests and waits for their replies, reconnecting and resending (same id) on a timeout.

    The daemon treats a resent request with the same id as the same request, so a retry never
    produces a second set of files. ``timeout`` bounds quick ops; ``job_timeout`` bounds a job
    that waits for its files. ``keys`` (else those ``remote.toml`` gives for ``endpoint``) turn CURVE
    on; ``deliver`` is ``"reply"`` (the default with keys: files are written here) or ``"files"``.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        timeout: float = 5.0,
        job_timeout: float = 600.0,
        retries: int = 3,
        context: zmq.Context | None = None,
        keys: ClientKeys | None = None,
        deliver: str | None = None,
    ) -> None:
        if retries < 1:
            raise ValueError("retries must be >= 1")
        self.keys = keys or keys_for(endpoint)
        self.deliver = deliver or ("reply" if self.keys else "files")
        if self.deliver not in ("files", "reply"):
            raise BadRequest(f"deliver must be 'files' or 'reply', got {self.deliver!r}")
        self.endpoint, self.timeout, self.job_timeout, self.retries = endpoint, timeout, job_timeout, retries
        self._context = context or zmq.Context.instance()
        self._socket: zmq.Socket | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None

    def call(self, request: dict, timeout: float | None = None) -> dict:
        """Send ``request`` (``v`` and ``id`` added when missing) and return the reply as it came, error or not.

        Raises ``Unavailable`` when no reply arrives after ``retries`` tries. With ``deliver`` ``"reply"``
        a job's ``out_dir`` / ``project_dir`` name folders here: checked first, filled from the reply.
        """
        request = {"v": messages.PROTOCOL_VERSION, "id": messages.new_id(), **request}
        if self.deliver == "reply" and request.get("op") in JOB_OPS and "deliver" not in request:
            from ddbridge.client.delivery import LocalTarget, write_files

            target = LocalTarget.from_request(request.pop("out_dir", None), request.pop("project_dir", None))
            reply = self.call({**request, "deliver": "reply", "wait": True}, timeout)
            return write_files(reply, target) if reply.get("ok") else reply
        if timeout is None:
            waits = request.get("op") in JOB_OPS and request.get("wait", True)
            timeout = self.job_timeout if waits else self.timeout
        data = messages.encode(request)
        for _ in range(self.retries):
            sock = self._connected()
            sock.send_multipart([b"", data])
            reply = self._await(sock, request["id"], timeout)
            if reply is not None:
                return reply
            self.close()  # lazy pirate: a fresh socket drops whatever the old one had queued
        raise Unavailable(
            f"no reply from the daemon at {self.endpoint} after {self.retries} tries of {timeout:g} s; "
            "is `ddbridge serve` running?"
        )

    def request(self, op: str, **fields) -> dict:
        """Send one ``op`` request; return the success reply or raise the daemon's error as a ``DDBridgeError``."""
        reply = self.call({"op": op, **{k: v for k, v in fields.items() if v is not None}})
        if not reply.get("ok"):
            raise messages.error_from_body(reply.get("error"))
        return reply

    def ping(self) -> dict:
        return self.request("ping")

    def status(self) -> dict:
        return self.request("status")

    def models(self) -> dict:
        return self.request("models")

    def cancel(self, job: str) -> dict:
        return self.request("cancel", job=job)

    def pool(self, size: int | None = None) -> dict:
        return self.request("pool", size=size)

    def generate(self, **fields) -> dict:
        return self.request("generate", **fields)

    def variate(self, source: str, **fields) -> dict:
        return self.request("variate", source=source, **fields)

    def interpolate(self, source_a: str, source_b: str, **fields) -> dict:
        return self.request("interpolate", source_a=source_a, source_b=source_b, **fields)

    def extend(self, source: str, seconds: float, **fields) -> dict:
        return self.request("extend", source=source, seconds=seconds, **fields)

    def _connected(self) -> zmq.Socket:
        if self._socket is None:
            sock = self._context.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 0)
            if self.keys is not None:
                self.keys.apply(sock)
            sock.connect(self.endpoint)
            self._socket = sock
        return self._socket

    @staticmethod
    def _await(sock: zmq.Socket, rid: str, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not sock.poll(max(1, int(left * 1000)), zmq.POLLIN):
                return None
            frames = sock.recv_multipart()
            try:
                reply = read_reply(frames)
            except Exception:
                continue
            # A reply to an earlier, abandoned request carries another id: skip it.
            if isinstance(reply, dict) and reply.get("id") in (rid, None):
                return reply
        return None


def read_reply(frames: list[bytes]) -> object:
    """The reply in a DEALER's frames: the JSON after the empty delimiter, any audio frames put back in."""
    at = 1 if len(frames) > 1 and frames[0] == b"" else 0
    reply = messages.parse(frames[at])
    if isinstance(reply, dict) and len(frames) > at + 1:
        messages.attach_frames(reply, frames[at + 1 :])
    return reply


class Events:
    """Job events (progress, done, error) published by the daemon."""

    def __init__(
        self,
        endpoint: str = DEFAULT_EVENTS,
        topics: tuple[str, ...] = ("progress", "done", "error"),
        context: zmq.Context | None = None,
        keys: ClientKeys | None = None,
    ) -> None:
        self._socket = (context or zmq.Context.instance()).socket(zmq.SUB)
        self._socket.setsockopt(zmq.LINGER, 0)
        if keys is not None:
            keys.apply(self._socket)
        for topic in topics:
            self._socket.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self._socket.connect(endpoint)

    def __enter__(self) -> Events:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def recv(self, timeout: float) -> dict | None:
        """The next event, or None after ``timeout`` seconds."""
        if not self._socket.poll(max(0, int(timeout * 1000)), zmq.POLLIN):
            return None
        return messages.parse(self._socket.recv_multipart()[-1])

    def close(self) -> None:
        self._socket.close(linger=0)
