"""What a command run with ``--loop`` beside the web workers shares (``send-messages``,
``keep-figures``): systemd stops it with SIGTERM, and it finishes the work in hand, then
stops, instead of dying in the middle of it."""

from __future__ import annotations

import signal
import time


class Looping:
    """``stopping`` turns true on SIGTERM (when ``loop``); ``wait(seconds)`` sleeps until the
    next look, a second at a time, and returns early once stopping."""

    def __init__(self, loop: bool):
        self.stopping = False
        if loop:
            signal.signal(signal.SIGTERM, self._stop)

    def _stop(self, *_) -> None:
        self.stopping = True

    def wait(self, seconds: int) -> None:
        for _ in range(seconds):
            if self.stopping:
                return
            time.sleep(1)
