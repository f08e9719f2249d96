"""Every page of inclusion, as every role, on a 390-px-wide phone.

The pages come from the role matrix (``tests/routes``): each GET route the role is
allowed to open (downloads and sign-out aside), with its ``{placeholders}`` filled
from the demo data the live server holds. On each page we check what a phone or
screen-reader user needs: axe-core finds no serious or critical violation, no sideways scrolling of the page (a wide table may
scroll inside its own region), a label on every field, hints and errors that
``aria-describedby`` points at, ``alt`` on images, one ``<h1>``, and a skip link
or main landmark. All problems are collected and reported together.

The keyboard test tabs through the key forms and checks focus reaches every
field and the submit button, in order, with a visible focus style.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import string
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

import tests.routes as routes_pkg
from tests.browser.conftest import sign_in
from tests.routes import OK

PHONE = {"width": 390, "height": 844}
ROLE_EMAILS = {
    "anon": None,
    "admin": "admin@wdi.example.org",
    "coordinator": "coordinator@wdi.example.org",
    "buddy": "buddy@wdi.example.org",
    "donor": "donor@acme.example.com",
}
DOWNLOADS = (".pdf", ".csv", ".zip", ".json")
NOT_PAGES = {"static", "accounts.logout"}
# Pages beyond the matrix. Staff see record pages in other states, which change the forms
# shown. The matrix refuses the donor a donation's impact only because its donor follows no
# business; the demo donor follows Acme Builders and may open its donations' impact.
STATES = [
    "/residents/{waiting_ref}",
    "/residents/{dp_resident_ref}",
    "/devices/{lend_tag}",
    "/devices/{loan_tag}",
    "/donations/{pledged_donation_ref}",
]
EXTRA_PAGES = {"donor": ["/impact/{donor_donation_ref}"], "admin": STATES, "coordinator": STATES}


def _routes():
    for info in pkgutil.iter_modules(routes_pkg.__path__):
        yield from importlib.import_module(f"tests.routes.{info.name}").ROUTES


def _is_download(route) -> bool:
    path = urlsplit(route.url).path
    return path.endswith(DOWNLOADS) or route.endpoint.endswith(("_pdf", "_csv", "_zip", "_json"))


def pages_for(role: str) -> list[str]:
    """URL templates of every GET page the matrix lets ``role`` open, each once."""
    urls = []
    for route in _routes():
        if route.method != "GET" or route.endpoint in NOT_PAGES or _is_download(route):
            continue
        if route.expect(role) == OK and route.url not in urls:
            urls.append(route.url)
    return urls + EXTRA_PAGES.get(role, [])


def demo_values(app) -> dict[str, object]:
    """Values for the matrix placeholders, read from the demo data of the live server.

    Read at test time (other browser tests change the data), picking records in the
    state the page is about: a ready device to lend, an open loan to extend, …
    """
    from buddies.models import BuddyProfile, Match
    from buddies.practice.models import PracticeSession, SkillTask
    from devices.loans.models import DataBundle, Loan, WaitingListEntry
    from devices.models import Device, Donation, DonorAccount
    from devices.shelf.models import Stocktake
    from inclusion.accounts.models import Organisation, User
    from inclusion.api.models import ApiKey
    from inclusion.extensions import db
    from inclusion.messages.models import Message
    from inclusion.residents.models import Resident

    with app.app_context():
        one = db.session.scalar
        org = one(select(Organisation.id).where(Organisation.code == "WDI"))

        def first(column, *where, order=None):
            model = column.class_
            return one(
                select(column)
                .where(model.organisation_id == org, *where)
                .order_by(order if order is not None else model.id)
                .limit(1)
            )

        donor_user = one(select(User.id).where(User.email == ROLE_EMAILS["donor"]))
        buddy_user = one(select(User.id).where(User.email == ROLE_EMAILS["buddy"]))
        open_loan = one(
            select(Loan).where(Loan.organisation_id == org, Loan.ended_at.is_(None)).limit(1)
        )
        values = dict(
            org_code="wdi",
            resident_ref=first(Resident.reference),
            user_id=one(select(User.id).where(User.email == ROLE_EMAILS["coordinator"])),
            device_tag=first(Device.asset_tag),
            donation_ref=first(Donation.reference),
            pledged_donation_ref=first(Donation.reference, Donation.status == "pledged"),
            buddy_profile_id=first(BuddyProfile.id),
            waiting_ref=first(
                Resident.reference, Resident.status.in_(("referred", "contacted", "assessed"))
            ),
            match_id=first(Match.id, Match.status == "active"),
            dp_resident_ref=first(Resident.reference, Resident.status == "closed"),
            lend_resident_ref=first(
                Resident.reference, Resident.status != "closed", Resident.anonymised_at.is_(None)
            ),
            lend_tag=first(Device.asset_tag, Device.status == "ready"),
            loan_ref=open_loan and open_loan.reference,
            loan_tag=open_loan and open_loan.device.asset_tag,
            bundle_id=first(DataBundle.id, DataBundle.status == "in_stock"),
            waiting_id=first(WaitingListEntry.id, WaitingListEntry.status == "waiting"),
            practice_ref=one(
                select(Resident.reference)
                .join(Match, Match.resident_id == Resident.id)
                .join(BuddyProfile, BuddyProfile.id == Match.buddy_id)
                .where(BuddyProfile.user_id == buddy_user, Match.status == "active")
                .limit(1)
            ),
            donor_donation_ref=one(
                select(Donation.reference)
                .join(DonorAccount, DonorAccount.donor_id == Donation.donor_id)
                .where(DonorAccount.user_id == donor_user)
                .order_by(Donation.status != "processed", Donation.id)
                .limit(1)
            ),
            task_id=first(SkillTask.id),
            alert_session_id=first(PracticeSession.id, PracticeSession.safeguarding_concern),
            api_key_id=first(ApiKey.id, order=ApiKey.revoked_at.is_not(None)),
            message_id=first(Message.id),
            contact_ref=first(Resident.reference, Resident.anonymised_at.is_(None)),
            outcome_ref=first(Resident.reference, Resident.status.in_(("assessed", "supported"))),
            stocktake_id=first(Stocktake.id),
        )
        db.session.remove()
    return {name: value for name, value in values.items() if value is not None}


def make_missing(page, live_server, values: dict) -> dict:
    """Records the demo data lacks, made through the pages as the admin would."""
    if "api_key_id" not in values:
        page.goto(live_server("/admin/api-keys/new"))
        page.get_by_label("Name").fill("Phone check")
        page.get_by_role("button", name="Create key").click()
        page.get_by_role("heading", name=re.compile("Copy the key")).wait_for()
        values = demo_values(live_server.app)
    return values


def fill(template: str, values: dict) -> str | None:
    """The URL with its placeholders filled, or None when one has no demo value."""
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    if names - values.keys():
        return None
    return template.format(**values)


# Runs in the page: every problem a phone or screen-reader user would meet.
AUDIT = """
(width) => {
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '')
      + (el.className && typeof el.className === 'string'
         ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth > width + 1) {
    // Name the culprits: the outermost elements reaching past the edge of the screen.
    const past = (el) => el.getBoundingClientRect().right > width + 1;
    const inScrollBox = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== 'visible') return true;
      }
      return false;
    };
    const culprits = [...document.body.querySelectorAll('*')]
      .filter((el) => past(el) && (el.parentElement === document.body || !past(el.parentElement)))
      .filter((el) => !inScrollBox(el))
      .slice(0, 4).map(name);
    problems.push(`scrolls sideways: ${scrollWidth}px wide (${culprits.join(', ')})`);
  }
  // A box that scrolls sideways inside the page must be reachable and named for keyboard users.
  for (const el of document.body.querySelectorAll('*')) {
    const o = getComputedStyle(el).overflowX;
    if ((o === 'auto' || o === 'scroll') && el.scrollWidth > el.clientWidth + 1
        && !/^(TEXTAREA|SELECT|INPUT)$/.test(el.tagName)
        && !(el.tabIndex >= 0 && (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))) {
      problems.push(`${name(el)} scrolls sideways but is not a focusable, named region`);
    }
  }
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) continue;
    const labelledBy = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    const ok = (el.labels && [...el.labels].some((l) => l.textContent.trim()))
      || (el.getAttribute('aria-label') || '').trim()
      || (labelledBy.length && labelledBy.every((id) => document.getElementById(id)));
    if (!ok) problems.push(`field without a label: ${name(el)}`);
  }
  for (const el of document.querySelectorAll('[aria-describedby]')) {
    for (const id of el.getAttribute('aria-describedby').split(/\\s+/).filter(Boolean)) {
      if (!document.getElementById(id)) problems.push(`${name(el)} is described by missing #${id}`);
    }
  }
  for (const img of document.querySelectorAll('img:not([alt]), input[type=image]:not([alt])')) {
    problems.push(`image without alt: ${img.getAttribute('src')}`);
  }
  const h1s = document.querySelectorAll('h1').length;
  if (h1s !== 1) problems.push(`${h1s} <h1> headings (want exactly one)`);
  const skip = [...document.querySelectorAll('a[href^="#"]')].some(
    (a) => /skip/i.test(a.textContent) && document.getElementById(a.getAttribute('href').slice(1)));
  if (!skip && !document.querySelector('main, [role=main]')) problems.push('no skip link or main landmark');
  return problems;
}
"""


def audit(page) -> list[str]:
    return page.evaluate(AUDIT, PHONE["width"])


# axe-core, vendored from the npm registry (tests/browser/vendor/axe-core, `make vendor`).
# The CSP forbids inline script, so ``page.add_script_tag`` is refused; ``page.evaluate``
# runs the file through the DevTools protocol, which the page's CSP does not govern.
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
AXE_RUN = """
async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `axe ${v.impact} ${v.id}: ${v.help} (`
      + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ') + ')');
}
"""


def axe_violations(page) -> list[str]:
    """Serious and critical accessibility violations axe-core finds on the page."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(AXE_RUN)


@pytest.mark.parametrize("role", list(ROLE_EMAILS))
def test_every_page_works_on_a_phone(page, live_server, role):
    page.set_viewport_size(PHONE)
    if ROLE_EMAILS[role]:
        sign_in(page, live_server, ROLE_EMAILS[role])
    values = demo_values(live_server.app)
    if role == "admin":
        values = make_missing(page, live_server, values)
    failures, unresolved, seen = [], [], 0
    for template in pages_for(role):
        url = fill(template, values)
        if url is None:
            unresolved.append(template)
            continue
        response = page.goto(live_server(url))
        seen += 1
        if response is None or response.status >= 400:
            failures.append(f"{url}: HTTP {response and response.status}")
            continue
        problems = audit(page) + axe_violations(page)
        if problems:
            failures.append(f"{url}:\n    " + "\n    ".join(problems))
    assert not unresolved, f"as {role}, no demo record for: {unresolved}"
    assert seen, f"no pages checked as {role}"
    assert not failures, f"as {role}, {len(failures)} of {seen} pages have problems:\n" + "\n".join(
        failures
    )


# One right-to-left language: every page a signed-out visitor (a resident, a member of the
# public) may open, in Urdu, chosen once with ?lang=ur and then remembered by the cookie.
RTL_LANGUAGE = "ur"


@pytest.mark.parametrize("language", [RTL_LANGUAGE])
def test_every_public_page_works_on_a_phone_right_to_left(page, live_server, language):
    page.set_viewport_size(PHONE)
    values = demo_values(live_server.app)
    failures, unresolved, seen = [], [], 0
    for template in pages_for("anon"):
        url = fill(template, values)
        if url is None:
            unresolved.append(template)
            continue
        # the first page asks with ?lang=, every later one relies on the remembered cookie
        asked = f"{url}{'&' if '?' in url else '?'}lang={language}" if not seen else url
        response = page.goto(live_server(asked))
        seen += 1
        if response is None or response.status >= 400:
            failures.append(f"{url}: HTTP {response and response.status}")
            continue
        html = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
        problems = [] if html == [language, "rtl"] else [f"<html lang dir> is {html}"]
        problems += audit(page) + axe_violations(page)
        if problems:
            failures.append(f"{url}:\n    " + "\n    ".join(problems))
    assert not unresolved, f"no demo record for: {unresolved}"
    assert seen > 3, "the public pages were not checked"
    assert not failures, f"in {language}, {len(failures)} of {seen} pages have problems:\n" + (
        "\n".join(failures)
    )


# ---------------------------------------------------------------------------
# Keyboard: tab through the key forms.

FOCUS_STEP = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  // Focus inside a control's own parts (a date field's calendar button) has the browser's ring.
  if (!el.matches(':focus')) return {key: null};
  const style = getComputedStyle(el);
  const visible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
    || (style.boxShadow && style.boxShadow !== 'none');
  return {key: el.dataset.tabKey || null, visible, tag: el.tagName.toLowerCase(),
          label: el.id || el.getAttribute('name') || el.textContent.trim().slice(0, 30)};
}
"""

# Number the form's fields and its submit button in document order (what Tab should visit).
MARK_FORM = """
(selector) => {
  const form = document.querySelector(selector);
  const radiosSeen = new Map();
  const wanted = [];
  for (const el of form.querySelectorAll('input, select, textarea, button')) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (type === 'hidden' || el.disabled || el.closest('[hidden]')) continue;
    if (!el.checkVisibility()) continue;  // e.g. inside a closed <details>
    if (el.tagName === 'BUTTON' && type !== 'submit' && type !== '') continue;
    if (type === 'radio') {  // one tab stop per radio group, whichever radio holds it
      if (radiosSeen.has(el.name)) { el.dataset.tabKey = radiosSeen.get(el.name); continue; }
      radiosSeen.set(el.name, String(wanted.length));
    }
    el.dataset.tabKey = String(wanted.length);
    wanted.push(el.id || el.getAttribute('name') || el.textContent.trim());
  }
  return wanted;
}
"""


def tab_through(page, form_selector: str) -> list[str]:
    """Tab from the top of the page to the end of the form; the problems met on the way."""
    wanted = page.evaluate(MARK_FORM, form_selector)
    assert wanted, f"no fields in {form_selector}"
    page.evaluate("document.activeElement && document.activeElement.blur()")
    reached, problems = [], []
    for _ in range(len(wanted) + 80):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_STEP)
        if not focused or focused["key"] is None:
            continue
        key = int(focused["key"])
        if not focused["visible"]:
            problems.append(f"no visible focus style on {focused['label']}")
        if key in reached:
            continue
        if reached and key < reached[-1]:
            problems.append(f"{focused['label']} is reached out of order")
        reached.append(key)
        if key == len(wanted) - 1:
            break
    missed = [wanted[i] for i in range(len(wanted)) if i not in reached]
    if missed:
        problems.append(f"never reached with Tab: {missed}")
    return problems


KEY_FORMS = [
    # (role, url template, submit button, refused when sent empty: check the error state too)
    ("anon", "/refer", "Send referral", True),
    ("anon", "/donate", "Send pledge", True),
    ("anon", "/volunteer", "Send application", True),
    # (the lend form comes filled in with the waiting list's suggestion: never send it)
    ("coordinator", "/devices/{lend_tag}/lend", re.compile("^Lend"), False),
    ("buddy", "/practice/residents/{practice_ref}/sessions/new", "Save session", False),
]


def send_empty(page) -> list[str]:
    """Press Enter on the focused submit button: the errors must be announced and linked."""
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return error_state(page)


def error_state(page) -> list[str]:
    """What is wrong with a page showing a refused form, as a phone or screen-reader user meets it."""
    summary = page.locator(".govuk-error-summary")
    if not summary.count():
        return ["an empty form was not refused with an error summary"]
    problems = audit(page)
    if not summary.evaluate("el => el === document.activeElement"):
        problems.append("the error summary does not take focus")
    if not page.locator("[aria-invalid=true][aria-describedby]").count():
        problems.append("no field is marked invalid and linked to its error")
    return problems


# Staff forms that refuse an empty submission (nothing is saved), with their submit button.
STAFF_FORMS = {
    "/residents/new": "Save referral",
    "/devices/new": "Add device",
    "/bundles/new": "Add to stock",
    "/bundles/import": "Check and add",
    "/waiting-list/new": "Add to the list",
    "/admin/users/invite": "Create account and link",
    "/admin/api-keys/new": "Create key",
}


def test_staff_forms_sent_empty_show_linked_errors_on_a_phone(page, live_server):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, ROLE_EMAILS["admin"])
    failures = []
    for url, button in STAFF_FORMS.items():
        page.goto(live_server(url))
        with page.expect_navigation():
            page.locator("main").get_by_role("button", name=button).click()
        problems = error_state(page)
        if problems:
            failures.append(f"{url}:\n    " + "\n    ".join(problems))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ["anon", "coordinator", "buddy"])
def test_key_forms_work_by_keyboard(page, live_server, role):
    page.set_viewport_size(PHONE)
    if ROLE_EMAILS[role]:
        sign_in(page, live_server, ROLE_EMAILS[role])
    values = demo_values(live_server.app)
    failures = []
    for form_role, template, button, refused_empty in KEY_FORMS:
        if form_role != role:
            continue
        url = fill(template, values)
        assert url, f"no demo record for {template}"
        page.goto(live_server(url))
        submit = page.locator("main form").get_by_role("button", name=button).last
        form = submit.locator("xpath=ancestor::form[1]")
        form.evaluate("f => f.setAttribute('data-keyboard-check', '')")
        problems = tab_through(page, "form[data-keyboard-check]")
        if refused_empty and not problems:
            problems = send_empty(page)
        if problems:
            failures.append(f"{url}:\n    " + "\n    ".join(problems))
    assert not failures, "\n".join(failures)
