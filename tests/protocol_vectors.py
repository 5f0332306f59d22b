"""Python runner for ``plugin_protocol/test_vectors.json`` (the rules are in plugin_protocol/spec.md)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

VECTORS = Path(__file__).resolve().parent.parent / "plugin_protocol" / "test_vectors.json"
_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer(),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def load() -> dict:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def substitute(value, variables: dict):
    """Replace ``${NAME}``: a string that is exactly one reference takes the variable's value and type."""
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole:
            return variables[whole.group(1)]
        return _VAR.sub(lambda m: str(variables[m.group(1)]), value)
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def lookup(value, dotted: str):
    """Follow a dotted path (object keys, array indexes) into a reply."""
    for part in dotted.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    return a == b


def match(pattern, actual, where: str = "$") -> list[str]:
    """Every way ``actual`` fails ``pattern`` (empty when it matches)."""
    if isinstance(pattern, dict) and any(k.startswith("$") for k in pattern):
        return _operators(pattern, actual, where)
    if isinstance(pattern, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {json.dumps(actual)[:80]}"]
        problems = []
        for key, sub in pattern.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += match(sub, actual[key], f"{where}.{key}")
        return problems
    if isinstance(pattern, list):
        if not isinstance(actual, list) or len(actual) != len(pattern):
            return [f"{where}: expected an array of {len(pattern)}, got {json.dumps(actual)[:80]}"]
        return [
            p
            for i, (sub, item) in enumerate(zip(pattern, actual, strict=True))
            for p in match(sub, item, f"{where}[{i}]")
        ]
    return (
        [] if _equal(pattern, actual) else [f"{where}: expected {json.dumps(pattern)}, got {json.dumps(actual)[:80]}"]
    )


def _operators(pattern: dict, actual, where: str) -> list[str]:
    problems = []
    for op, arg in pattern.items():
        if op == "$type" and not _TYPES[arg](actual):
            problems.append(f"{where}: expected {arg}, got {json.dumps(actual)[:80]}")
        elif op == "$in" and not any(not match(option, actual, where) for option in arg):
            problems.append(f"{where}: {json.dumps(actual)[:80]} matches none of {json.dumps(arg)}")
        elif op in ("$prefix", "$suffix"):
            ok = isinstance(actual, str) and (actual.startswith(arg) if op == "$prefix" else actual.endswith(arg))
            if not ok:
                problems.append(f"{where}: {json.dumps(actual)[:120]} lacks {op[1:]} {arg!r}")
        elif op in ("$gte", "$lte"):
            ok = _TYPES["number"](actual) and (actual >= arg if op == "$gte" else actual <= arg)
            if not ok:
                problems.append(f"{where}: {actual!r} is not {op[1:]} {arg}")
        elif op in ("$len", "$min_len"):
            n = len(actual) if isinstance(actual, list) else None
            if n is None or (n != arg if op == "$len" else n < arg):
                problems.append(f"{where}: expected an array with {op[1:]} {arg}, got {json.dumps(actual)[:80]}")
        elif op == "$items":
            if not isinstance(actual, list):
                problems.append(f"{where}: expected an array")
            else:
                for i, item in enumerate(actual):
                    problems += match(arg, item, f"{where}[{i}]")
        elif op not in _OPERATORS:
            problems.append(f"{where}: unknown operator {op}")
    return problems


_OPERATORS = {"$type", "$in", "$prefix", "$suffix", "$gte", "$lte", "$len", "$min_len", "$items"}


def run(send: Callable[[str], dict], variables: dict, check: Callable[[dict, dict | None], None] | None = None):
    """Run every vector in order; ``send(text) -> reply``. Returns ``(names run, failures)``.

    ``check(reply, request_or_None)`` may add transport-specific assertions.
    """
    variables = dict(variables)
    names, failures = [], []
    for vector in load()["vectors"]:
        if "send_raw" in vector:
            text, request = substitute(vector["send_raw"], variables), None
        else:
            request = substitute(vector["send"], variables)
            text = json.dumps(request)
        reply = send(text)
        names.append(vector["name"])
        problems = match(substitute(vector["expect"], variables), reply)
        if problems:
            failures.append(f"{vector['name']}: " + "; ".join(problems))
            continue
        if check:
            check(reply, request)
        for name, dotted in vector.get("save", {}).items():
            variables[name] = lookup(reply, dotted)
    return names, failures
