"""The torch device the rendering commands and training load a model onto (the daemon's engine picks its own,
Apple MPS included)."""

from __future__ import annotations

from ddbridge.protocol.errors import BadRequest, Unavailable


def pick_device(name: str) -> str:
    """``auto`` means the first CUDA GPU when there is one, else the CPU; a named device must exist."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise BadRequest(f"unknown device '{name}'; use cpu, cuda, cuda:N or auto") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise Unavailable(f"device '{name}' asked for, but no CUDA GPU is available")
    return name
