"""Reports routes: the page, its downloads and the yearly targets (staff of any
organisation see their own organisation's report)."""

from __future__ import annotations

from . import staff


def arrange(world) -> None:
    """The report needs no records: each organisation's staff see their own figures."""


ROUTES = [
    staff("reports.index", "/reports/"),
    staff("reports.download_csv", "/reports/report.zip"),
    staff("reports.download_pdf", "/reports/report.pdf"),
    staff("reports.targets", "/reports/targets"),
    staff("reports.save_targets", "/reports/targets", "POST"),
]
