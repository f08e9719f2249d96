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
