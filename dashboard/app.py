"""The tasteradar dashboard: ``streamlit run dashboard/app.py`` (``tasteradar dashboard`` does it for you).

One file per page under ``pages/``; every query lives in ``queries.py``. Post text and author names are
untrusted and are never rendered as HTML.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).with_name("pages")

st.set_page_config(page_title="tasteradar", page_icon=":satellite:", layout="wide")

navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/monitoring:", default=True),
    ]
)
with st.sidebar:
    st.caption("tasteradar: social listening and micro-segments")
    st.warning("Open dashboard: no login is configured.", icon=":material/lock_open:")
navigation.run()
