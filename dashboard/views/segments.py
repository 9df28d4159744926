"""Segments: a broad CRM segment's micro-segments, what sets each apart, its needs, churn, opted-in members.

Customer segments show their opted-in members and export them for campaign tools; audience segments
(people who post but are not linked customers) are shown in aggregate only.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.queries import people
from segments.export import SegmentExportError

SEGMENT_COLUMNS = {
    "id": st.column_config.NumberColumn("Id", format="%d"),
    "name": "Micro-segment",
    "size": st.column_config.NumberColumn("Size (people)", format="%d"),
    "opted_in": st.column_config.NumberColumn("Opted in", format="%d"),
    "churn_rate": st.column_config.NumberColumn("Churn rate", format="percent"),
    "sentiment": st.column_config.NumberColumn("Mean sentiment (-1 to 1)", format="%.2f"),
}


def lift_chart(lift: pd.DataFrame, name: str) -> alt.LayerChart:
    """Horizontal bars: how many times more common each feature is in the segment than in its broad one; the
    dashed rule at 1 is "as common as in the broad segment"."""
    bars = (
        alt.Chart(lift)
        .mark_bar()
        .encode(
            x=alt.X("lift:Q", title="Lift (x the broad segment's rate)"),
            y=alt.Y("feature:N", title=None, sort="-x", axis=alt.Axis(labelLimit=260)),
            tooltip=[
                alt.Tooltip("feature:N", title="Feature"),
                alt.Tooltip("lift:Q", title="Lift", format=".2f"),
            ],
        )
    )
    even = (
        alt.Chart(pd.DataFrame({"lift": [1.0]}))
        .mark_rule(strokeDash=[4, 4], color="#616161")
        .encode(x="lift:Q")
    )
    title = alt.Title(f"What sets {name} apart", subtitle="Dashed line: as common as in the broad segment")
    return alt.layer(bars, even, title=title)


def _figure(value, template: str) -> str:
    """``value`` formatted with ``template``, or 'n/a' when it is missing."""
    return "n/a" if pd.isna(value) else template.format(value)


def describe(segment, *, customers: bool) -> None:
    """A segment's headline figures, lift chart and needs (aggregate: safe for audience segments too)."""
    figures = [("People", f"{segment['size']:,}")]
    if customers or not pd.isna(segment["churn_rate"]):
        figures.append(("Churn rate", _figure(segment["churn_rate"], "{:.0%}")))
    figures.append(("Mean sentiment (-1 to 1)", _figure(segment["sentiment"], "{:+.2f}")))
    if customers:
        figures.append(("Opted-in members", f"{segment['opted_in']:,}"))
    for column, (label, value) in zip(st.columns(4), figures, strict=False):
        column.metric(label, value)
    left, right = st.columns(2)
    lift = people.segment_lift(int(segment["id"]))
    if lift.empty:
        left.caption("No lift features recorded for this segment.")
    else:
        left.altair_chart(lift_chart(lift, segment["name"]), width="stretch")
    needs = people.segment_needs(int(segment["id"]))
    right.markdown("**Needs they raise most**")
    if needs.empty:
        right.caption("No needs found in this segment's posts.")
    else:
        right.dataframe(
            needs,
            hide_index=True,
            width="stretch",
            column_config={
                "need": "Need",
                "posts": st.column_config.NumberColumn("Posts"),
                "kinds": "Raised as",
            },
        )


def export_buttons(segment) -> None:
    """Download buttons for the segment's campaign export, with an optional do-not-contact list."""
    st.markdown("**Export for campaign tools**")
    upload = st.file_uploader(
        "Do-not-contact list (optional): a CSV with customer_id and/or handle, or one id or platform:handle "
        "a line",
        type=["csv", "txt"],
        key="segments_dnc",
    )
    extra = upload.getvalue().decode("utf-8-sig", errors="replace") if upload else ""
    try:
        export = people.segment_export(int(segment["id"]), extra)
    except (SegmentExportError, ValueError) as error:
        st.error("Cannot export this segment:", icon=":material/error:")
        st.text(str(error))  # may quote the upload or a segment name: shown as text, never as Markdown
        return
    standing = len(people.suppression_files())
    lists = f"{standing} standing do-not-contact list(s) and any upload" if standing else "any uploaded list"
    st.caption(
        f"Exports {export.rows:,} opted-in members. Left out: {export.no_consent:,} without consent and "
        f"{export.suppressed:,} on a do-not-contact list ({lists}). In CSV, cells a spreadsheet would run as "
        "formulas are neutralised."
    )
    if export.unmatched_suppression:
        st.warning(f"{export.unmatched_suppression:,} do-not-contact entries match no customer id or handle.")
    stem = f"segment-{int(segment['id'])}"
    for column, (fmt, mime) in zip(st.columns(3), people.EXPORT_FORMATS.items(), strict=True):
        column.download_button(
            f"Download {fmt.upper()}",
            export.files[fmt],
            file_name=f"{stem}.{fmt}",
            mime=mime,
            on_click="ignore",
            icon=":material/download:",
            key=f"export_{fmt}",
        )


def customer_segment(segment) -> None:
    """The members, examples and export of a customer segment."""
    describe(segment, customers=True)
    members = people.segment_members(int(segment["id"]))
    st.markdown(f"**Opted-in members** ({len(members):,} shown, highest churn risk first)")
    st.dataframe(
        members,
        hide_index=True,
        width="stretch",
        column_config={
            "customer_id": "Customer",
            "plan": "Plan",
            "contract": "Contract",
            "tenure_months": st.column_config.NumberColumn("Tenure (months)"),
            "churn_risk": st.column_config.ProgressColumn(
                "Churn risk", min_value=0.0, max_value=1.0, format="percent"
            ),
            "membership": st.column_config.NumberColumn("Membership score", format="%.2f"),
            "linked_posts": st.column_config.NumberColumn("Linked posts"),
        },
    )
    examples = people.segment_examples(int(segment["id"]))
    if not examples.empty:
        st.markdown("**Example posts by members**")
        st.dataframe(
            examples,
            hide_index=True,
            width="stretch",
            column_config={
                "created_at": st.column_config.DatetimeColumn("Posted (UTC)", format="YYYY-MM-DD HH:mm"),
                "platform": "Platform",
                "text": st.column_config.TextColumn("Post", width="large"),
            },
        )
    export_buttons(segment)


st.title("Segments")
broad_options = people.broad_segments()
if not broad_options:
    st.info("No micro-segments yet: run `tasteradar customers`, then `tasteradar segments`.")
    st.stop()

broad = st.selectbox("Broad segment", broad_options, key="segments_broad")
segments = people.micro_segments(broad)
for population, heading, note in (
    ("customers", "Customer micro-segments", "Opted-in members are listed and can be exported."),
    ("audience", "Audience micro-segments", "People who post but are not linked customers: aggregates only."),
):
    group = segments[segments["population"] == population]
    st.subheader(heading)
    st.caption(note)
    if group.empty:
        st.caption("None in this broad segment.")
        continue
    hidden = ["population"] + (["opted_in"] if population == "audience" else [])
    hidden += ["churn_rate"] if group["churn_rate"].isna().all() else []
    shown = group.drop(columns=hidden)
    st.dataframe(shown, hide_index=True, width="stretch", column_config=SEGMENT_COLUMNS)
    names = dict(zip(group["id"], group["name"], strict=True))
    chosen = st.selectbox(
        "Micro-segment",
        list(names),
        format_func=lambda key, names=names: names[key],
        key=f"segment_{population}",
    )
    segment = group[group["id"] == chosen].iloc[0]
    if population == "customers":
        customer_segment(segment)
    else:
        describe(segment, customers=False)
