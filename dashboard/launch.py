"""``python -m dashboard.launch run dashboard/app.py [--option value ...]``: Streamlit's own command line,
with the dashboard's heavy modules imported first.

Streamlit runs every session's script in the server process, so a module imported here is already loaded
when the first browser arrives: the first (cold) paint then skips pandas, Altair, NumPy and the query modules
(about a second on a 2-core machine) instead of paying them while the user waits.
"""

from __future__ import annotations

import sys


def preload() -> None:
    """Import what every page needs; imports only: no query runs and no database is opened."""
    import altair  # noqa: F401
    import pandas  # noqa: F401

    import dashboard.charts  # noqa: F401
    import dashboard.filters  # noqa: F401
    import dashboard.queries.market  # noqa: F401
    import dashboard.queries.people  # noqa: F401


def main() -> None:
    """Preload, then hand the arguments to Streamlit's command line."""
    preload()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
