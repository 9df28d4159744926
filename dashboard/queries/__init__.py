"""Every query the dashboard runs, cached; pages call these and never touch SQL.

``core`` holds the read-only connection and the headline queries; ``market`` the brand, topic, need and
competitor queries; ``people`` the customer, segment, search and review queries.
"""

from dashboard.queries.core import (
    TTL_SECONDS,
    connection,
    daily_volume,
    database_path,
    recent_runs,
    source_freshness,
    totals,
)

__all__ = [
    "TTL_SECONDS",
    "connection",
    "daily_volume",
    "database_path",
    "recent_runs",
    "source_freshness",
    "totals",
]
