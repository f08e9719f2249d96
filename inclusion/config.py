"""Configuration, read once from ``INCLUSION_*`` environment variables."""

from __future__ import annotations

import logging
import math
import os
import secrets
from collections import Counter
from pathlib import Path

log = logging.getLogger(__name__)

GENERATE_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """The deployment is configured in a way that must not start."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env, name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum}, not {raw!r}.")
    return value


def secret_key_problem(secret: str) -> str | None:
    """Why ``secret`` cannot sign production sessions, or ``None``.

    Anyone who guesses the key can forge a session for any account, so it must be
    long and random-looking: at least 32 characters, at least 8 different ones,
    varied (Shannon entropy of 2.5 bits per character; a generated hex key has about
    3.6, ``token_urlsafe`` about 5) and not one short piece repeated.
    """
    if len(secret) < MIN_SECRET_LENGTH:
        return f"it has {len(secret)} characters and needs at least {MIN_SECRET_LENGTH}"
    counts = Counter(secret)
    entropy = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    repeated = any(
        secret == (secret[:period] * (len(secret) // period + 1))[: len(secret)]
        for period in range(1, len(secret) // 2 + 1)
    )
    if len(counts) < 8 or entropy < 2.5 or repeated:
        return "it is not random enough (too few different characters, or a repeated pattern)"
    return None


def _names(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _pairs(value: str) -> dict[str, str]:
    """``a=1, b=2`` as ``{"a": "1", "b": "2"}`` (an entry without ``=`` is refused)."""
    pairs = {}
    for entry in _names(value):
        key, sep, found = entry.partition("=")
        if not sep or not key.strip() or not found.strip():
            raise ConfigError(f"expected key=value, got {entry!r}")
        pairs[key.strip()] = found.strip()
    return pairs


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment (and test overrides).

    Production (``INCLUSION_ENV=production``) refuses to start without
    ``INCLUSION_SECRET_KEY``: a guessed key would let anyone forge a session.
    """
    env = os.environ
    overrides = dict(overrides or {})
    mode = overrides.pop("ENV", None) or env.get("INCLUSION_ENV", "development")
    if mode not in {"development", "production", "testing"}:
        raise ConfigError(
            f"INCLUSION_ENV must be development, production or testing, not {mode!r}."
        )
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    default_db = "sqlite:///" + str(Path(instance_path) / "inclusion.sqlite3")

    secret = env.get("INCLUSION_SECRET_KEY")
    if not secret and mode == "production" and "SECRET_KEY" not in overrides:
        raise ConfigError(
            "INCLUSION_SECRET_KEY is not set. In production inclusion refuses to start "
            "without a secret key: set INCLUSION_SECRET_KEY to a long random value, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    if not secret:
        # Development: a random key kept in the instance folder so sessions survive restarts.
        key_file = Path(instance_path) / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48))
        secret = key_file.read_text().strip()

    production = mode == "production"
    if production:
        problem = secret_key_problem(overrides.get("SECRET_KEY", secret))
        if problem:
            raise ConfigError(
                f"INCLUSION_SECRET_KEY is too weak for production: {problem}. "
                f"Set it to a long random value, e.g. the output of `{GENERATE_KEY}`."
            )
    config = {
        "INCLUSION_ENV": mode,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": env.get("INCLUSION_DATABASE_URL", default_db),
        # A server's connection may have been closed under the pool (a restart): pinged
        # before use. A SQLite file has no server, so no ping (one statement per request).
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # SQLite: how long a writer waits for another's write lock (seconds), and how many
        # times a request that still found the database busy is run before the
        # "busy, please try again" page.
        "SQLITE_BUSY_TIMEOUT": float(env.get("INCLUSION_SQLITE_BUSY_TIMEOUT", "5")),
        "BUSY_ATTEMPTS": max(1, int(env.get("INCLUSION_BUSY_ATTEMPTS", "3"))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("INCLUSION_SECURE_COOKIES"), production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(env.get("INCLUSION_SECURE_COOKIES"), production),
        "PERMANENT_SESSION_LIFETIME": int(env.get("INCLUSION_SESSION_HOURS", "12")) * 3600,
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": env.get("INCLUSION_RATELIMIT_STORAGE", "memory://"),
        # Worker processes serving the app (gunicorn reads WEB_CONCURRENCY too): with
        # more than one, memory:// rate limits would count per process.
        "WORKERS": _int(env, "INCLUSION_WORKERS", _int(env, "WEB_CONCURRENCY", 1, 1), 1),
        # Proxies in front of the app whose X-Forwarded-For/-Proto are believed; 0 = none.
        "TRUSTED_PROXIES": _int(env, "INCLUSION_TRUSTED_PROXIES", 0),
        # Where the reports' figures are kept between changes (inclusion/reports/cache.py):
        # empty = each worker's memory; redis://... = shared by every worker.
        "CACHE_URL": env.get("INCLUSION_CACHE_URL", ""),
        # A signed-in page opened again before its organisation changed is answered from
        # the worker's memory (inclusion/pagecache.py): on/off, how long at most, how many.
        "PAGE_CACHE": _bool(env.get("INCLUSION_PAGE_CACHE"), mode != "testing"),
        "PAGE_CACHE_SECONDS": _int(env, "INCLUSION_PAGE_CACHE_SECONDS", 60, 1),
        "PAGE_CACHE_ENTRIES": _int(env, "INCLUSION_PAGE_CACHE_ENTRIES", 256, 1),
        "PAGE_CACHE_MB": _int(env, "INCLUSION_PAGE_CACHE_MB", 64, 1),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": False,
        "LOGIN_LIMIT": env.get("INCLUSION_LOGIN_LIMIT", "5 per minute"),
        # Argon2 cost; tests lower it so a suite of sign-ins stays fast.
        "PASSWORD_TIME_COST": int(env.get("INCLUSION_PASSWORD_TIME_COST", "3")),
        "PASSWORD_MEMORY_COST": int(env.get("INCLUSION_PASSWORD_MEMORY_COST", "65536")),
        "INVITATION_DAYS": int(env.get("INCLUSION_INVITATION_DAYS", "7")),
        "PER_PAGE": int(env.get("INCLUSION_PER_PAGE", "25")),
        # The most a request may send (413 beyond it), and a CSV import file (inclusion.uploads).
        "MAX_CONTENT_LENGTH": int(env.get("INCLUSION_MAX_REQUEST_BYTES", str(2 * 1024 * 1024))),
        "MAX_IMPORT_BYTES": int(env.get("INCLUSION_MAX_IMPORT_BYTES", str(8 * 1024 * 1024))),
        "PUBLIC_BASE_URL": env.get("INCLUSION_PUBLIC_BASE_URL", ""),
        "ASSET_TAG_PREFIX": env.get("INCLUSION_ASSET_TAG_PREFIX", "IN"),
        "DBS_RENEWAL_YEARS": int(env.get("INCLUSION_DBS_RENEWAL_YEARS", "3")),
        # Referrals a partner system may send per API key (flask-limiter syntax).
        "API_RATE_LIMIT": env.get("INCLUSION_API_RATE_LIMIT", "60 per minute"),
        # Messages (inclusion/messages): SMS through GOV.UK Notify, e-mail over SMTP.
        "NOTIFY_API_KEY": env.get("INCLUSION_NOTIFY_API_KEY", ""),
        "NOTIFY_SMS_TEMPLATE_ID": env.get("INCLUSION_NOTIFY_SMS_TEMPLATE_ID", ""),
        "NOTIFY_BASE_URL": env.get(
            "INCLUSION_NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk"
        ),
        # The bearer token GOV.UK Notify sends with its delivery-status callbacks (set the
        # same in Notify's "Callbacks for delivery receipts"); without it they are refused.
        "NOTIFY_CALLBACK_TOKEN": env.get("INCLUSION_NOTIFY_CALLBACK_TOKEN", ""),
        "NOTIFY_CALLBACK_LIMIT": env.get("INCLUSION_NOTIFY_CALLBACK_LIMIT", "600 per minute"),
        "SMTP_HOST": env.get("INCLUSION_SMTP_HOST", ""),
        "SMTP_PORT": _int(env, "INCLUSION_SMTP_PORT", 587, 1),
        "SMTP_USERNAME": env.get("INCLUSION_SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("INCLUSION_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(env.get("INCLUSION_SMTP_STARTTLS"), True),
        "SMTP_CA_FILE": env.get("INCLUSION_SMTP_CA_FILE", ""),
        "SMTP_FROM": env.get("INCLUSION_SMTP_FROM", ""),
        # Seconds a provider may take to answer one message before the attempt counts
        # as failed (and is retried).
        "MESSAGE_TIMEOUT": _int(env, "INCLUSION_MESSAGE_TIMEOUT", 10, 1),
        "MESSAGE_ATTEMPTS": _int(env, "INCLUSION_MESSAGE_ATTEMPTS", 5, 1),
        # The first retry waits this long; each later one twice as long as the one before.
        "MESSAGE_RETRY_SECONDS": _int(env, "INCLUSION_MESSAGE_RETRY_SECONDS", 60, 0),
        # Without SMTP or Notify settings, messages go to the development outbox (shown on
        # the Messages page, never sent). Off in production: there a channel is off.
        "MESSAGES_DEVELOPMENT_OUTBOX": _bool(
            env.get("INCLUSION_MESSAGES_DEVELOPMENT_OUTBOX"), mode != "production"
        ),
        # Local time for quiet hours (no texts before 09:00 or after 20:00).
        "TIMEZONE": env.get("INCLUSION_TIMEZONE", "Europe/London"),
        "PASSWORD_RESET_LIMIT": env.get("INCLUSION_PASSWORD_RESET_LIMIT", "5 per hour"),
        # SNOMED CT ids a deployment sets or corrects (``key=id,…``; keys and the checked
        # ids in outcomes/snomed.py).
        "SNOMED_IDS": _pairs(env.get("INCLUSION_SNOMED_IDS", "")),
        # Feature packages the app loads, each registering itself (inclusion/registry.py).
        "FEATURES": _names(env.get("INCLUSION_FEATURES", "devices,buddies,outcomes")),
    }
    if mode == "testing":
        config.update(
            TESTING=True,
            PASSWORD_TIME_COST=1,
            PASSWORD_MEMORY_COST=64,
            SESSION_COOKIE_SECURE=False,
            REMEMBER_COOKIE_SECURE=False,
        )
    config.update(overrides)
    if not str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            **config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    if production:
        _check_rate_limit_storage(config)
    return config


def _check_rate_limit_storage(config: dict) -> None:
    """Failed sign-ins are counted in the rate-limit storage: ``memory://`` counts per
    process, so N workers would allow N times the limit."""
    if not config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        return
    if config["WORKERS"] > 1:
        raise ConfigError(
            f"{config['WORKERS']} workers (INCLUSION_WORKERS / WEB_CONCURRENCY) with "
            "INCLUSION_RATELIMIT_STORAGE=memory:// would count failed sign-ins per worker "
            f"and allow {config['WORKERS']} times the limit. Set INCLUSION_RATELIMIT_STORAGE "
            "to shared storage, e.g. redis://127.0.0.1:6379/0."
        )
    log.warning(
        "Sign-in rate limits are kept in memory (INCLUSION_RATELIMIT_STORAGE=memory://): "
        "fine for ONE worker process only. With several gunicorn workers set "
        "INCLUSION_RATELIMIT_STORAGE=redis://... and INCLUSION_WORKERS (or WEB_CONCURRENCY) "
        "to the number of workers."
    )
