"""Overview: brand volume, share of voice and sentiment against the competitors, the top emerging topics and
needs, alerts, and how fresh each source's data is. Every chart reads the daily rollups."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.filters import current
from dashboard.queries import market

TOP_EMERGING = 10
SPARK_DAYS = 56


def describe(filters) -> str:
    """One line saying what the page shows."""
    platforms = ", ".join(filters.platforms) or "all platforms"
    source = "daily rollups" if market.rollups_used() else "raw tables (rollups off or not built yet)"
    return f"{filters.since} to {filters.until} (UTC), {platforms}. Computed from {source}."


def with_previous(filters):
    """The range extended back by its own length, so the metrics can show a change."""
    return replace(filters, since=filters.since - timedelta(days=filters.days), brands=())


def change(now: float | None, before: float | None, kind: str) -> str | None:
    """The change shown under a metric: ``relative`` (%), ``points`` (percentage points of a share) or
    ``difference``; None when a period has no value."""
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    if kind == "relative":
        return f"{(now - before) / before:+.0%}" if before else None
    if kind == "points":
        return f"{(now - before) * 100:+.1f} pts"
    return f"{now - before:+.2f}"


def period_values(posts: pd.DataFrame, brands: pd.DataFrame, own: str | None) -> dict:
    """Posts, the own brand's mentions, share of voice and net sentiment over the rows of one period."""
    mine = brands[brands["brand"] == own]
    total = brands["posts"].sum()
    return {
        "posts": posts["posts"].sum() or None,
        "mentions": mine["posts"].sum() or None,
        "share": mine["posts"].sum() / total if total else None,
        "net": charts.net_sentiment(mine.sum(numeric_only=True).to_frame().T).iloc[0] if len(mine) else None,
    }


def metrics(filters, own: str | None) -> None:
    """Posts, the own brand's mentions, share of voice and net sentiment, against the previous period."""
    extended = with_previous(filters)
    posts, brands = market.post_days(extended), market.brand_days(extended)
    start = pd.Timestamp(filters.since)
    now = period_values(posts[posts["day"] >= start], brands[brands["day"] >= start], own)
    before = period_values(posts[posts["day"] < start], brands[brands["day"] < start], own)
    label = own or "the own brand (not configured)"
    share = f"{now['share']:.1%}" if now["share"] is not None else "n/a"
    net = f"{now['net']:+.2f}" if now["net"] is not None and not pd.isna(now["net"]) else "n/a"
    cells = st.columns(4)
    cells[0].metric("Posts", f"{now['posts'] or 0:,}", change(now["posts"], before["posts"], "relative"))
    cells[1].metric(
        f"Mentions of {label}",
        f"{now['mentions'] or 0:,}",
        change(now["mentions"], before["mentions"], "relative"),
    )
    cells[2].metric("Share of voice", share, change(now["share"], before["share"], "points"))
    cells[3].metric("Net sentiment", net, change(now["net"], before["net"], "difference"))
    st.caption(
        f"Share of voice and net sentiment are about {label}; changes compare with the {filters.days} days "
        "before. Net sentiment: (positive - negative) / posts with a sentiment label, from -1 to +1."
    )


def brand_charts(filters, own: str | None) -> None:
    """Mentions per day, share of voice and net sentiment per brand over time."""
    daily = market.brand_days(replace(filters, brands=()))
    if daily.empty:
        st.info("No brand mentions in this range: run `tasteradar analyze` after collecting posts.")
        return
    unit = charts.grain(filters.days)
    frame = charts.bucket(daily, ["brand"], unit, filters.since, filters.until)
    frame["per_day"] = frame["posts"] / frame["days"]
    # a bucket in which no brand is named has no share to split: drawn as empty (0), not bridged
    frame["share"] = (frame["posts"] / frame.groupby("day")["posts"].transform("sum")).fillna(0.0)
    frame["net"] = charts.net_sentiment(frame)
    if filters.brands:
        frame = frame[frame["brand"].isin(filters.brands)]
    per = "week" if unit == "week" else "day"
    domain = market.brand_options()
    left, right = st.columns(2)
    left.altair_chart(
        charts.line(
            frame,
            y="per_day",
            color="brand",
            unit=unit,
            color_title="Brand",
            domain=domain,
            title=f"Brand mentions per day ({'weekly mean' if unit == 'week' else 'daily'})",
            y_title="Posts naming the brand per day",
            y_format=",.1~f",
        ),
        width="stretch",
    )
    right.altair_chart(share_chart(frame, unit, per, domain), width="stretch")
    left.altair_chart(
        charts.line(
            frame,
            y="net",
            color="brand",
            unit=unit,
            color_title="Brand",
            y_domain=[-1, 1],
            domain=domain,
            title=f"Net sentiment toward each brand per {per}",
            y_title="Net sentiment (-1 to +1)",
            y_format="+.2f",
        ),
        width="stretch",
    )
    right.altair_chart(platform_chart(filters, unit), width="stretch")
    st.caption(
        "Share of voice: a brand's posts / all posts naming any brand (a post naming two brands counts for "
        f"each), per {per}, among every brand even when some are filtered out."
    )


def share_chart(frame: pd.DataFrame, unit: str, per: str, domain: list[str]) -> alt.Chart:
    """Share of voice per bucket as stacked areas."""
    x_title = "Week starting (UTC)" if unit == "week" else "Day (UTC)"
    frame = frame.assign(brand_rank=frame["brand"].map({brand: i for i, brand in enumerate(domain)}))
    return (
        alt.Chart(frame, title=f"Share of voice per {per} (% of brand mentions)")
        .mark_area(opacity=0.85)
        .encode(
            x=alt.X("day:T", title=x_title),
            y=alt.Y("share:Q", title="Share of brand mentions (%)", axis=alt.Axis(format="%"), stack=True),
            color=alt.Color("brand:N", title="Brand", scale=charts.categories(domain)),
            order=alt.Order("brand_rank:Q"),
            tooltip=[alt.Tooltip("day:T", title=x_title), "brand:N", alt.Tooltip("share:Q", format=".1%")],
        )
    )


def platform_chart(filters, unit: str) -> alt.Chart:
    """Every post (with or without a brand) per day and platform."""
    posts = market.post_days(replace(filters, brands=()))
    frame = charts.bucket(posts, ["platform"], unit, filters.since, filters.until)
    frame["per_day"] = frame["posts"] / frame["days"]
    return charts.line(
        frame,
        y="per_day",
        color="platform",
        unit=unit,
        color_title="Platform",
        y_format=",.1~f",
        domain=market.platform_options(),
        title=f"All posts per day by platform ({'weekly mean' if unit == 'week' else 'daily'})",
        y_title="Posts per day",
    )


def emerging_table(filters) -> pd.DataFrame:
    """The top emerging topics, needs and terms of the range, with their daily counts as sparklines."""
    items = market.emerging_items(filters)
    if items.empty:
        return items
    clusters = items[items["kind"] != "term"]
    items = pd.concat([clusters, items[items["kind"] == "term"]]).head(TOP_EMERGING).reset_index(drop=True)
    trends: dict[tuple[str, str], list[int]] = {}
    for kind in ("topic", "theme"):
        keys = tuple(items.loc[items["kind"] == kind, "key"])
        for key, values in market.emerging_series(kind, keys, filters, SPARK_DAYS).items():
            trends[(kind, key)] = values
    items["trend"] = [trends.get((kind, key)) for kind, key in zip(items["kind"], items["key"], strict=True)]
    items["kind"] = items["kind"].map({"topic": "topic", "theme": "need", "term": "term"})
    return items[["kind", "label", "trend", "last_flagged", "ratio", "window_count", "drivers"]]


def emerging_section(filters) -> pd.DataFrame:
    """The emerging table; returns it for the alerts."""
    st.subheader("Top emerging topics and needs")
    table = emerging_table(filters)
    if table.empty:
        st.caption("Nothing flagged as emerging in this range (`tasteradar analyze` runs the detector).")
        return table
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "kind": st.column_config.TextColumn("Kind", help="topic, need theme or term"),
            "label": st.column_config.TextColumn("Topic, need or term"),
            "trend": st.column_config.LineChartColumn(
                f"Last {SPARK_DAYS} days",
                y_min=0,
                help="Per day: posts of the topic (a post naming two brands counts for each) or need rows",
            ),
            "last_flagged": st.column_config.TextColumn("Last flagged"),
            "ratio": st.column_config.NumberColumn(
                "x expected", format="%.1fx", help="7-day count / expected"
            ),
            "window_count": st.column_config.NumberColumn("Last 7 days", help="posts or need rows"),
            "drivers": st.column_config.TextColumn("Growing terms"),
        },
    )
    st.caption(
        "Topics and needs first, then terms; newest flags first. Flags are computed over every platform; the "
        "sparklines follow the platform filter. Emerging tastes and needs explains each."
    )
    return table


def alerts(filters, own: str | None, emerging: pd.DataFrame) -> None:
    """What needs a look: new emerging items, the own brand's sentiment falling, failing collection."""
    st.subheader("Alerts")
    raised = 0
    start = (filters.until - timedelta(days=6)).isoformat()
    recent = emerging[emerging["last_flagged"] >= start] if not emerging.empty else emerging
    if not recent.empty:
        counts = recent["kind"].value_counts()
        parts = ", ".join(f"{counts[kind]} {kind}{'s' if counts[kind] > 1 else ''}" for kind in counts.index)
        st.warning(
            f"Emerging in the 7 days to {filters.until}: {parts} (listed above).",
            icon=":material/trending_up:",
        )
        raised += 1
    if own and sentiment_fell(filters, own):
        raised += 1
    failing = market.failing_runs()
    if not failing.empty:
        st.error(
            f"The latest collection run failed for {len(failing)} source queries:", icon=":material/error:"
        )
        st.dataframe(failing, hide_index=True, width="stretch")
        raised += 1
    if not raised:
        st.success("No alerts: nothing new is emerging, sentiment is steady and collection runs succeed.")


def sentiment_fell(filters, own: str) -> bool:
    """Warn when the net sentiment toward ``own`` in the last 7 days is 0.1 or more below the 28 before."""
    window = replace(filters, since=filters.until - timedelta(days=34), brands=())
    rows = market.brand_days(window)
    rows = rows[rows["brand"] == own]
    if rows.empty:
        return False
    cut = pd.Timestamp(filters.until - timedelta(days=6))
    recent, before = (
        rows[rows["day"] >= cut].sum(numeric_only=True),
        rows[rows["day"] < cut].sum(numeric_only=True),
    )
    labelled = [part["positive"] + part["neutral"] + part["negative"] for part in (recent, before)]
    if min(labelled) < 20:
        return False
    now, then = (charts.net_sentiment(part.to_frame().T).iloc[0] for part in (recent, before))
    if then - now < 0.1:
        return False
    st.warning(
        f"Net sentiment toward {own} fell to {now:+.2f} in the 7 days to {filters.until}, "
        f"from {then:+.2f} in the 28 days before.",
        icon=":material/trending_down:",
    )
    return True


def freshness() -> None:
    """Per source: newest post, last successful collection, last run status and recent failures."""
    st.subheader("Data freshness")
    st.dataframe(
        market.source_freshness(),
        hide_index=True,
        width="stretch",
        column_config={
            "source": "Source",
            "newest_post": st.column_config.TextColumn("Newest post (UTC)"),
            "last_success": st.column_config.TextColumn("Last successful run (UTC)"),
            "last_run_status": "Last run",
            "failed_7d": st.column_config.NumberColumn("Failed runs (7 days)"),
        },
    )
    st.caption("Runs are logged by `tasteradar collect`; posts loaded by `import` or `demo` log none.")


st.title("Overview")
view = current()
if view.since is None:
    st.info(
        "No posts yet. Run `tasteradar demo`, `tasteradar import` or `tasteradar collect`, then `analyze`."
    )
else:
    own_brand = market.own_brand()
    st.caption(describe(view))
    metrics(view, own_brand)
    brand_charts(view, own_brand)
    emerging = emerging_section(view)
    alerts(view, own_brand, emerging)
    freshness()
