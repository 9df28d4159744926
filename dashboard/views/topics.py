"""Topics: what people talk about, how much, how fast it grows, how they feel and which brands they name;
one topic's trend, terms and representative posts; and a map of all topics."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.filters import current
from dashboard.queries import market

TOP_SPLIT = 15


def brand_split(brands: pd.DataFrame, own: str | None) -> pd.DataFrame:
    """Per topic: the own brand's share of its brand mentions and the brands named, most first, as text."""
    if brands.empty:
        return pd.DataFrame(columns=["topic_id", "own_share", "brands"])
    totals = brands.groupby("topic_id")["posts"].sum()
    ordered = brands.sort_values("posts", ascending=False)
    text = ordered.groupby("topic_id").apply(
        lambda rows: ", ".join(
            f"{brand} {posts / totals[rows.name]:.0%}"
            for brand, posts in zip(rows["brand"], rows["posts"], strict=True)
        ),
        include_groups=False,
    )
    own_posts = brands[brands["brand"] == own].set_index("topic_id")["posts"]
    return pd.DataFrame(
        {
            "topic_id": totals.index,
            "own_share": (own_posts / totals).reindex(totals.index).fillna(0.0).values,
            "brands": text.reindex(totals.index).values,
        }
    )


def topic_table(table: pd.DataFrame, split: pd.DataFrame, own: str | None) -> None:
    """The table of topics in the range."""
    shown = table.merge(split, on="topic_id", how="left")
    columns = ["label", "posts", "share", "posts_7d", "growth", "net_sentiment", "own_share", "brands"]
    st.dataframe(
        shown[columns],
        hide_index=True,
        width="stretch",
        column_config={
            "label": st.column_config.TextColumn("Topic"),
            "posts": st.column_config.NumberColumn("Posts", format="%d"),
            "share": st.column_config.ProgressColumn(
                "Share of topic posts",
                format="percent",
                min_value=0,
                max_value=float(shown["share"].max() or 1),
            ),
            "posts_7d": st.column_config.NumberColumn("Last 7 days", format="%d"),
            "growth": st.column_config.NumberColumn(
                "Growth", format="%.2fx", help="daily rate, last 7 days / 28 days before"
            ),
            "net_sentiment": st.column_config.NumberColumn(
                "Net sentiment", format="%+.2f", help="(positive - negative) / labelled posts"
            ),
            "own_share": st.column_config.ProgressColumn(
                f"{own or 'Own brand'} share",
                format="percent",
                min_value=0,
                max_value=1,
                help="of the topic's brand mentions",
            ),
            "brands": st.column_config.TextColumn("Brands named"),
        },
    )


def split_chart(table: pd.DataFrame, brands: pd.DataFrame) -> alt.Chart:
    """The brand split of the largest topics as stacked bars of shares."""
    top = table.head(TOP_SPLIT)[["topic_id", "label"]]
    frame = brands.merge(top, on="topic_id")
    return (
        alt.Chart(frame, title=f"Brand split of the {len(top)} largest topics (% of brand mentions)")
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title="Topic", sort=top["label"].tolist(), axis=alt.Axis(labelLimit=260)),
            x=alt.X(
                "posts:Q",
                stack="normalize",
                title="Share of the topic's brand mentions (%)",
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color("brand:N", title="Brand", scale=charts.categories(market.brand_options())),
            tooltip=["label:N", "brand:N", alt.Tooltip("posts:Q", title="Posts naming the brand")],
        )
    )


def topic_detail(filters, table: pd.DataFrame, brands: pd.DataFrame) -> int:
    """Pick a topic; show its trend, terms, brands and representative posts. Returns the topic id."""
    names = dict(zip(table["topic_id"], table["label"], strict=True))
    topic = st.selectbox(
        "Topic", list(names), format_func=lambda topic_id: names[topic_id], key="topic", bind="query-params"
    )
    row = table[table["topic_id"] == topic].iloc[0]
    cells = st.columns(4)
    cells[0].metric("Posts in range", f"{int(row['posts']):,}")
    cells[1].metric("Last 7 days", f"{int(row['posts_7d']):,}")
    cells[2].metric("Growth", f"{row['growth']:.2f}x" if pd.notna(row["growth"]) else "n/a")
    cells[3].metric(
        "Net sentiment", f"{row['net_sentiment']:+.2f}" if pd.notna(row["net_sentiment"]) else "n/a"
    )
    left, right = st.columns(2)
    trend = market.topic_trend(filters, topic)
    unit = charts.grain(filters.days)
    frame = charts.bucket(trend, [], unit, filters.since, filters.until).assign(series="posts")
    frame["per_day"] = frame["posts"] / frame["days"]
    left.altair_chart(
        charts.line(
            frame,
            y="per_day",
            color="series",
            unit=unit,
            color_title="Series",
            y_format=",.1~f",
            title=f"Posts per day in this topic ({'weekly mean' if unit == 'week' else 'daily'})",
            y_title="Posts per day",
        ),
        width="stretch",
    )
    terms = market.topic_terms(topic).head(12)
    right.altair_chart(
        alt.Chart(terms, title="Top terms (c-TF-IDF weight)")
        .mark_bar()
        .encode(
            y=alt.Y("term:N", sort="-x", title="Term"),
            x=alt.X("weight:Q", title="c-TF-IDF weight (unitless)"),
            tooltip=["term:N", alt.Tooltip("weight:Q", format=".3f")],
        ),
        width="stretch",
    )
    mine = brands[brands["topic_id"] == topic].assign(
        net=lambda f: (f["positive"] - f["negative"]) / f["labelled"].where(f["labelled"] > 0)
    )
    if not mine.empty:
        left.altair_chart(
            alt.Chart(mine, title="Posts naming each brand in this topic")
            .mark_bar()
            .encode(
                y=alt.Y("brand:N", sort="-x", title="Brand"),
                x=alt.X("posts:Q", title="Posts naming the brand"),
                color=alt.Color("net:Q", title="Net sentiment", scale=charts.DIVERGING),
                tooltip=["brand:N", "posts:Q", alt.Tooltip("net:Q", title="Net sentiment", format="+.2f")],
            ),
            width="stretch",
        )
    st.markdown("**Representative posts** (nearest the topic's centre; text shown as written)")
    st.dataframe(
        market.topic_posts(filters, topic),
        hide_index=True,
        width="stretch",
        column_config={
            "created_at": "Posted (UTC)",
            "platform": "Platform",
            "author": "Author",
            "text": st.column_config.TextColumn("Post", width="large"),
            "score": st.column_config.NumberColumn(
                "Similarity", format="%.2f", help="cosine to the topic centre"
            ),
        },
    )
    return topic


def topic_map(table: pd.DataFrame, selected: int) -> None:
    """The active model's topics on two principal components, sized by size, coloured by sentiment."""
    points = market.topic_map()
    if points.empty:
        st.caption("No topic model yet: `tasteradar analyze` fits one.")
        return
    frame = points.merge(table[["topic_id", "posts", "growth", "net_sentiment"]], on="topic_id", how="left")
    frame["selected"] = frame["topic_id"] == selected
    base = alt.Chart(frame, title="Map of topics (topic centres on their first two principal components)")
    dots = base.mark_circle(opacity=0.8).encode(
        x=alt.X("x:Q", title="Principal component 1 (cosine space, unitless)"),
        y=alt.Y("y:Q", title="Principal component 2 (cosine space, unitless)"),
        size=alt.Size("size:Q", title="Topic size (posts at fit)", scale=alt.Scale(range=[30, 1500])),
        color=alt.Color("net_sentiment:Q", title="Net sentiment in range", scale=charts.DIVERGING),
        stroke=alt.condition("datum.selected", alt.value("black"), alt.value("#8c8c8c")),
        strokeWidth=alt.condition("datum.selected", alt.value(3), alt.value(0.6)),
        tooltip=[
            "label:N",
            alt.Tooltip("size:Q", title="Size at fit"),
            alt.Tooltip("posts:Q", title="Posts in range"),
            alt.Tooltip("growth:Q", format=".2f"),
            alt.Tooltip("net_sentiment:Q", format="+.2f"),
        ],
    )
    st.altair_chart(dots.properties(height=520), width="stretch")
    st.caption("Close topics are talked about in similar words. The selected topic has a black ring.")


st.title("Topics")
view = current()
table = market.topic_table(view)
if table.empty:
    st.info("No topics in this range: `tasteradar analyze` fits topics once there are posts.")
else:
    own = market.own_brand()
    brands = market.topic_brands(view)
    st.caption(
        f"{len(table)} topics with posts from {view.since} to {view.until}. Posts and growth apply every "
        "filter; brand splits count a post once for each brand it names."
    )
    topic_table(table, brand_split(brands, own), own)
    if not brands.empty:
        st.altair_chart(split_chart(table, brands), width="stretch")
    st.subheader("One topic")
    chosen = topic_detail(view, table, brands)
    st.subheader("Topic map")
    topic_map(table, chosen)
