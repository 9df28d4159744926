"""Start the Streamlit dashboard on loopback with production settings, and say when it is up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dashboard

APP = Path(dashboard.__file__).with_name("app.py")


def free_port() -> int:
    """An unused loopback port (for tests and screenshots that start their own dashboard)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def streamlit_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line: no usage stats, no error details for users, XSRF and CORS on."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.enableXsrfProtection", "true",
        "--server.enableCORS", "true",
        "--server.fileWatcherType", "none",
        "--client.showErrorDetails", "false",
        "--client.toolbarMode", "viewer",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


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


def start_dashboard(db_path: Path, host: str, port: int) -> tuple[subprocess.Popen, str]:
    """Start the dashboard over ``db_path`` (opened read-only by the app); return the process and its URL."""
    env = dict(os.environ, TASTERADAR_DB=str(db_path))
    process = subprocess.Popen(streamlit_command(host, port), env=env, stdout=subprocess.DEVNULL)
    return process, f"http://{host}:{port}"
