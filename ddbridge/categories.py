"""The sound categories: the names ddbridge knows, the other names clients use for them, and those that ask
for a loop.

One module every part shares, below all of them: the procedural drums (``dataset.synth``) render these
categories, the real data sets (``dataset``) label hits with them, a model (``model.bundle``) resolves
a requested name through the aliases, and the protocol checks a request's ``category`` against
``NAME_PATTERN``. Pure Python.
"""

from __future__ import annotations

CATEGORIES = ("kick", "snare", "hat_closed", "hat_open", "clap", "tom", "perc", "bass", "pluck", "808")
# Categories no permissive recording supplies: only the procedural voices (``dataset.synth``) teach them.
SYNTH_ONLY = ("808",)
LOOP_NAMES = ("loop", "loops")
# What a request may name: a category, an alias of one, or a loop name, in any case, with - or _.
NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


def _aliases(*groups: tuple[tuple[str, ...], tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {name: targets for names, targets in groups for name in names}


# A requested name -> the model categories that may serve it, best first (a model's own category
# of that exact name always wins). Client menus say "hat", the drum model says "hat_closed", and so on.
CATEGORY_ALIASES: dict[str, tuple[str, ...]] = _aliases(
    (("kick", "kicks", "bd", "bass_drum", "kick_drum"), ("kick", "kicks")),
    (("snare", "snares", "sd", "snare_drum"), ("snare", "snares")),
    (("hat", "hats", "hihat", "hihats", "hi_hat", "hh"), ("hat", "hat_closed", "hihat", "hat_open")),
    (("hat_closed", "closed_hat", "closed_hihat", "chh"), ("hat_closed", "closed_hat", "hat", "hihat")),
    (("hat_open", "open_hat", "open_hihat", "ohh"), ("hat_open", "open_hat", "hat", "hihat")),
    (("clap", "claps", "handclap"), ("clap", "claps")),
    (("tom", "toms"), ("tom", "toms")),
    (("perc", "percussion", "rim", "rimshot", "shaker"), ("perc", "percussion")),
    (("bass", "basses"), ("bass", "808")),
    (("808", "808s", "sub", "sub_bass"), ("808", "bass")),
    (("pluck", "plucks"), ("pluck", "plucks")),
)
