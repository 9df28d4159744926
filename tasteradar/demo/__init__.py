"""The offline demo world: a seeded telco market with planted micro-segments, needs, churn, a trend and a
price change, written as raw X and Reddit payloads mapped through the real collectors' ``to_post``.

``build_demo`` writes it to disk (database, ``tasteradar.toml``, ``crm.csv``, ``handles.csv`` and
``truth.json``); ``generate_world`` builds it in memory; ``demo_is_current`` tells whether a rebuild can be
skipped.
"""

from tasteradar.demo.build import DemoSummary, build_demo, demo_files, demo_is_current
from tasteradar.demo.generate import World, generate_world
from tasteradar.demo.world import GENERATOR_VERSION

__all__ = [
    "GENERATOR_VERSION",
    "DemoSummary",
    "World",
    "build_demo",
    "demo_files",
    "demo_is_current",
    "generate_world",
]
