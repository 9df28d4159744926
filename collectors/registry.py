"""The registered sources, by name: built-ins listed explicitly, the way a plugin would register.

Classes are imported when first asked for, so a source whose client library is missing or slow to import
costs nothing to the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from collectors.base import Source

#: name -> "module:Class", in the order ``tasteradar collect`` runs them.
SOURCES: dict[str, str] = {
    "x": "collectors.x:XSource",
    "reddit": "collectors.reddit:RedditSource",
    "bluesky": "collectors.bluesky:BlueskySource",
    "mastodon": "collectors.mastodon:MastodonSource",
}


def source_class(name: str) -> type:
    """The class registered as ``name``; ``KeyError`` lists the known names."""
    try:
        target = SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(sorted(SOURCES)) or 'none'}") from None
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def build_source(name: str, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> Source:
    """Build the source ``name`` from settings and secrets (``NotConfigured`` when it can't run)."""
    return source_class(name)(settings=settings, secrets=secrets)
