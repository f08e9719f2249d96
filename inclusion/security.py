"""Security headers on every response; the CSP allows no inline script or style."""

from __future__ import annotations

from flask import has_request_context, request

# Endpoints whose responses hold nothing personal and may be kept by a browser or proxy.
CACHEABLE_ENDPOINTS = frozenset({"static"})

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_security_headers(app) -> None:
    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        _cache_control(response)
        return response


def _cache_control(response) -> None:
    """Nothing but public assets stays in a browser's cache: staff pages, PDFs, CSV, JSON and
    zips hold personal data, and shared computers (libraries, drop-in centres) are common."""
    endpoint = request.endpoint if has_request_context() else None
    if endpoint in CACHEABLE_ENDPOINTS and response.status_code < 400:
        return
    response.headers["Cache-Control"] = "no-store"
    response.headers.pop("Expires", None)
