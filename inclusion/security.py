"""Security headers on every response (the CSP allows no inline script or style), and
what sessions are bound to: the client address as the trusted proxies report it."""

from __future__ import annotations

from hashlib import sha512

from flask import current_app, has_request_context, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import login_manager

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


# ---- sessions and proxies ---------------------------------------------------------


def _session_identifier() -> str:
    """What "strong" session protection binds a session to: the client's address and
    browser. The address is ``request.remote_addr`` only, which ``X-Forwarded-For``
    changes solely through ``ProxyFix`` and only for the configured number of proxies
    (Flask-Login's own identifier believes any ``X-Forwarded-For`` a client sends)."""
    base = f"{request.remote_addr}|{request.headers.get('User-Agent', '')}"
    return sha512(base.encode("utf-8", "replace")).hexdigest()


def _cookies_cannot_work_over_http() -> bool:
    """A browser never sends a ``Secure`` cookie over plain http, so the session (and its
    CSRF token) is missing on every form post."""
    return (
        current_app.config.get("SESSION_COOKIE_SECURE")
        and not request.is_secure
        and current_app.config.get("SESSION_COOKIE_NAME", "session") not in request.cookies
    )


def init_session_security(app) -> None:
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Only the last ``proxies`` entries of X-Forwarded-For / -Proto were written by
        # our own proxies; anything before them came from the client.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    # Flask-Login has no public setting for this; its default trusts X-Forwarded-For.
    login_manager._session_identifier_generator = _session_identifier

    @app.errorhandler(CSRFError)
    def _csrf_failed(err):
        if _cookies_cannot_work_over_http():
            return render_template("accounts/https_needed.html"), 400
        return (
            render_template(
                "error.html",
                code=400,
                title="Something was wrong with that request",
                detail="Go back and try again.",
            ),
            400,
        )
