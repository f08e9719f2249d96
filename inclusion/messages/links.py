"""Links in messages: absolute, from ``INCLUSION_PUBLIC_BASE_URL`` when it is set (the
worker and cron jobs have no request to take the host from), else from the request."""

from __future__ import annotations

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if has_request_context() and not base:
        return url_for(endpoint, _external=True, **values)
    if not base:
        if current_app.config["INCLUSION_ENV"] == "production":
            raise RuntimeError(
                "Set INCLUSION_PUBLIC_BASE_URL (e.g. https://inclusion.example.org) so "
                "messages queued outside a request can link back to the app."
            )
        base = "http://localhost:5000"
    with current_app.test_request_context("/", base_url=base):
        return url_for(endpoint, _external=True, **values)
