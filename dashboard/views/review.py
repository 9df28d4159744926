"""Review: analysts correct a post's sentiment or need label. Corrections are stored (``corrections``, through
:mod:`dashboard.writes`, the dashboard's only write path) and feed ``tasteradar sentiment train``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, writes
from dashboard.queries import people
from dashboard.queries.core import database_path

QUEUE_COLUMNS = {
    "created_at": st.column_config.DatetimeColumn("Posted (UTC)", format="YYYY-MM-DD"),
    "sentiment": "Model says",
    "text": st.column_config.TextColumn("Text", width="large"),
}


def save(post_id: str, kind: str, value: str, analyst: str | None) -> None:
    """Store one correction and refresh the views that show corrections."""
    try:
        writes.add_correction(database_path(), post_id, kind, value, analyst)
    except (ValueError, FileNotFoundError) as error:
        st.error(f"Not saved: {error}")
        return
    for query in (people.post_corrections, people.recent_corrections, people.review_queue):
        query.clear()
    st.toast(f"Saved the {kind} correction of {post_id}.", icon=":material/check:")


def sentiment_form(post: dict, analyst: str | None) -> None:
    """Pick the right sentiment; the model's label is preselected."""
    labels = list(people.SENTIMENTS)
    model = post["sentiment"] if post["sentiment"] in labels else None
    with st.form(f"review_sentiment_{post['post_id']}"):
        value = st.radio("Sentiment", labels, index=labels.index(model) if model else None, horizontal=True)
        if st.form_submit_button("Save sentiment", type="primary"):
            if value is None:
                st.warning("Pick a sentiment first.")
            else:
                save(post["post_id"], "sentiment", value, analyst)


def need_form(post: dict, analyst: str | None) -> None:
    """Name the need the post states, or say it states none."""
    with st.form(f"review_need_{post['post_id']}"):
        phrase = st.text_input("The need it states, in a few words", max_chars=writes.MAX_NEED)
        no_need = st.checkbox("This post states no need")
        if st.form_submit_button("Save need"):
            if not no_need and not phrase.strip():
                st.warning("Type the need, or tick 'This post states no need'.")
            else:
                save(post["post_id"], "need", "" if no_need else phrase, analyst)


def show_post(post: dict) -> None:
    """The post as plain text, with what the model found in it."""
    with st.container(border=True):
        st.text(post["text"])
    score = "" if pd.isna(post["score"]) else f" ({post['score']:+.2f})"
    when = pd.Timestamp(post["created_at"]).strftime("%Y-%m-%d %H:%M UTC")
    st.caption(f"{post['platform']} · {when} · model: {post['sentiment'] or 'no sentiment'}{score}")
    if post["needs"]:
        st.dataframe(pd.DataFrame({"Needs the model found": post["needs"]}), hide_index=True, width="stretch")


def queue_picker() -> str | None:
    """The review queue (optionally searched) and the post picked from it."""
    words = st.text_input("Find posts (optional)", key="review_text", placeholder="e.g. esim, roaming")
    unreviewed = st.toggle("Only posts without a correction", value=True, key="review_unreviewed")
    try:
        queue = people.review_queue(words, unreviewed)
    except ValueError as error:
        st.warning(f"Nothing to search for: {error}.")
        return None
    if queue.empty:
        st.info("No posts to review here.")
        return None
    st.dataframe(
        queue,
        hide_index=True,
        width="stretch",
        column_config=QUEUE_COLUMNS,
        column_order=list(QUEUE_COLUMNS),
    )
    labels = {
        row.post_id: f"{row.created_at:%Y-%m-%d} · {row.platform} · {row.text[:70]}"
        for row in queue.itertuples()
    }
    return st.selectbox("Post to review", list(labels), format_func=labels.get, key="review_post")


st.title("Review")
st.caption(
    "Correct the model's sentiment or need label of a post. Each correction is stored with your name and "
    "feeds `tasteradar sentiment train`."
)
analyst = auth.current_user() or st.text_input(
    "Your name (stored with each correction)", key="review_analyst"
)
left, right = st.columns(2, gap="large")
with left:
    picked = queue_picker()
with right:
    post = people.post_for_review(picked) if picked else None
    if post is not None:
        show_post(post)
        sentiment_form(post, analyst)
        need_form(post, analyst)
        stored = people.post_corrections(post["post_id"])
        if not stored.empty:
            st.markdown("**Corrections of this post**")
            st.dataframe(stored, hide_index=True, width="stretch")

st.subheader("Latest corrections")
latest = people.recent_corrections()
if latest.empty:
    st.caption("None yet.")
else:
    st.dataframe(
        latest, hide_index=True, width="stretch", column_config={"text": st.column_config.TextColumn("Text")}
    )
