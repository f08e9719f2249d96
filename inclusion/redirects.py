"""Where to send someone after signing in: only a path on this site.

``next=`` comes from the address bar, so it may name another host (``//evil.example``,
``/\\evil.example``, which browsers read as ``//``) or carry a CR/LF that no response
header may hold (a 500 after a good sign-in). Anything but a plain local path is ignored."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, otherwise ``default``."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return default
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target) or "\\" in target:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    try:
        parts = urlsplit(target)
    except ValueError:
        return default
    if parts.scheme or parts.netloc:
        return default
    return target
