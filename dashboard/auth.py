"""Optional sign-in: a shared secret, or OIDC through Streamlit's ``st.login``.

``ANOMALY_GAN_AUTH`` picks the mode (set by ``anomaly-gan dashboard --auth``):

- ``none`` (default): no sign-in; the dashboard is bound to 127.0.0.1.
- ``secret``: a password form; the secret is the first line of the file named by
  ``ANOMALY_GAN_SECRET_FILE``, compared in constant time. The analyst's name is
  asked for on the same form and used for verdicts. Failed attempts slow down
  and then lock the client out (``signin_guard``).
- ``oidc``: ``st.login()`` with the ``[auth]`` section of ``.streamlit/secrets.toml``;
  the analyst is ``st.user.email``.
"""

from __future__ import annotations

import hmac
import math
import os
import time
from pathlib import Path

import streamlit as st

from anomaly_gan.dashboard.signin_guard import shared_guard


def mode() -> str:
    """The configured sign-in mode."""
    return os.environ.get("ANOMALY_GAN_AUTH", "none")


def signed_in() -> bool:
    """Show the sign-in form when needed; True once the visitor may see the pages."""
    if mode() == "secret":
        return _secret_form()
    if mode() == "oidc":
        if not st.user.is_logged_in:
            st.title("anomaly-gan")
            st.button("Sign in", on_click=st.login, key="oidc_login")
            return False
        st.sidebar.button("Sign out", on_click=st.logout, key="oidc_logout")
        return True
    return True


def analyst_field(key: str) -> str:
    """The analyst for a verdict: the signed-in name, else a field to type one in."""
    if mode() == "none":
        return str(st.text_input("Analyst", value=analyst_name(), key=key))
    name = analyst_name()  # signed in: not a field anyone can change
    st.markdown(f"Analyst: **{name}** (signed in)")
    return name


def analyst_name() -> str:
    """Who is signed in: the OIDC e-mail or the name given with the secret."""
    email = getattr(st.user, "email", None) if mode() == "oidc" else None
    return str(email or st.session_state.get("signed_in_as", ""))


def _client() -> str:
    address = getattr(st.context, "ip_address", None)
    return address if isinstance(address, str) and address else "an unknown address"


def _secret_form() -> bool:
    if st.session_state.get("signed_in_as"):
        return True
    st.title("anomaly-gan")
    guard, client = shared_guard(), _client()
    locked = guard.locked_for(client)
    if locked:
        minutes = math.ceil(locked / 60)
        st.error(
            f"Too many failed sign-ins from this address: try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}."
        )
        return False
    with st.form("sign_in"):
        name = st.text_input("Your name", key="sign_in_name")
        secret = st.text_input("Shared secret", type="password", key="sign_in_secret")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        expected = _expected_secret()
        if not name.strip():
            st.error("Enter your name: verdicts record who set them.")
            return False
        time.sleep(guard.delay(client))  # grows with this client's failures
        if expected and hmac.compare_digest(secret.encode(), expected.encode()):
            guard.succeeded(client, name.strip())
            st.session_state["signed_in_as"] = name.strip()
            st.rerun()
        else:
            guard.failed(client, name.strip())
            st.error("Wrong secret.")
    return False


def _expected_secret() -> str:
    path = os.environ.get("ANOMALY_GAN_SECRET_FILE", "")
    try:
        return Path(path).read_text().splitlines()[0].strip() if path else ""
    except (OSError, IndexError):
        return ""
