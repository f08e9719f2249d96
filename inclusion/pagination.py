"""Every list's page number, clamped in one place: ``db.paginate`` goes through here.

``?page=99999999999999999999`` would otherwise reach the database as an OFFSET larger than
its integers (a 500 on every list); a page past the last one shows the last page."""

from __future__ import annotations

from flask import has_request_context, request

# No list has this many pages; it keeps OFFSET well inside every database's integer.
MAX_PAGE = 100_000


def clamp_page(value) -> int:
    try:
        page = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), MAX_PAGE)


def requested_page() -> int:
    return clamp_page(request.args.get("page", 1)) if has_request_context() else 1


def clamped_paginate(paginate, select, *, page=None, **options):
    """``paginate`` (Flask-SQLAlchemy's) at a page that exists: 1 to the last page."""
    page = requested_page() if page is None else clamp_page(page)
    options["error_out"] = False
    result = paginate(select, page=page, **options)
    if page > 1 and not result.items and result.pages:
        result = paginate(select, page=result.pages, **options)
    return result


class ListPage:
    """One page of a list already built in Python (the call list groups rows by resident),
    with the attributes the ``pagination`` macro reads; a page past the last shows the last."""

    def __init__(self, items: list, *, page=None, per_page: int = 25):
        self.per_page = max(int(per_page), 1)
        self.total = len(items)
        self.pages = max((self.total + self.per_page - 1) // self.per_page, 1)
        self.page = min(requested_page() if page is None else clamp_page(page), self.pages)
        start = (self.page - 1) * self.per_page
        self.items = items[start : start + self.per_page]
        self.has_prev = self.page > 1
        self.has_next = self.page < self.pages
        self.prev_num = self.page - 1 if self.has_prev else None
        self.next_num = self.page + 1 if self.has_next else None

    def iter_pages(self, *, left_edge=2, left_current=2, right_current=4, right_edge=2):
        """Page numbers with ``None`` for a gap, as Flask-SQLAlchemy's ``iter_pages``."""
        previous = 0
        for n in range(1, self.pages + 1):
            if (
                n <= left_edge
                or self.page - left_current <= n <= self.page + right_current
                or n > self.pages - right_edge
            ):
                if previous and n - previous > 1:
                    yield None
                yield n
                previous = n
