"""Label PDFs: 1,000 QR labels on A4 sheets (3×7 and 5×13) and as 1,000 single labels.

Targets, each measured in the same run (every figure the best of RUNS runs: the machine
may be shared, and the minimum is the least noisy figure):
- under 1 s for every layout, in CPU time: the work itself, what it takes on a quiet machine
  (on a busy one the wall-clock time also counts the waits for a core; it is printed too);
- at most RATIO_TARGET times the floor in wall-clock time: reportlab writing 1,000 blank
  pages, the cost of a 1,000-page PDF with nothing on it, measured here so that a slow or
  busy machine slows both;
- the 1,000-label PDF stays under 200 MB: the peak of Python's allocations while one is made
  (tracemalloc), and the process's peak resident memory while the PDFs are made.

    python benchmarks/labels.py        # prints the figures, exits 1 if a target is missed
"""

from __future__ import annotations

import io
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from devices.labels import SINGLE_SIZE, Label, sheet_pdf, single_pdf  # noqa: E402
from devices.service import TAG_ALPHABET  # noqa: E402

TARGET_SECONDS = 1.0
RATIO_TARGET = 4.0
MEMORY_TARGET_MB = 200
COUNT = 1000
RUNS = 5


def _labels() -> list[Label]:
    labels = []
    for n in range(COUNT):
        tag = "IN-" + "".join(TAG_ALPHABET[(n // 32**i) % 32] for i in range(4))
        labels.append(Label(tag, f"https://inclusion.example.org/d/{tag}", "WDI"))
    return labels


def blank_pages() -> bytes:
    """The floor: 1,000 blank label-sized pages, compressed as the labels are."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=SINGLE_SIZE, pageCompression=1)
    for _ in range(COUNT):
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def best_of(build) -> tuple[float, float, bytes]:
    """(best wall-clock seconds, best CPU seconds, the PDF) over RUNS runs."""
    wall = cpu = float("inf")
    pdf = b""
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        pdf = build()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return wall, cpu, pdf


def peak_traced_mb(build) -> float:
    tracemalloc.start()
    try:
        build()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> int:
    started_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    labels = _labels()
    builds = (
        ("A4 3x7 sheets", lambda: sheet_pdf(labels, "3x7")),
        ("A4 5x13 sheets", lambda: sheet_pdf(labels, "5x13")),
        ("single 62x29 mm", lambda: single_pdf(labels)),
    )
    missed = False
    floor, floor_cpu, _ = best_of(blank_pages)
    print(f"floor: {COUNT} blank pages   {floor:6.3f} s  (CPU {floor_cpu:.3f} s)")
    for name, build in builds:
        wall, cpu, pdf = best_of(build)
        ratio = wall / floor
        ok = cpu < TARGET_SECONDS and ratio <= RATIO_TARGET
        missed |= not ok
        print(
            f"{COUNT} labels, {name:16} {wall:6.3f} s  (CPU {cpu:.3f} s)  {ratio:4.1f}× floor  "
            f"{len(pdf) / 1024:5.0f} KiB  {'ok' if ok else 'MISSED'} "
            f"(target: CPU < {TARGET_SECONDS:.0f} s and ≤ {RATIO_TARGET:.0f}× floor)"
        )
    # Before tracemalloc, whose own bookkeeping would count as the PDFs' memory.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    for name, build in builds:
        traced = peak_traced_mb(build)
        ok = traced < MEMORY_TARGET_MB
        missed |= not ok
        print(
            f"memory, {name:16} peak allocated {traced:6.1f} MB  "
            f"{'ok' if ok else 'MISSED'} (target < {MEMORY_TARGET_MB} MB)"
        )
    ok = rss < MEMORY_TARGET_MB
    missed |= not ok
    print(
        f"memory, the process making them: peak resident {rss:6.1f} MB "
        f"({started_rss:.0f} MB after imports)  "
        f"{'ok' if ok else 'MISSED'} (target < {MEMORY_TARGET_MB} MB)"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
