"""One module per CLI sub-command; each exposes ``register(subparsers)``.

Modules import torch and other heavy libraries inside their handlers only, so that light
commands (``request``, ``models``) start fast.
"""
