"""Competitors: how people feel about each brand topic by topic, and who switches from whom to whom, week by
week."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.filters import current
from dashboard.queries import market

ALL_WEEKS = "All weeks in the range"


def sentiment_heatmap(filters) -> None:
    """Net sentiment toward each brand in the largest topics."""
    st.subheader("Sentiment by brand and topic")
    frame = market.brand_topic_sentiment(filters)
    if frame.empty:
        st.info("No topic has brand mentions in this range: `tasteradar analyze` fits topics.")
        return
    left, right = st.columns(2)
    top = left.slider("Topics shown (largest first)", 5, 40, 15, key="heatmap_topics")
    least = right.slider("Fewest posts per cell", 1, 50, 5, key="heatmap_min_posts")
    largest = frame.groupby("label")["posts"].sum().nlargest(top).index
    shown = frame[frame["label"].isin(largest) & (frame["posts"] >= least)]
    tooltip = [
        alt.Tooltip("label:N", title="Topic"),
        alt.Tooltip("brand:N", title="Brand"),
        alt.Tooltip("posts:Q", title="Posts naming the brand"),
        alt.Tooltip("net_sentiment:Q", title="Net sentiment", format="+.2f"),
    ]
    chart = charts.heatmap(
        shown,
        x="brand",
        y="label",
        value="net_sentiment",
        diverging=True,
        tooltip=tooltip,
        title="Net sentiment toward each brand per topic (-1 to +1)",
        x_title="Brand",
        y_title="Topic",
        value_title="Net sentiment",
        height=max(260, 24 * len(largest)),
    )
    st.altair_chart(chart, width="stretch")
    st.caption(
        "Net sentiment: (positive - negative) / posts labelled, toward the brand (not the whole post). Cells "
        f"with fewer than {least} posts are left blank."
    )


def switching_section(filters, own: str | None) -> None:
    """The from -> to matrix of one week or the whole range, and each brand's net gain per week."""
    st.subheader("Switching between brands")
    moves = market.switching(filters)
    if moves.empty:
        st.info(
            "No switching posts in this range (posts saying someone moved, or is moving, between brands)."
        )
        return
    weeks = [ALL_WEEKS] + [week.date().isoformat() for week in sorted(moves["week"].unique(), reverse=True)]
    week = st.selectbox("Week (starting Monday)", weeks, key="switch_week")
    chosen = moves if week == ALL_WEEKS else moves[moves["week"] == pd.Timestamp(week)]
    matrix = chosen.groupby(["from_brand", "to_brand"], as_index=False)["posts"].sum()
    period = "the range" if week == ALL_WEEKS else f"the week of {week}"
    left, right = st.columns(2)
    left.altair_chart(
        charts.heatmap(
            matrix,
            x="to_brand",
            y="from_brand",
            value="posts",
            diverging=False,
            title=f"Switching posts from -> to, {period}",
            x_title="To brand",
            y_title="From brand",
            value_title="Posts",
            x_angle=-35,
        ),
        width="stretch",
    )
    right.altair_chart(net_gain_chart(moves, own), width="stretch")
    st.caption(
        "Posts with a switching, switched, port-out or leaving intent naming both brands; a post counts once "
        "per brand pair. Every platform counts."
    )


def net_gain_chart(moves: pd.DataFrame, own: str | None) -> alt.Chart:
    """Per week and brand: posts moving to it minus posts moving away from it."""
    gained = moves.groupby(["week", "to_brand"])["posts"].sum().rename_axis(["week", "brand"])
    lost = moves.groupby(["week", "from_brand"])["posts"].sum().rename_axis(["week", "brand"])
    net = gained.sub(lost, fill_value=0).rename("net").reset_index()
    return (
        alt.Chart(net, title="Net switching gain per week")
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title="Week starting (UTC)"),
            y=alt.Y("net:Q", title="Net posts per week (to - away)"),
            color=alt.Color("brand:N", title="Brand", scale=charts.categories(market.brand_options())),
            strokeWidth=alt.condition(alt.datum.brand == (own or ""), alt.value(4), alt.value(1.5)),
            tooltip=[alt.Tooltip("week:T", title="Week"), "brand:N", alt.Tooltip("net:Q", title="Net posts")],
        )
    )


st.title("Competitors")
view = current()
st.caption(
    f"{view.since} to {view.until} (UTC)" + (f"; brands: {', '.join(view.brands)}" if view.brands else "")
)
sentiment_heatmap(view)
switching_section(view, market.own_brand())
