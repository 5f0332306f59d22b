"""ddbridge: a warm Dance Diffusion server for music software."""

__version__ = "0.1.0"
