"""Who may open the dashboard: Streamlit's OIDC login, a password gate, or nobody asked (the open banner).

The mode (:func:`login_mode`) is chosen at every run, first match wins:

1. ``oidc``: an ``[auth]`` section in Streamlit's ``.streamlit/secrets.toml`` (``redirect_uri``,
   ``cookie_secret``, ``client_id``, ``client_secret``, ``server_metadata_url``): people sign in with
   ``st.login`` (needs the Authlib package) and ``st.user`` names them.
2. ``password``: ``TASTERADAR_DASHBOARD_PASSWORD_HASH`` is set. ``tasteradar dashboard`` sets it from the
   environment or the git-ignored ``tasteradar.secrets.toml`` beside ``tasteradar.toml``. It holds an scrypt
   hash made by ``python -m dashboard.auth hash``, never the password; the password admits one browser
   session (a reload asks again), and each wrong password costs a second.
3. ``open``: neither is set; ``app.py`` then shows a banner saying the dashboard is open.

A configuration that cannot work (a malformed hash, OIDC without Authlib) fails closed: the dashboard shows
what to fix and nothing else.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import os
import secrets
import sys
import time
from typing import Literal

import streamlit as st

__all__ = [
    "HASH_ENV",
    "LoginMode",
    "admitted",
    "current_user",
    "hash_password",
    "login_mode",
    "login_page",
    "logout_button",
    "verify_password",
]

HASH_ENV = "TASTERADAR_DASHBOARD_PASSWORD_HASH"
SCHEME = "scrypt"
COST, BLOCK, PARALLEL = 2**14, 8, 1  # 16 MiB and about 50 ms per check
MIN_PASSWORD = 10
FAILURE_DELAY_SECONDS = 1.0
_ADMITTED = "_tasteradar_admitted"
LoginMode = Literal["oidc", "password", "open"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, cost: int, block: int, parallel: int) -> bytes:
    maxmem = 256 * cost * block + 2**20
    return hashlib.scrypt(password.encode(), salt=salt, n=cost, r=block, p=parallel, maxmem=maxmem, dklen=32)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The stored form of ``password``: ``scrypt$N$r$p$<salt>$<key>`` (base64, a fresh 16-byte salt)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"use a password of at least {MIN_PASSWORD} characters")
    salt = secrets.token_bytes(16) if salt is None else salt
    key = _scrypt(password, salt, COST, BLOCK, PARALLEL)
    return f"{SCHEME}${COST}${BLOCK}${PARALLEL}${_b64(salt)}${_b64(key)}"


def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    """The parameters, salt and key of a stored hash; ``ValueError`` saying how to make a good one."""
    parts = encoded.strip().split("$")
    try:
        if len(parts) != 6 or parts[0] != SCHEME:
            raise ValueError
        cost, block, parallel = (int(part) for part in parts[1:4])
        salt, key = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
        if (
            cost < 2**10
            or cost > 2**20
            or cost & (cost - 1)
            or not (1 <= block <= 32 and 1 <= parallel <= 16)
        ):
            raise ValueError
    except ValueError:
        raise ValueError(
            f"{HASH_ENV} is not a password hash made by `python -m dashboard.auth hash` "
            "(expected scrypt$N$r$p$salt$key); make one and put it in tasteradar.secrets.toml"
        ) from None
    return cost, block, parallel, salt, key


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches the stored hash ``encoded`` (constant-time comparison)."""
    cost, block, parallel, salt, key = _parse(encoded)
    return hmac.compare_digest(_scrypt(password, salt, cost, block, parallel), key)


def _oidc_configured() -> bool:
    """True when Streamlit's secrets hold an ``[auth]`` section."""
    try:
        return st.secrets.load_if_toml_exists() and "auth" in st.secrets
    except Exception:  # noqa: BLE001 (a broken secrets file: Streamlit logs it; treat as not configured)
        return False


def login_mode() -> LoginMode:
    """``oidc``, ``password`` or ``open``: see the module's docstring for the order."""
    if _oidc_configured():
        return "oidc"
    if os.environ.get(HASH_ENV, "").strip():
        return "password"
    return "open"


def admitted(mode: LoginMode) -> bool:
    """Whether this browser session may see the dashboard under ``mode``."""
    if mode == "oidc":
        return bool(st.user.is_logged_in)
    if mode == "password":
        return bool(st.session_state.get(_ADMITTED))
    return True


def current_user() -> str | None:
    """The signed-in person's email or name under OIDC; None otherwise."""
    if login_mode() == "oidc" and st.user.is_logged_in:
        return st.user.get("email") or st.user.get("name")
    return None


def _oidc_login() -> None:
    from streamlit.auth_util import is_authlib_installed

    if not is_authlib_installed():
        st.error("Login is configured ([auth] in .streamlit/secrets.toml) but Authlib is missing: install it "
                 "with `pip install 'Authlib>=1.3.2'`, then restart the dashboard.")  # fmt: skip
        return
    st.write("Sign in with your organisation's account to open the dashboard.")
    st.button("Sign in", type="primary", on_click=st.login)


def _password_login() -> None:
    encoded = os.environ.get(HASH_ENV, "")
    try:
        _parse(encoded)
    except ValueError as error:
        st.error(str(error))
        return
    with st.form("login"):
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Open the dashboard", type="primary")
    if submitted:
        if verify_password(password, encoded):
            st.session_state[_ADMITTED] = True
            st.rerun()
        time.sleep(FAILURE_DELAY_SECONDS)
        st.error("Wrong password.")


def login_page() -> None:
    """The page shown instead of the dashboard until this session is admitted."""
    st.title("tasteradar")
    if login_mode() == "oidc":
        _oidc_login()
    else:
        _password_login()


def logout_button() -> None:
    """A sidebar sign-out button under OIDC or the password gate (nothing when the dashboard is open)."""
    mode = login_mode()
    if mode == "oidc":
        st.text(f"Signed in as {current_user() or 'unknown'}")
        st.button("Sign out", on_click=st.logout)
    elif mode == "password" and st.button("Lock the dashboard"):
        st.session_state.pop(_ADMITTED, None)
        st.rerun()


def _read_new_password() -> str:
    """A new password from the terminal (asked twice), or one line of standard input when it is piped."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New dashboard password: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("the two passwords differ; nothing was written")
    return first


def main(argv: list[str] | None = None) -> None:
    """``python -m dashboard.auth hash``: print the secrets-file line for a new dashboard password."""
    parser = argparse.ArgumentParser(prog="python -m dashboard.auth", description=main.__doc__)
    parser.add_argument("command", choices=["hash"], help="hash: read a password, print its hash line")
    parser.parse_args(argv)
    try:
        encoded = hash_password(_read_new_password())
    except ValueError as error:
        raise SystemExit(str(error)) from None
    print(f'{HASH_ENV} = "{encoded}"')
    print(
        "# add the line above to tasteradar.secrets.toml beside tasteradar.toml (chmod 600), or set the "
        "environment variable; then restart `tasteradar dashboard`",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
