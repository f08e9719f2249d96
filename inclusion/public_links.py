"""Each organisation's own public links, and the address printed on labels and letters.

Public forms (refer, donate, volunteer) never guess which organisation a person belongs
to. Each organisation has its own links, ``/o/<code>/refer`` and so on, built from its
short code; the shared forms (``/refer``) ask for an explicit choice when the deployment
serves several organisations, and go to the only one when it serves one.

Features register their public forms in the registry (``add_public_form`` in their
``init_app``) so the settings page can list every link without the core knowing them.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import abort, current_app, request, url_for
from flask_babel import lazy_gettext as _
from sqlalchemy import func, select

from .accounts.models import Organisation
from .extensions import db
from .registry import registry
from .validators import normalise_postcode, postcode_district


def public_base_url() -> str:
    """The address people outside reach the app at: ``INCLUSION_PUBLIC_BASE_URL``, or else
    the address this request came in on."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").strip().rstrip("/")
    return base or request.url_root.rstrip("/")


def public_url(endpoint: str, **values) -> str:
    """An absolute link for print (QR codes, letters, receipts) on the public address."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").strip().rstrip("/")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def organisation_links(org: Organisation) -> list[tuple[str, str]]:
    """(label, absolute URL) of every public form, for this organisation."""
    return [
        (form.label, public_url(form.endpoint, code=org.code.lower()))
        for form in registry().public_forms
    ]


def organisation_by_code(code: str) -> Organisation:
    """The organisation a public link names (its short code, any case), or 404."""
    org = db.session.scalar(
        select(Organisation).where(func.upper(Organisation.code) == (code or "").strip().upper())
    )
    if org is None:
        abort(404)
    return org


def organisation_for_form(form, code: str | None) -> Organisation | None:
    """Set up a public form's ``organisation`` field; return the organisation when it is
    already known.

    Known from the link (``/o/<code>/…``) or because the deployment has only one: the field
    is removed. Otherwise it offers every organisation with no default, so the person must
    choose (the field's own validator refuses an empty choice).
    """
    if code:
        del form.organisation
        return organisation_by_code(code)
    orgs = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    if len(orgs) == 1:
        del form.organisation
        return orgs[0]
    form.organisation.choices = [("", _("Choose…")), *[(o.id, o.name) for o in orgs]]
    return None


def hint_by_postcode(form) -> None:
    """Help, never a default: on a refused shared form, name the organisations that say
    they serve the postcode typed, next to the organisation field."""
    if form.organisation is None:
        return
    postcode = normalise_postcode(getattr(form, "postcode", None) and form.postcode.data or "")
    if postcode is None:
        return
    district = postcode_district(postcode)
    names = [
        o.name
        for o in db.session.scalars(select(Organisation).order_by(Organisation.name))
        if district in (o.areas or [])
    ]
    if names:
        form.organisation.description = _(
            "%(postcode)s is in the area served by %(organisations)s.",
            postcode=postcode,
            organisations=" / ".join(names),
        )


def chosen_organisation(form, known: Organisation | None) -> Organisation:
    """After validation: the organisation the form goes to."""
    return known or db.session.get(Organisation, form.organisation.data)


def organisation_choice(value):
    """``coerce`` for an organisation select: the blank "Choose…" option is ``None``."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a choice: the select refuses it


def printed_address_warnings() -> list[str]:
    """What is wrong with the address QR codes are printed with, checked before printing."""
    return base_url_warnings(
        public_base_url(), production=current_app.config.get("INCLUSION_ENV") == "production"
    )


def base_url_warnings(base: str, *, production: bool) -> list[str]:
    """Plain-words reasons a printed QR code on ``base`` would not work for the public."""
    parts = urlsplit(base)
    host = (parts.hostname or "").lower()
    warnings = []
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host == "localhost" or host.endswith(".localhost") or (address and address.is_loopback):
        warnings.append(
            f"The QR codes would point at {base}, which only this computer can open. "
            "A phone that scans the label cannot reach it."
        )
    elif address and (address.is_private or address.is_link_local):
        warnings.append(
            f"The QR codes would point at {base}, a private network address. "
            "Phones outside your building's network cannot open it."
        )
    elif host and "." not in host:
        warnings.append(
            f"The QR codes would point at {base}, a name that only works inside your network."
        )
    if production and parts.scheme != "https":
        warnings.append(
            f"The QR codes would point at {base}, which does not start with https://. "
            "Phones will say the page is not secure."
        )
    return warnings
