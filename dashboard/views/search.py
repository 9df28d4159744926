"""Search: full-text search over every post, within the sidebar's dates, platforms and brands, by sentiment.

Words are matched whole (``5g``), as a prefix with a trailing ``*`` (``stream*``) or as a ``"quoted phrase"``;
every word must occur. Anything else typed (quotes, ``OR``, ``-``, brackets) is searched for as text, never
run as search syntax. Post text is shown as text.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard.filters import current
from dashboard.queries import people

PAGE_SIZE = 25
ORDERS = {"relevance": "Best match", "newest": "Newest first"}
RESULT_COLUMNS = {
    "created_at": st.column_config.DatetimeColumn("Posted (UTC)", format="YYYY-MM-DD HH:mm"),
    "platform": "Platform",
    "brands": "Brands",
    "sentiment": "Sentiment",
    "text": st.column_config.TextColumn("Text", width="large"),
    "post_id": "Post",
}
ROW_PIXELS = 35


def search_filters(sentiments: list[str]) -> people.SearchFilters:
    """The sidebar's global filters plus the page's sentiment choice."""
    view = current()
    return people.SearchFilters(
        brands=view.brands,
        platforms=view.platforms,
        sentiments=tuple(sentiments),
        since=view.since,
        until=view.until,
    )


def describe(filters: people.SearchFilters) -> str:
    """A one-line account of the filters in force (plain text)."""
    parts = [
        f"{filters.since or 'the first post'} to {filters.until or 'the last post'}",
        "platforms: " + (", ".join(filters.platforms) or "all"),
        "brands: " + (", ".join(filters.brands) or "all"),
        "sentiment: " + (", ".join(filters.sentiments) or "any"),
    ]
    return "Within " + "; ".join(parts) + " (dates, platforms and brands: the sidebar)."


def results(text: str, filters: people.SearchFilters, order: str) -> None:
    """One page of matches, with a page picker when there are more."""
    page = int(st.session_state.get("search_page", 1))
    try:
        total, rows = people.search_posts(text, filters, page, PAGE_SIZE, order)
    except ValueError as error:
        st.warning(f"Nothing to search for: {error}.")
        return
    except pd.errors.DatabaseError:
        st.error(
            "The search could not run on this database (is the full-text index there?). Try other words."
        )
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if total == 0:
        st.info("No posts match. Try fewer words, a prefix such as `stream*`, or wider filters.")
        return
    if page > pages:  # the filters changed under a later page: show the last one
        page = st.session_state["search_page"] = pages
        total, rows = people.search_posts(text, filters, page, PAGE_SIZE, order)
    first = (page - 1) * PAGE_SIZE + 1
    st.caption(
        f"{total:,} posts match; showing {first:,}-{first + len(rows) - 1:,} (page {page} of {pages})."
    )
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config=RESULT_COLUMNS,
        column_order=list(RESULT_COLUMNS),
        height=ROW_PIXELS * (len(rows) + 1) + 3,  # the whole page of results, no scrolling inside
    )
    if pages > 1:
        st.columns([1, 4])[0].number_input("Page", min_value=1, max_value=pages, step=1, key="search_page")


def _new_query() -> None:
    """Back to the first page whenever the words, sentiments or order change."""
    st.session_state["search_page"] = 1


st.title("Search posts")
text = st.text_input(
    "Words to find",
    key="search_text",
    placeholder='e.g. esim, stream*, "no signal"',
    on_change=_new_query,
)
left, right = st.columns([3, 1])
sentiments = left.multiselect(
    "Sentiment", people.SENTIMENTS, key="search_sentiment", placeholder="Any", on_change=_new_query
)
order = right.selectbox(
    "Order", list(ORDERS), format_func=ORDERS.get, key="search_order", on_change=_new_query
)
filters = search_filters(sentiments)
st.caption(describe(filters))
if text.strip():
    results(text, filters, order)
else:
    st.info("Type words to search every post's text.")
