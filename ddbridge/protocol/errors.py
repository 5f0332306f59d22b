"""The one table of error codes shared by the CLI, the daemon and every client."""

from __future__ import annotations


class DDBridgeError(Exception):
    """An error a user can act on; ``code`` is its stable protocol code."""

    code = "internal"


class BadRequest(DDBridgeError):
    code = "bad_request"


class UnknownModel(DDBridgeError):
    code = "unknown_model"


class ModelLoadError(DDBridgeError):
    code = "model_load_failed"


class BadAudio(DDBridgeError):
    code = "bad_audio"


class PathRefused(DDBridgeError):
    code = "path_refused"


class Busy(DDBridgeError):
    code = "busy"


class Cancelled(DDBridgeError):
    code = "cancelled"


class Unavailable(DDBridgeError):
    code = "unavailable"
