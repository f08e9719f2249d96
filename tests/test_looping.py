"""A command run with ``--loop`` beside the web workers (``keep-figures``, ``send-messages``)
stops when systemd sends SIGTERM: it finishes the work in hand and exits cleanly, without
waiting out its interval."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, make_test_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("backend", BACKENDS)
def test_keep_figures_loop_stops_on_sigterm_after_the_pass_in_hand(make_database, backend):
    url = make_database(backend)
    app = make_test_app(url)
    with app.app_context():
        from inclusion.extensions import db

        db.engine.dispose()
    env = {**os.environ, "INCLUSION_DATABASE_URL": url, "INCLUSION_ENV": "development"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "inclusion", "inclusion", "keep-figures"]
        + ["--loop", "--interval", "600"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        said = []
        while not said or "figure sets kept current" not in said[-1]:
            said.append(worker.stdout.readline())  # until the first pass is done
            assert said[-1], "".join(said)  # not the end of its output
        # Now it waits 600 s for its next look.
        began = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        assert time.monotonic() - began < 10  # it did not sleep out its interval
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
