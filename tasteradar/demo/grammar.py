"""A tiny template grammar that makes the phrase banks combinatorial.

A template is literal text with three constructs, nestable:

- ``{slot}``: replaced by a filler for ``slot``; a filler is itself a template (or a callable returning text);
- ``(a|b|c)``: one of the alternatives, chosen at random;
- ``[text]``: the text, included half of the time.

``\\(`` escapes a literal bracket. Templates are parsed once and cached.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

Node = str | tuple
Filler = Sequence[str] | Callable[[random.Random], str] | str

_SPECIAL = "{}()[]|"
_cache: dict[str, list[Node]] = {}


def parse(template: str) -> list[Node]:
    """Parse ``template`` into nodes: strings, ``("slot", name)``, ``("alt", [seq...])``, ``("opt", seq)``."""
    cached = _cache.get(template)
    if cached is None:
        cached, end = _parse_seq(template, 0, "")
        if end != len(template):
            raise ValueError(f"unbalanced template at {end}: {template!r}")
        _cache[template] = cached
    return cached


def _parse_seq(text: str, i: int, stops: str) -> tuple[list[Node], int]:
    nodes: list[Node] = []
    buf: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(text[i + 1])
            i += 2
            continue
        if ch in stops:
            break
        if ch in _SPECIAL and buf:
            nodes.append("".join(buf))
            buf = []
        if ch == "{":
            end = text.index("}", i)
            nodes.append(("slot", text[i + 1 : end]))
            i = end + 1
        elif ch == "(":
            alts: list[list[Node]] = []
            i += 1
            while True:
                seq, i = _parse_seq(text, i, "|)")
                alts.append(seq)
                if i >= len(text):
                    raise ValueError(f"unclosed '(' in template: {text!r}")
                i += 1
                if text[i - 1] == ")":
                    break
            nodes.append(("alt", alts))
        elif ch == "[":
            seq, i = _parse_seq(text, i + 1, "]")
            if i >= len(text):
                raise ValueError(f"unclosed '[' in template: {text!r}")
            nodes.append(("opt", seq))
            i += 1
        elif ch in "})]|":
            raise ValueError(f"unexpected {ch!r} at {i} in template: {text!r}")
        else:
            buf.append(ch)
            i += 1
    if buf:
        nodes.append("".join(buf))
    return nodes, i


def expand(template: str, rng: random.Random, slots: Mapping[str, Filler], *, depth: int = 0) -> str:
    """Expand ``template`` with fillers from ``slots`` (unknown slots raise ``KeyError``)."""
    out: list[str] = []
    _expand_nodes(parse(template), rng, slots, out, depth)
    return "".join(out)


def _expand_nodes(
    nodes: list[Node], rng: random.Random, slots: Mapping[str, Filler], out: list[str], depth: int
):
    if depth > 12:
        raise ValueError("template recursion too deep")
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif node[0] == "slot":
            out.append(fill(node[1], rng, slots, depth))
        elif node[0] == "alt":
            _expand_nodes(rng.choice(node[1]), rng, slots, out, depth)
        elif rng.random() < 0.5:
            _expand_nodes(node[1], rng, slots, out, depth)


def fill(name: str, rng: random.Random, slots: Mapping[str, Filler], depth: int = 0) -> str:
    """One filler for slot ``name``: a callable is called, a string or a list entry is expanded."""
    filler = slots[name]
    if callable(filler):
        return filler(rng)
    choice = filler if isinstance(filler, str) else rng.choice(filler)
    return expand(choice, rng, slots, depth=depth + 1)
