"""The page's HTTP API: each handler turns a request into a core request, a library look-up or a file.

Errors are the protocol's: ``{"ok": false, "error": {"code", "message"}}`` with a matching HTTP
status. Blocking work (the core, the disk) runs on the front end's thread pool, never on the loop.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from ddbridge import __version__
from ddbridge.protocol import messages
from ddbridge.protocol.errors import BadAudio, BadRequest, DDBridgeError
from ddbridge.web import analysis, forms
from ddbridge.web.library import Library, read_sidecar
from ddbridge.web.reveal import reveal

if TYPE_CHECKING:
    from ddbridge.daemon.config import Config
    from ddbridge.daemon.core import Core

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "web"
STATIC = {"app.js": "text/javascript", "style.css": "text/css", "icon.svg": "image/svg+xml"}
STATUS = {
    "bad_request": 400,
    "unknown_model": 400,
    "bad_audio": 404,
    "path_refused": 403,
    "cancelled": 409,
    "busy": 503,
    "unavailable": 503,
    "model_load_failed": 500,
    "internal": 500,
}
MAX_UPLOAD_BYTES = 64 << 20
AUDIO_SUFFIXES = (".wav", ".aif", ".aiff", ".flac", ".ogg", ".mp3")
REPLY_TIMEOUT_S = 60.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Routes:
    """The handlers; ``add(app)`` registers them."""

    def __init__(self, core: Core, config: Config, library: Library, uploads: Path, pool: ThreadPoolExecutor) -> None:
        self.core, self.config, self.library, self.uploads, self.pool = core, config, library, uploads, pool
        self.map = analysis.SimilarityMap()

    def add(self, app: web.Application) -> None:
        get, post = app.router.add_get, app.router.add_post
        get("/", self.index)
        get("/static/{name}", self.static)
        get("/api/state", self._api(self.state))
        get("/api/library", self._api(self.sounds))
        get("/api/file", self.file)
        get("/api/spectrogram", self._api(self.spectrogram))
        get("/api/map", self._api(self.similarity_map))
        post("/api/jobs", self._api(self.job))
        post("/api/jobs/{job}/cancel", self._api(self.cancel))
        post("/api/regenerate", self._api(self.regenerate))
        post("/api/more", self._api(self.more_like_this))
        post("/api/mark", self._api(self.mark))
        post("/api/reveal", self._api(self.reveal))
        post("/api/upload", self._api(self.upload))

    # -- plumbing ---------------------------------------------------------------------------------

    def _api(self, handler: Callable[[web.Request], Awaitable[dict]]) -> Handler:
        async def wrapped(request: web.Request) -> web.Response:
            try:
                body = await handler(request)
            except DDBridgeError as e:
                return error_response(e)
            status = 200 if body.get("ok", True) else STATUS.get(body["error"]["code"], 500)
            return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})

        return wrapped

    async def _blocking(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def _core(self, request: dict) -> dict:
        """The core's reply to ``request`` (a protocol message)."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future = loop.create_future()

        def reply(message: dict) -> None:
            loop.call_soon_threadsafe(lambda: answer.done() or answer.set_result(message))

        await self._blocking(self.core.handle, request, reply)
        return await asyncio.wait_for(answer, REPLY_TIMEOUT_S)

    async def _json(self, request: web.Request) -> dict:
        if request.content_type != "application/json":
            raise BadRequest("send the fields as JSON (Content-Type: application/json)")
        try:
            body = json.loads(await request.text())
        except ValueError as e:
            raise BadRequest(f"the request body is not valid JSON: {str(e)[:120]}") from None
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        return body

    async def _sound(self, value: object) -> tuple[Path, dict]:
        path = await self._blocking(self.library.sound, value)
        return path, read_sidecar(path) or {}

    # -- pages and files --------------------------------------------------------------------------

    async def index(self, _request: web.Request) -> web.Response:
        return web.FileResponse(ASSETS / "index.html", headers={"Content-Type": "text/html; charset=utf-8"})

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:  # only the page's own files: nothing else can be named, let alone climbed out of
            return error_response(BadAudio(f"no page asset named '{name[:80]}'"))
        return web.FileResponse(ASSETS / name, headers={"Content-Type": STATIC[name]})

    async def file(self, request: web.Request) -> web.StreamResponse:
        try:
            path = await self._blocking(self.library.sound, request.query.get("path"))
        except DDBridgeError as e:
            return error_response(e)
        disposition = f"inline; filename*=UTF-8''{_quote(path.name)}"
        return web.FileResponse(path, headers={"Content-Type": "audio/wav", "Content-Disposition": disposition})

    # -- reading ----------------------------------------------------------------------------------

    async def state(self, _request: web.Request) -> dict:
        models = await self._core({"id": messages.new_id(), "op": "models"})
        status = await self._core({"id": messages.new_id(), "op": "status"})
        return {
            "ok": True,
            "version": __version__,
            "models": models.get("models", []),
            "samplers": models.get("samplers", []),
            "device": status.get("device"),
            "default_project_dir": str(self.config.default_project_dir()),
            "allowed_roots": [str(r) for r in self.library.roots],
        }

    async def sounds(self, request: web.Request) -> dict:
        hidden = request.query.get("hidden") == "1"
        return {"ok": True, "sounds": await self._blocking(self.library.sounds, hidden)}

    async def spectrogram(self, request: web.Request) -> dict:
        path, _meta = await self._sound(request.query.get("path"))
        return {"ok": True, **await self._blocking(analysis.spectrogram, path)}

    async def similarity_map(self, _request: web.Request) -> dict:
        entries = await self._blocking(self.library.sounds, False)
        return {"ok": True, "points": await self._blocking(self.map.points, entries)}

    # -- jobs -------------------------------------------------------------------------------------

    async def job(self, request: web.Request) -> dict:
        form = await self._json(request)
        message = await self._blocking(forms.job_request, form, self.library.source)
        return await self._core(message)

    async def cancel(self, request: web.Request) -> dict:
        return await self._core({"id": messages.new_id(), "op": "cancel", "job": request.match_info["job"]})

    async def regenerate(self, request: web.Request) -> dict:
        path, meta = await self._sound((await self._json(request)).get("path"))
        return await self._core(forms.regenerate_request(path, meta))

    async def more_like_this(self, request: web.Request) -> dict:
        body = await self._json(request)
        path, meta = await self._sound(body.get("path"))
        return await self._core(forms.more_like_this_request(path, meta, body.get("strength"), body.get("count")))

    # -- marks, reveal, uploads -------------------------------------------------------------------

    async def mark(self, request: web.Request) -> dict:
        body = await self._json(request)
        path, _meta = await self._sound(body.get("path"))
        on = body.get("on")
        if not isinstance(on, bool):
            raise BadRequest("field 'on': must be true or false")
        await self._blocking(self.library.mark, path, body.get("mark"), on)
        return {"ok": True, "path": str(path), "mark": body.get("mark"), "on": on}

    async def reveal(self, request: web.Request) -> dict:
        path, _meta = await self._sound((await self._json(request)).get("path"))
        command = await self._blocking(reveal, path, self.config.web.reveal_command)
        return {"ok": True, "path": str(path), "command": command}

    async def upload(self, request: web.Request) -> dict:
        """A file dropped on the page, kept in the daemon's uploads folder as a job source."""
        name = Path(request.headers.get("X-Filename", "dropped.wav")).name
        suffix = Path(name).suffix.lower()
        if suffix not in AUDIO_SUFFIXES:
            raise BadAudio(f"'{name[:80]}' is not an audio file ddbridge reads ({', '.join(AUDIO_SUFFIXES)})")
        if request.content_length is None or request.content_length > MAX_UPLOAD_BYTES:
            raise BadRequest(f"a dropped file must give its size and be at most {MAX_UPLOAD_BYTES >> 20} MiB")
        data = await request.read()
        path = await self._blocking(self._keep_upload, data, suffix)
        return {"ok": True, "source": str(path), "name": name}

    def _keep_upload(self, data: bytes, suffix: str) -> Path:
        self.uploads.mkdir(parents=True, exist_ok=True)
        path = self.uploads / f"{uuid.uuid4().hex}{suffix}"
        path.write_bytes(data)
        try:
            analysis.read(path)
        except BadAudio:
            path.unlink(missing_ok=True)
            raise BadAudio("the dropped file is not audio that can be read") from None
        return path


def error_response(error: DDBridgeError) -> web.Response:
    """A protocol error reply with the HTTP status for its code."""
    body = messages.error_reply(None, error)
    return web.json_response(body, status=STATUS.get(error.code, 500), headers={"Cache-Control": "no-store"})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
