"""Overview: how much was collected, from where, and how fresh it is."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import queries

st.title("Overview")
st.caption(f"Database: {queries.database_path()}")

totals = queries.totals()
columns = st.columns(4)
LABELS = [("Posts", "posts"), ("Authors", "authors"), ("Customers", "customers"), ("Opted in", "opted_in")]
for column, (label, key) in zip(columns, LABELS, strict=True):
    column.metric(label, f"{totals[key]:,}")

volume = queries.daily_volume()
if volume.empty:
    st.info("No posts yet. Run `tasteradar demo`, `tasteradar import` or `tasteradar collect`.")
else:
    chart = (
        alt.Chart(volume, title="Posts per day by platform")
        .mark_line()
        .encode(
            x=alt.X("day:T", title="Day (UTC)"),
            y=alt.Y("posts:Q", title="Posts per day"),
            color=alt.Color("platform:N", title="Platform"),
            tooltip=["day:T", "platform:N", "posts:Q"],
        )
    )
    st.altair_chart(chart, width="stretch")

st.subheader("Data freshness")
st.dataframe(queries.source_freshness(), hide_index=True, width="stretch")

st.subheader("Latest collection runs")
runs = queries.recent_runs()
if runs.empty:
    st.caption("No collection runs yet: `tasteradar collect` records one per source and query.")
else:
    st.dataframe(runs, hide_index=True, width="stretch")
