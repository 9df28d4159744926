"""Customers: find an opted-in customer, see what their linked accounts posted and why their churn risk is
what it is. Only customers with a consented handle can be found here; nobody else is shown one by one."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.queries import people

TREND_POSTS = 5
SENTIMENT_COLOURS = alt.Scale(domain=list(people.SENTIMENTS), range=["#2e7d32", "#9e9e9e", "#c62828"])


def sentiment_chart(posts: pd.DataFrame) -> alt.LayerChart:
    """Each scored post as a dot (date, score); with five or more, the mean of each post and its neighbours
    (five posts, centred) as a line."""
    scored = posts.dropna(subset=["score"])
    trend = len(scored) >= TREND_POSTS
    subtitle = f"Line: mean of {TREND_POSTS} neighbouring posts" if trend else "Dashed line: neutral"
    base = alt.Chart(scored, title=alt.Title("Sentiment of each linked post", subtitle=subtitle))
    y = alt.Y("score:Q", title="Sentiment (-1 negative to 1 positive)", scale=alt.Scale(domain=[-1, 1]))
    x = alt.X("created_at:T", title="Posted (UTC)")
    dots = base.mark_circle(size=70, opacity=0.8).encode(
        x=x,
        y=y,
        color=alt.Color("sentiment:N", title="Sentiment", scale=SENTIMENT_COLOURS),
        tooltip=[
            alt.Tooltip("created_at:T", title="Posted", format="%Y-%m-%d %H:%M"),
            alt.Tooltip("platform:N", title="Platform"),
            alt.Tooltip("score:Q", title="Score", format="+.2f"),
        ],
    )
    neutral = alt.Chart(pd.DataFrame({"score": [0.0]})).mark_rule(color="#9e9e9e", strokeDash=[4, 4])
    layers = [neutral.encode(y="score:Q"), dots]
    if trend:
        half = TREND_POSTS // 2
        line = base.transform_window(
            mean="mean(score)", frame=[-half, half], sort=[alt.SortField("created_at")]
        ).mark_line(color="#1565c0")
        layers.append(line.encode(x=x, y=alt.Y("mean:Q", scale=alt.Scale(domain=[-1, 1]))))
    return alt.layer(*layers)


def factor_chart(factors: pd.DataFrame) -> alt.Chart:
    """The churn factors as bars: right of zero raises the risk, left lowers it."""
    return (
        alt.Chart(factors, title="What drives the churn risk", height=alt.Step(30))
        .mark_bar()
        .encode(
            x=alt.X("contribution:Q", title="Contribution (log-odds; above 0 raises the risk)"),
            y=alt.Y("reason:N", title=None, sort=None, axis=alt.Axis(labelLimit=420)),
            color=alt.condition("datum.contribution > 0", alt.value("#c62828"), alt.value("#2e7d32")),
            tooltip=[alt.Tooltip("reason:N", title="Reason"), alt.Tooltip("contribution:Q", format="+.2f")],
        )
    )


def risk_text(risk: float) -> str:
    """A churn risk as a whole percentage, never a misleading 0% or 100%."""
    if pd.isna(risk):
        return "not scored"
    if risk > 0.995:
        return "over 99%"
    return "under 1%" if risk < 0.005 else f"{risk:.0%}"


def profile(found: dict) -> None:
    """The customer's headline figures (numbers as metrics; words as plain text, never as Markdown)."""
    columns = st.columns(3)
    risk, tenure, charge = found["churn_risk"], found["tenure_months"], found["monthly_charge"]
    columns[0].metric("Churn risk", risk_text(risk))
    columns[1].metric("Tenure", "n/a" if pd.isna(tenure) else f"{int(tenure)} months")
    columns[2].metric("Monthly charge", "n/a" if pd.isna(charge) else f"{charge:,.2f}")
    words = [
        ("Status in the CRM", {1: "churned", 0: "active"}.get(found["churned"], "unknown")),
        ("Micro-segment", found["micro_segment"] or "none yet"),
        ("Broad segment", found["broad_segment"]),
        ("Plan", found["plan"]),
        ("Contract", found["contract"]),
        ("Opted-in platforms", found["platforms"]),
        ("Churn scored at", found["scored_at"]),
    ]
    st.text(" · ".join(f"{label}: {'n/a' if pd.isna(value) else value}" for label, value in words))


def churn_reasons(customer_id: str) -> None:
    """The reasons behind the churn risk: a chart when they carry weights, else a list."""
    st.subheader("Why this churn risk")
    factors = people.churn_factors(customer_id)
    if factors.empty:
        st.caption(
            "No churn factors stored: `tasteradar analyze` scores opted-in customers once a churn model fits."
        )
    elif factors["contribution"].notna().all():
        st.altair_chart(factor_chart(factors), width="stretch")
    else:
        st.dataframe(
            factors[["reason"]], hide_index=True, width="stretch", column_config={"reason": "Reason"}
        )


def timeline(customer_id: str) -> None:
    """The customer's linked posts: a sentiment chart and the posts themselves (text shown as text)."""
    posts = people.customer_posts(customer_id)
    st.subheader(f"Timeline: {len(posts):,} posts from their opted-in accounts")
    if posts.empty:
        st.caption("No posts from their opted-in accounts yet.")
        return
    if posts["score"].notna().any():
        st.altair_chart(sentiment_chart(posts), width="stretch")
    st.dataframe(
        posts.sort_values("created_at", ascending=False),
        hide_index=True,
        width="stretch",
        column_config={
            "created_at": st.column_config.DatetimeColumn("Posted (UTC)", format="YYYY-MM-DD HH:mm"),
            "platform": "Platform",
            "sentiment": "Sentiment",
            "score": st.column_config.NumberColumn("Score", format="%+.2f"),
            "text": st.column_config.TextColumn("Post", width="large"),
        },
    )


st.title("Customers")
st.caption("Opted-in customers only: people who recorded a handle with consent.")
query = st.text_input("Customer id contains", key="customers_query", placeholder="e.g. NM-0001")
matches = people.find_customers(query)
if matches.empty:
    st.info("No opted-in customer matches." if query.strip() else "No opted-in customers yet.")
    st.stop()

labels = {
    row.customer_id: f"{row.customer_id} · {row.broad_segment or 'n/a'}"
    + ("" if pd.isna(row.churn_risk) else f" · risk {risk_text(row.churn_risk)}")
    for row in matches.itertuples()
}
st.caption(f"{len(matches):,} matches shown (at most 50), highest churn risk first.")
chosen = st.selectbox("Customer", list(labels), format_func=labels.get, key="customers_pick")
found = people.customer(chosen)
if found is None:
    st.warning("This customer is no longer opted in.")
    st.stop()

profile(found)
churn_reasons(chosen)
timeline(chosen)
