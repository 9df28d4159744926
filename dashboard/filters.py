"""The global filters in the sidebar (date range, platforms, brands), kept in the URL so a view can be shared.

``app.py`` calls :func:`sidebar_filters` inside ``with st.sidebar:`` on every run, before the page runs;
pages call :func:`current`. The filters live in ``st.session_state`` (the widgets' state) and in
``st.query_params``: ``?from=2026-07-01&to=2026-10-31&platform=x&platform=reddit&brand=Volt+Mobile``. A
parameter is left out of the URL while it has its default (the whole data range, every platform, every
brand), and the URL is rewritten on every run, so it survives a page switch. A new session (a shared link)
starts from the URL; values the data does not know (a platform never collected, a date outside the data)
are dropped or clamped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from dashboard.queries import market

__all__ = ["PARAMS", "Filters", "current", "sidebar_filters"]

#: URL parameter -> session state key of its widget.
PARAMS = {"from": "filter_from", "to": "filter_to", "platform": "filter_platform", "brand": "filter_brand"}
STATE_KEY = "filters"


@dataclass(frozen=True)
class Filters:
    """One view of the data: UTC days ``since`` to ``until`` (both inclusive; None: unbounded), platforms and
    brands (empty: all). Frozen and hashable, so cached queries take it as an argument."""

    since: date | None = None
    until: date | None = None
    platforms: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()

    def day_bounds(self) -> tuple[str, str]:
        """``(first, last)`` ISO days, inclusive, for rollup tables keyed by ``day``."""
        first = self.since.isoformat() if self.since else "0000-01-01"
        last = self.until.isoformat() if self.until else "9999-12-31"
        return first, last

    def time_bounds(self) -> tuple[str, str]:
        """``(since, until)`` for ``posts.created_at``: ``since`` inclusive, ``until`` exclusive."""
        first, _ = self.day_bounds()
        after = (self.until + timedelta(days=1)).isoformat() if self.until else "9999-12-31"
        return first, after

    @property
    def days(self) -> int | None:
        """Days in the range (None when a bound is open)."""
        if self.since is None or self.until is None:
            return None
        return (self.until - self.since).days + 1


def current() -> Filters:
    """The filters of this session (set by :func:`sidebar_filters`), else the defaults: all data."""
    found = st.session_state.get(STATE_KEY)
    if isinstance(found, Filters):
        return found
    span = market.data_days()
    return Filters(*span) if span else Filters()


def sidebar_filters() -> Filters:
    """Render the global filters (call inside ``with st.sidebar:``), store them and write them to the URL."""
    span = market.data_days()
    if span is None:
        st.caption("Filters appear once there are posts.")
        filters = Filters()
    else:
        platforms, brands = market.platform_options(), market.brand_options()
        _seed(span, platforms, brands)
        filters = _widgets(span, platforms, brands)
        _write_url(filters, span)
    st.session_state[STATE_KEY] = filters
    return filters


def _seed(span: tuple[date, date], platforms: list[str], brands: list[str]) -> None:
    """Give each widget its value before it renders: from the URL the first time, else kept and made valid."""
    state, params = st.session_state, st.query_params
    if PARAMS["from"] not in state:
        state[PARAMS["from"]] = _parse_day(params.get("from")) or span[0]
    if PARAMS["to"] not in state:
        state[PARAMS["to"]] = _parse_day(params.get("to")) or span[1]
    for name, options in (("platform", platforms), ("brand", brands)):
        if PARAMS[name] not in state:
            state[PARAMS[name]] = params.get_all(name)
        known = [value for value in state[PARAMS[name]] if value in options]
        if known != state[PARAMS[name]]:
            state[PARAMS[name]] = known
    for name in ("from", "to"):
        day = min(max(state[PARAMS[name]], span[0]), span[1])
        if day != state[PARAMS[name]]:  # set only on change: a set value is sent to the browser again
            state[PARAMS[name]] = day


def _parse_day(text: str | None) -> date | None:
    """An ISO day from the URL, or None when absent or not a date."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _reset() -> None:
    """Back to the defaults, in the widgets and in the URL (a button callback, so it may set widget state)."""
    for name, key in PARAMS.items():
        st.session_state.pop(key, None)
        if name in st.query_params:
            del st.query_params[name]


def _widgets(span: tuple[date, date], platforms: list[str], brands: list[str]) -> Filters:
    """The filter widgets; returns the filters they show (a reversed range is put in order)."""
    st.subheader("Filters")
    since = st.date_input(
        "From", min_value=span[0], max_value=span[1], key=PARAMS["from"], format="YYYY-MM-DD"
    )
    until = st.date_input("To", min_value=span[0], max_value=span[1], key=PARAMS["to"], format="YYYY-MM-DD")
    chosen_platforms = st.multiselect("Platforms", platforms, key=PARAMS["platform"], placeholder="All")
    chosen_brands = st.multiselect("Brands", brands, key=PARAMS["brand"], placeholder="All")
    st.button("Reset filters", on_click=_reset, width="stretch")
    if since > until:
        st.caption("From is after To: showing the range between them.")
        since, until = until, since
    return Filters(since, until, tuple(sorted(chosen_platforms)), tuple(chosen_brands))


def _write_url(filters: Filters, span: tuple[date, date]) -> None:
    """Write the filters that differ from the defaults to the URL, and drop the others from it."""
    wanted: dict[str, list[str]] = {
        "from": [filters.since.isoformat()] if filters.since and filters.since != span[0] else [],
        "to": [filters.until.isoformat()] if filters.until and filters.until != span[1] else [],
        "platform": list(filters.platforms),
        "brand": list(filters.brands),
    }
    for name, values in wanted.items():
        if st.query_params.get_all(name) == values:
            continue
        if values:
            st.query_params[name] = values if len(values) > 1 else values[0]
        elif name in st.query_params:
            del st.query_params[name]
