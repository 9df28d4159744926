"""Start the Streamlit dashboard on loopback with production settings, and say when it is up.

Production settings (:func:`streamlit_command`): users see generic error messages, never exception details
or tracebacks (those go to the console); XSRF and CORS protection on; on a loopback address only
``localhost`` and the address itself are accepted as the Host of the WebSocket (DNS-rebinding protection);
uploads (the do-not-contact list on the Segments page) at most 5 MB; no usage statistics; the viewer
toolbar (no developer menu, no "clear cache").

:func:`start_dashboard` hands the app its database (``TASTERADAR_DB``), the password hash of the login gate
(``TASTERADAR_DASHBOARD_PASSWORD_HASH``, from the environment or ``tasteradar.secrets.toml``) and any
standing do-not-contact files (``TASTERADAR_SUPPRESS``) through the child's environment.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import dashboard
from dashboard.auth import HASH_ENV
from dashboard.queries.people import SUPPRESS_ENV
from tasteradar.secrets import load_secrets

APP = Path(dashboard.__file__).with_name("app.py")


def free_port() -> int:
    """An unused loopback port (for tests and screenshots that start their own dashboard)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_UPLOAD_MB = 5


def streamlit_command(host: str, port: int) -> list[str]:
    """The command line that starts the dashboard (``streamlit run`` through :mod:`dashboard.launch`, which
    imports the heavy modules first) with the production settings of the module's docstring."""
    command = [
        sys.executable, "-m", "dashboard.launch", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.enableXsrfProtection", "true",
        "--server.enableCORS", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--server.maxUploadSize", str(MAX_UPLOAD_MB),
        "--client.showErrorDetails", "none",
        "--client.showErrorLinks", "false",
        "--client.toolbarMode", "viewer",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    if host in LOOPBACK:
        for allowed in dict.fromkeys(("localhost", "127.0.0.1", host)):
            command += ["--server.allowedHosts", allowed]
    return command


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120.0) -> bool:
    """Poll Streamlit's health endpoint until it answers ``ok``; False if the process died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def dashboard_environment(
    db_path: Path, config_dir: Path | None = None, suppress: Sequence[Path] = (), brand: str | None = None
) -> dict[str, str]:
    """The dashboard's environment: this one plus the database, the login hash, the suppression files and
    the own brand (``TASTERADAR_BRAND``, which the brand pages compare competitors against).

    The password hash comes from ``load_secrets(config_dir)`` (environment first, then
    ``tasteradar.secrets.toml`` in ``config_dir``); when neither sets it, the dashboard opens without login.
    """
    env = dict(os.environ, TASTERADAR_DB=str(db_path))
    password_hash = load_secrets(config_dir).get(HASH_ENV)
    if password_hash:
        env[HASH_ENV] = password_hash
    if suppress:
        env[SUPPRESS_ENV] = os.pathsep.join(str(Path(path).resolve()) for path in suppress)
    if brand:
        env["TASTERADAR_BRAND"] = brand
    return env


def start_dashboard(
    db_path: Path,
    host: str,
    port: int,
    *,
    config_dir: Path | None = None,
    suppress: Sequence[Path] = (),
    brand: str | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start the dashboard over ``db_path`` (opened read-only by the app); return the process and its URL.

    ``config_dir`` is where ``tasteradar.secrets.toml`` is looked for (the configuration's folder);
    ``suppress`` are do-not-contact files applied to every segment export made on the dashboard.
    """
    env = dashboard_environment(db_path, config_dir, suppress, brand)
    process = subprocess.Popen(streamlit_command(host, port), env=env, stdout=subprocess.DEVNULL)
    return process, f"http://{host}:{port}"
