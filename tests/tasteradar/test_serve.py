"""`tasteradar dashboard` starts Streamlit on loopback with production settings, and says when it is up."""

from __future__ import annotations

import urllib.request

import pytest

from tasteradar.serve import free_port, start_dashboard, streamlit_command, wait_until_up


def test_command_binds_loopback_with_production_settings():
    command = " ".join(streamlit_command("127.0.0.1", 8501))
    for setting in (
        "--server.address 127.0.0.1",
        "--server.port 8501",
        "--server.enableXsrfProtection true",
        "--server.enableCORS true",
        "--client.showErrorDetails none",
        "--browser.gatherUsageStats false",
    ):
        assert setting in command


@pytest.mark.slow
def test_dashboard_comes_up_and_serves_the_app(small_demo):
    process, url = start_dashboard(small_demo.db_path, "127.0.0.1", free_port())
    try:
        assert wait_until_up(url, process, timeout=90)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert b"<html" in response.read().lower()
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_wait_gives_up_when_the_process_died(tmp_path):
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert not wait_until_up(f"http://127.0.0.1:{free_port()}", dead, timeout=5)
