"""Emerging tastes and unmet needs: need themes ranked by growth and volume, the competitor gap, example
posts, and the topics, needs and terms flagged as emerging with what drives them."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.filters import current
from dashboard.queries import market

KINDS = {"topic": "topic", "theme": "need", "term": "term"}
RANKS = {"Growth": ["growth", "needs"], "Volume": ["needs", "growth"]}


def need_themes(filters, own: str | None) -> pd.DataFrame:
    """The need themes of the range with their competitor gap, ranked as the analyst picks."""
    table = market.theme_table(filters)
    if table.empty:
        return table
    if own:
        table = table.merge(market.theme_gaps(own), on="theme_id", how="left")
    else:
        table = table.assign(competitors_praised="", competitor_gap=False)
    table["competitor_gap"] = table["competitor_gap"].fillna(False).astype(bool)
    table["competitors_praised"] = table["competitors_praised"].fillna("")
    return table


def theme_table(table: pd.DataFrame, own: str | None) -> None:
    """The themes, ranked as the analyst picks."""
    rank = st.segmented_control("Rank by", list(RANKS), default="Growth", key="need_rank")
    table = table.sort_values(RANKS[rank or "Growth"], ascending=False, na_position="last")
    columns = ["label", "competitor_gap", "needs", "needs_7d", "growth", "net_sentiment", "raised_against"]
    st.dataframe(
        table[columns + ["competitors_praised"]],
        hide_index=True,
        width="stretch",
        column_config={
            "label": st.column_config.TextColumn("Need theme"),
            "needs": st.column_config.NumberColumn("Needs", format="%d", help="need rows in the range"),
            "needs_7d": st.column_config.NumberColumn("Last 7 days", format="%d"),
            "growth": st.column_config.NumberColumn(
                "Growth", format="%.2fx", help="daily rate, last 7 days / 28 before"
            ),
            "net_sentiment": st.column_config.NumberColumn("Net sentiment", format="%+.2f"),
            "raised_against": st.column_config.TextColumn("Raised against (needs)"),
            "competitors_praised": st.column_config.TextColumn(
                "Competitors praised for it (posts, all time)"
            ),
            "competitor_gap": st.column_config.CheckboxColumn(f"Gap for {own or 'own brand'}"),
        },
    )


def theme_chart(table: pd.DataFrame) -> alt.Chart:
    """Themes by volume and growth; gaps stand out."""
    frame = table.assign(gap=table["competitor_gap"].map({True: "competitor gap", False: "no gap"}))
    return (
        alt.Chart(frame.dropna(subset=["growth"]), title="Need themes: volume against growth")
        .mark_circle(size=140, opacity=0.8)
        .encode(
            x=alt.X("needs:Q", title="Need rows in the range", scale=alt.Scale(type="log")),
            y=alt.Y("growth:Q", title="Growth (7 days vs 28 before, x)"),
            color=alt.Color(
                "gap:N",
                title="Competitor gap",
                scale=alt.Scale(domain=["competitor gap", "no gap"], range=["#d62728", "#1f77b4"]),
            ),
            tooltip=[
                "label:N",
                "needs:Q",
                alt.Tooltip("growth:Q", format=".2f"),
                "raised_against:N",
                "competitors_praised:N",
            ],
        )
    )


def gap_section(table: pd.DataFrame, own: str | None) -> None:
    """Needs voiced against the own brand that a competitor is praised for."""
    st.subheader("Competitor gap")
    if not own:
        st.info("Set the own brand (`[brand] name` in tasteradar.toml, or TASTERADAR_BRAND) to see the gap.")
        return
    gaps = table[table["competitor_gap"]]
    if gaps.empty:
        st.caption(f"No need theme raised against {own} has a competitor praised for it.")
        return
    st.caption(
        f"Themes raised against {own} at least 3 times for which a competitor is praised in posts of the "
        "same meaning (all time). The counts below are the range's."
    )
    st.dataframe(
        gaps[["label", "needs", "growth", "raised_against", "competitors_praised"]],
        hide_index=True,
        width="stretch",
        column_config={
            "label": "Need theme",
            "needs": st.column_config.NumberColumn("Needs", format="%d"),
            "growth": st.column_config.NumberColumn("Growth", format="%.2fx"),
            "raised_against": "Raised against (needs)",
            "competitors_praised": "Competitors praised for it (posts, all time)",
        },
    )


def examples(filters, table: pd.DataFrame) -> None:
    """Example posts of one theme."""
    names = dict(zip(table["theme_id"], table["label"], strict=True))
    theme = st.selectbox(
        "Need theme",
        list(names),
        format_func=lambda theme_id: names[theme_id],
        key="theme",
        bind="query-params",
    )
    st.dataframe(
        market.need_examples(filters, theme),
        hide_index=True,
        width="stretch",
        column_config={
            "created_at": "Posted (UTC)",
            "platform": "Platform",
            "kind": "Kind",
            "need": "Need (as written)",
            "raised_against": "Raised against",
            "text": st.column_config.TextColumn("Post", width="large"),
        },
    )


def emerging_section(filters) -> None:
    """Everything flagged in the range, and one item's explanation."""
    st.subheader("Emerging topics, needs and terms")
    items = market.emerging_items(filters)
    if items.empty:
        st.caption("Nothing flagged in this range (`tasteradar analyze` runs the detector).")
        return
    shown = items.assign(kind=items["kind"].map(KINDS))
    st.dataframe(
        shown.drop(columns=["key"]),
        hide_index=True,
        width="stretch",
        column_config={
            "kind": "Kind",
            "label": st.column_config.TextColumn("Topic, need or term"),
            "first_flagged": "First flagged",
            "last_flagged": "Last flagged",
            "days_flagged": "Days flagged",
            "ratio": st.column_config.NumberColumn("x expected", format="%.1fx"),
            "window_count": st.column_config.NumberColumn("Last 7 days"),
            "expected": st.column_config.NumberColumn("Expected", format="%.1f"),
            "q_value": st.column_config.NumberColumn("q-value", format="%.1e", help="false discovery rate"),
            "drivers": st.column_config.TextColumn("Growing terms"),
            "brands": st.column_config.TextColumn("Brands named in its 7 days (posts)"),
        },
    )
    st.caption(
        "A series is flagged when its 7-day count is at least twice what its share of posts in the 28 days "
        "before predicts and the excess is significant (q <= 0.01). Every platform counts."
    )
    choices = list(range(len(items)))
    picked = st.selectbox(
        "Explain",
        choices,
        format_func=lambda i: f"{KINDS[items['kind'][i]]}: {items['label'][i]}",
        key="explain",
    )
    explain(filters, items.iloc[picked])


def explain(filters, item: pd.Series) -> None:
    """Why one series is flagged: its flagged days and the terms that drive it."""
    flags, drivers, brands = market.emerging_history(item["kind"], item["key"], filters)
    left, right = st.columns(2)
    counts = flags.melt(
        id_vars=["day"], value_vars=["window_count", "expected"], var_name="series", value_name="n"
    )
    counts["series"] = counts["series"].map({"window_count": "counted", "expected": "expected"})
    left.altair_chart(
        alt.Chart(counts, title="Flagged days: 7-day count against expected")
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title="Day flagged (UTC)"),
            y=alt.Y("n:Q", title="Posts or need rows in the 7 days"),
            color=alt.Color("series:N", title="Series"),
            tooltip=[alt.Tooltip("day:T"), "series:N", alt.Tooltip("n:Q", format=",.1f")],
        ),
        width="stretch",
    )
    if drivers.empty:
        right.caption(
            "A term explains itself: it has no driving terms."
            if item["kind"] == "term"
            else "No driving terms recorded."
        )
    else:
        bars = drivers.melt(
            id_vars=["term"], value_vars=["window_count", "expected"], var_name="series", value_name="n"
        )
        right.altair_chart(
            alt.Chart(bars, title="Terms driving it: 7-day posts against expected")
            .mark_bar()
            .encode(
                y=alt.Y("term:N", title="Term"),
                x=alt.X("n:Q", title="Posts with the term in the 7 days"),
                yOffset="series:N",
                color=alt.Color("series:N", title="Series"),
                tooltip=["term:N", "series:N", alt.Tooltip("n:Q", format=",.1f")],
            ),
            width="stretch",
        )
    if brands:
        st.dataframe(pd.DataFrame(list(brands.items()), columns=["brand", "posts"]), hide_index=True)


st.title("Emerging tastes and unmet needs")
view = current()
own_brand = market.own_brand()
themes = need_themes(view, own_brand)
if themes.empty:
    st.info("No need themes in this range: `tasteradar analyze` finds needs and groups them into themes.")
else:
    st.caption(
        f"{len(themes)} need themes from {view.since} to {view.until}; "
        "brands: those a need is raised against."
    )
    theme_table(themes, own_brand)
    st.altair_chart(theme_chart(themes), width="stretch")
    gap_section(themes, own_brand)
    st.subheader("Example posts")
    examples(view, themes)
emerging_section(view)
