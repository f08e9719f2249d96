"""Label PDFs: time a 1,000-label A4 sheet PDF and 1,000 single labels; target < 3 s each.

Each figure is the best of 3 runs (the machine is shared; the minimum is the least noisy).

    python benchmarks/labels.py        # prints the figures, exits 1 if a target is missed
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devices.labels import Label, sheet_pdf, single_pdf  # noqa: E402
from devices.service import TAG_ALPHABET  # noqa: E402

TARGET_SECONDS = 3.0
COUNT = 1000
RUNS = 3


def _labels() -> list[Label]:
    labels = []
    for n in range(COUNT):
        tag = "IN-" + "".join(TAG_ALPHABET[(n // 32**i) % 32] for i in range(4))
        labels.append(Label(tag, f"https://inclusion.example.org/d/{tag}", "WDI"))
    return labels


def main() -> int:
    labels = _labels()
    missed = False
    for name, build in (
        ("A4 3x7 sheets", lambda: sheet_pdf(labels, "3x7")),
        ("A4 5x13 sheets", lambda: sheet_pdf(labels, "5x13")),
        ("single 62x29 mm", lambda: single_pdf(labels)),
    ):
        seconds = float("inf")
        for _ in range(RUNS):
            started = time.perf_counter()
            pdf = build()
            seconds = min(seconds, time.perf_counter() - started)
        ok = seconds < TARGET_SECONDS
        missed |= not ok
        print(
            f"{COUNT} labels, {name:16} {seconds:6.2f} s  {len(pdf) / 1024:7.0f} KiB  "
            f"{'ok' if ok else 'MISSED'} (target < {TARGET_SECONDS:.0f} s)"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
