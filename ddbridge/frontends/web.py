"""The web page's front end: aiohttp on ``http://host:web_port/``, a thin adapter over ``Core`` like ZeroMQ and OSC.

It runs its own asyncio loop on one thread. The page's API is in ``ddbridge.web.routes``; who may
call it is decided by ``ddbridge.web.guard``. A WebSocket (``/api/events``) carries every job's
events, and after each ``done`` the new sounds' library entries, so the page shows sounds that any
front end (a DAW, the page, a script) made as soon as they are written.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from ddbridge.protocol.errors import Unavailable
from ddbridge.web.guard import HEADERS, Guard
from ddbridge.web.library import Library
from ddbridge.web.routes import MAX_UPLOAD_BYTES, Routes

if TYPE_CHECKING:
    from ddbridge.daemon.config import Config
    from ddbridge.daemon.core import Core
    from ddbridge.daemon.outputs import Outputs

log = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0
WS_CLOSE_TIMEOUT_S = 2.0  # a page that does not answer the closing handshake must not hold up shutdown
BLOCKING_THREADS = 4
UPLOADS = "uploads"
UPLOAD_DAYS = 30  # files dropped on the page (the daemon's own copies) are kept this long as job sources
MARKS = "web_marks.json"


class WebFrontend:
    """Serves the page for ``core`` on ``http://host:port/``."""

    def __init__(self, core: Core, config: Config, outputs: Outputs, host: str = "127.0.0.1", port: int = 5557):
        self.core, self.config, self.host, self.port = core, config, host, port
        name = "127.0.0.1" if host in ("", "0.0.0.0", "*", "::") else host
        self.url = f"http://{f'[{name}]' if ':' in name else name}:{port}/"
        state = config.state_path()
        self.library = Library(outputs.allowed_roots, self._library_folders(outputs), state / MARKS, state / UPLOADS)
        self.guard = Guard(host, port, config.web.allowed_hosts)
        self._pool = ThreadPoolExecutor(BLOCKING_THREADS, thread_name_prefix="ddbridge-web")
        self.uploads = state / UPLOADS
        self.routes = Routes(core, config, self.library, self.uploads, self._pool)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._queue: asyncio.Queue | None = None
        self._unsubscribe = None
        self.refused = 0

    def _library_folders(self, outputs: Outputs):
        extra = [Path(d) for d in self.config.web.library_dirs]
        project = self.config.default_project_dir()

        def folders() -> list[Path]:
            try:
                recorded = [Path(line) for line in outputs.record_path.read_text(encoding="utf-8").splitlines() if line]
            except OSError:
                recorded = []
            return [*recorded, project, *extra]

        return folders

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Listen (``Unavailable`` if the port is taken) and start serving on a thread of its own."""
        _prune(self.uploads, UPLOAD_DAYS)
        started: Future = Future()
        self._thread = threading.Thread(target=self._run, args=(started,), name="ddbridge-web", daemon=True)
        self._thread.start()
        try:
            started.result(START_TIMEOUT_S)
        except OSError as e:
            self._thread.join(5)
            raise Unavailable(
                f"cannot serve the page on {self.url}: {e.strerror or e}; is another ddbridge running?"
            ) from None
        self._unsubscribe = self.core.subscribe(self._on_event)

    def stop(self) -> None:
        """Close every WebSocket and the listener, then end the loop's thread."""
        if self._unsubscribe:
            self._unsubscribe()
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, started: Future) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, self.host or None, self.port, reuse_address=True).start())
        except OSError as e:
            loop.run_until_complete(runner.cleanup())
            loop.close()
            started.set_exception(e)
            return
        self._queue = asyncio.Queue()
        pump = loop.create_task(self._pump(self._queue))
        started.set_result(None)
        try:
            loop.run_forever()
        finally:
            pump.cancel()
            for ws in list(self._sockets):
                loop.run_until_complete(ws.close())
            loop.run_until_complete(runner.cleanup())
            loop.close()

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES, middlewares=[self._guarded])
        self.routes.add(app)
        app.router.add_get("/api/events", self._events)
        return app

    @web.middleware
    async def _guarded(self, request: web.Request, handler):
        reason = self.guard.refusal(request.method, request.path, request.headers)
        if reason is not None:
            self.refused += 1
            log.warning("page: refused %s %s: %s", request.method, request.path[:80], reason)
            response = web.Response(status=403, text=f"ddbridge: refused: {reason}\n")
        else:
            try:
                response = await handler(request)
            except web.HTTPException as e:
                response = web.Response(status=e.status, text=f"ddbridge: {e.reason}\n")
        if not response.prepared:
            response.headers.update(HEADERS)
        return response

    # -- events -----------------------------------------------------------------------------------

    async def _events(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20, timeout=WS_CLOSE_TIMEOUT_S)
        ws.headers.update(HEADERS)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await ws.send_json({"type": "hello"})
            async for message in ws:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            self._sockets.discard(ws)
        return ws

    def _on_event(self, event: dict) -> None:
        """A core event (any thread): queued for the loop, which sends the events in order."""
        loop, queue = self._loop, self._queue
        if loop is None or queue is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(queue.put_nowait, event)
        except RuntimeError:
            pass  # the loop closed meanwhile: nothing to deliver to

    async def _pump(self, queue: asyncio.Queue) -> None:
        """Send each event to every page, then after ``done`` the new sounds' library entries."""
        while True:
            event = await queue.get()
            await self._broadcast({"type": "job", **event})
            if event["event"] == "done" and event.get("files"):
                paths = [Path(f["path"]) for f in event["files"]]
                entries = await asyncio.get_running_loop().run_in_executor(
                    self._pool, lambda paths=paths: [e for e in map(self.library.entry, paths) if e is not None]
                )
                await self._broadcast({"type": "sounds", "job": event["job"], "sounds": entries})

    async def _broadcast(self, message: dict) -> None:
        for ws in list(self._sockets):
            try:
                await ws.send_json(message)
            except (ConnectionError, RuntimeError):
                self._sockets.discard(ws)


def _prune(folder: Path, days: float) -> None:
    """Remove the daemon's copies of dropped files older than ``days``."""
    cutoff = time.time() - days * 86400
    try:
        old = [p for p in folder.iterdir() if p.is_file() and p.stat().st_mtime < cutoff]
    except OSError:
        return
    for path in old:
        path.unlink(missing_ok=True)
