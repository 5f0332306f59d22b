"""ZeroMQ front end: a ROUTER for requests (REQ or DEALER clients) and a PUB for job events.

One JSON frame per request, after an optional REQ-style envelope (frames up to an empty one).
Replies go back with the same envelope. Events are published as two frames: the event name
(``progress``, ``done``, ``error``) as the topic, then the JSON event. A thin adapter over
``Core``: replies and events from other threads reach the socket thread through an outbox.

With ``curve`` (a ``remote.CurveServer``) both sockets speak CURVE and only allowed client keys
get through the handshake; a peer without one is never read. A reply that delivers audio
(``deliver: "reply"``) is the JSON frame followed by one WAV frame per file.

Frames are taken from ZeroMQ without copying, and copied only when within
``messages.MAX_MESSAGE_BYTES``: a larger message is answered ``bad_request`` by its length alone.
ZeroMQ closes the connection of a peer that sends a frame over ``MAX_FRAME_BYTES`` before reading
it, so no frame ever takes more memory than that.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from typing import TYPE_CHECKING

import zmq

from ddbridge.protocol import messages
from ddbridge.protocol.errors import BadRequest, Unavailable

if TYPE_CHECKING:
    from ddbridge.daemon.core import Core
    from ddbridge.protocol.remote import CurveServer

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16 << 20  # ZeroMQ's own limit: a bigger frame closes its connection unread
DRAIN = 256


class ZmqFrontend:
    """Serves ``core`` on ``tcp://host:port`` (ROUTER) and publishes its events on ``tcp://host:pub_port``."""

    def __init__(
        self,
        core: Core,
        host: str = "127.0.0.1",
        port: int = 5555,
        pub_port: int = 5556,
        curve: CurveServer | None = None,
    ) -> None:
        self.core, self.curve = core, curve
        self.endpoint, self.pub_endpoint = f"tcp://{host}:{port}", f"tcp://{host}:{pub_port}"
        self._context = zmq.Context()
        # (is_event, envelope or [topic], the JSON and any audio frames)
        self._outbox: queue.SimpleQueue[tuple[bool, list[bytes], list[bytes]]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe = None

    def start(self) -> None:
        """Bind both sockets (``Unavailable`` if a port is taken) and start serving."""
        if self.curve is not None:
            self.curve.start(self._context)
        router = self._context.socket(zmq.ROUTER)
        pub = self._context.socket(zmq.PUB)
        for sock in (router, pub):
            sock.setsockopt(zmq.LINGER, 0)
            if self.curve is not None:
                self.curve.apply(sock)
        router.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME_BYTES)
        for sock, endpoint in ((router, self.endpoint), (pub, self.pub_endpoint)):
            try:
                sock.bind(endpoint)
            except zmq.ZMQError as e:
                router.close()
                pub.close()
                if self.curve is not None:
                    self.curve.stop()
                raise Unavailable(f"cannot listen on {endpoint}: {e}; is another ddbridge running?") from None
        self._unsubscribe = self.core.subscribe(self._publish)
        self._thread = threading.Thread(target=self._serve, args=(router, pub), name="ddbridge-zmq", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving after flushing pending replies; closes the sockets."""
        if self._unsubscribe:
            self._unsubscribe()
        self._stop.set()
        self._wake()
        if self._thread:
            self._thread.join(5)
        if self.curve is not None:
            self.curve.stop()
        self._context.term()
        self._wake_r.close()
        self._wake_w.close()

    # -- the socket thread ----------------------------------------------------------------------

    def _serve(self, router: zmq.Socket, pub: zmq.Socket) -> None:
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        try:
            while not self._stop.is_set():
                ready = dict(poller.poll(500))
                if router in ready:
                    self._receive(router, pub)
                if self._wake_r.fileno() in ready:
                    self._drain_wake()
                self._flush(router, pub)
            self._flush(router, pub)
        finally:
            router.close()
            pub.close()

    def _receive(self, router: zmq.Socket, pub: zmq.Socket) -> None:
        for _ in range(DRAIN):
            try:
                frames = router.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            self._request(frames)
            self._flush(router, pub)

    def _request(self, frames: list[zmq.Frame]) -> None:
        identity, rest = frames[0].bytes, frames[1:]
        cut = next((i + 1 for i, frame in enumerate(rest) if len(frame) == 0), 0)
        head, body = rest[:cut], rest[cut:]
        largest = max((len(frame) for frame in rest), default=0)
        # Only frames within the limit are copied out of ZeroMQ: an envelope that is not goes unechoed.
        small = all(len(frame) <= messages.MAX_MESSAGE_BYTES for frame in head)
        envelope = [identity, *(frame.bytes for frame in head)] if small else [identity]

        def reply(message: dict) -> None:
            self._outbox.put((False, envelope, messages.encode_frames(message)))
            self._wake()

        try:
            messages.check_size(largest)
            if len(body) != 1:
                raise BadRequest(f"expected one JSON frame after the envelope, got {len(body)}")
        except BadRequest as problem:
            reply(messages.error_reply(None, problem))
            return
        self.core.handle(body[0].bytes, reply, binary=True)

    def _publish(self, event: dict) -> None:
        self._outbox.put((True, [event["event"].encode()], [messages.encode(event)]))
        self._wake()

    def _flush(self, router: zmq.Socket, pub: zmq.Socket) -> None:
        while True:
            try:
                is_event, head, frames = self._outbox.get_nowait()
            except queue.Empty:
                return
            try:
                (pub if is_event else router).send_multipart([*head, *frames], zmq.NOBLOCK, copy=False)
            except zmq.Again:
                log.warning("dropped a message for a client that is not reading")
            except zmq.ZMQError as e:
                log.warning("could not send: %s", e)

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # a wake-up is already pending, or we are shutting down

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
