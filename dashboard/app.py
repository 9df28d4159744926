"""The tasteradar dashboard: ``streamlit run dashboard/app.py`` (``tasteradar dashboard`` does it for you).

One file per page under ``views/`` (never ``pages/``: a folder of that name beside this file switches
Streamlit to its old multipage mode, in which a deep link runs a page without this file's login gate); every
query lives in ``queries/`` (cached, read-only). Before any page runs, :mod:`dashboard.auth` decides whether
this browser session may see the dashboard: until it may, the only page is the login form (whatever the URL
asks for). Post text and author names are untrusted and are never rendered as HTML.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import auth
from dashboard.filters import sidebar_filters

PAGES = Path(__file__).with_name("views")

#: Navigation sections: (file under views/, title, icon); the first page is the default.
SECTIONS = {
    "Market": [
        ("overview.py", "Overview", ":material/monitoring:"),
        ("topics.py", "Topics", ":material/category:"),
        ("emerging.py", "Emerging tastes and needs", ":material/trending_up:"),
        ("competitors.py", "Competitors", ":material/compare_arrows:"),
    ],
    "People": [
        ("segments.py", "Segments", ":material/groups:"),
        ("customers.py", "Customers", ":material/person_search:"),
        ("search.py", "Search", ":material/search:"),
        ("review.py", "Review", ":material/rate_review:"),
    ],
}

st.set_page_config(page_title="tasteradar", page_icon=":satellite:", layout="wide")

mode = auth.login_mode()
if not auth.admitted(mode):
    st.navigation(
        [st.Page(auth.login_page, title="Sign in", icon=":material/lock:")], position="hidden"
    ).run()
    st.stop()

navigation = st.navigation(
    {
        section: [
            st.Page(PAGES / file, title=title, icon=icon, default=(file == "overview.py"))
            for file, title, icon in pages
        ]
        for section, pages in SECTIONS.items()
    }
)
with st.sidebar:
    st.caption("tasteradar: social listening and micro-segments")
    if mode == "open":
        st.warning("Open dashboard: no login is configured.", icon=":material/lock_open:")
    else:
        auth.logout_button()
    sidebar_filters()
navigation.run()
