"""Real drum one-shots from freely licensed Debian packages, as a labelled training (or held-out) set.

``ddbridge data build`` renders SoundFont drum kits and instruments note by note, gathers one-shot
files, trims and normalises every hit, drops silent and near-identical ones and writes one folder
per category with a manifest and a NOTICE crediting the sources.
"""
