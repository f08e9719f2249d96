"""The rules of the buddies package: applications, review, activation, matches.

Every state change is a function here that changes objects, records an audit
event and flushes; the request (or CLI command) commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, timedelta

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from inclusion import audit
from inclusion.accounts import service as accounts
from inclusion.accounts.models import BUDDY, Organisation, User
from inclusion.clock import now, today
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.kept import kept_for_scope
from inclusion.residents.models import Resident
from inclusion.residents.service import (
    is_open_case,
    lock_resident,
    open_case,
    refuse_if_closed,
)
from inclusion.workflow import transition

from .models import (
    BUDDY_TRANSITIONS,
    END_REASONS,
    MATCH_TRANSITIONS,
    OPEN_MATCH_STATUSES,
    TRAINING_KINDS,
    BuddyProfile,
    BuddyTraining,
    Match,
    MatchingNeeds,
)

# ---- who is whose -----------------------------------------------------------------


def buddy_profile_of(user) -> BuddyProfile | None:
    """The buddy profile linked to ``user``'s account, or ``None``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(BuddyProfile).where(BuddyProfile.user_id == user.id))


def residents_of_buddy(user):
    """A ``select()`` of the residents with an ACTIVE match to ``user``'s buddy profile."""
    return (
        select(Resident)
        .join(Match, Match.resident_id == Resident.id)
        .join(BuddyProfile, BuddyProfile.id == Match.buddy_id)
        .where(BuddyProfile.user_id == user.id, Match.status == "active")
        .order_by(Resident.first_name, Resident.last_name, Resident.id)
    )


def buddy_home_matches(user):
    """A ``select()`` of the ACTIVE matches of ``user``'s buddy profile, the next planned
    visit first (those with none planned last), then by the resident's name."""
    return (
        select(Match)
        .join(Resident, Resident.id == Match.resident_id)
        .join(BuddyProfile, BuddyProfile.id == Match.buddy_id)
        .where(BuddyProfile.user_id == user.id, Match.status == "active")
        .order_by(
            Match.next_visit_on.is_(None),
            Match.next_visit_on,
            Resident.first_name,
            Resident.last_name,
            Resident.id,
        )
    )


def buddy_matched(user, resident) -> bool:
    """True when ``user`` is the buddy of an ACTIVE match with ``resident``
    (registered as a resident-access check, used by ``can_view_resident``)."""
    if user is None or resident is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(
        db.session.scalar(
            select(
                exists()
                .where(Match.resident_id == resident.id, Match.status == "active")
                .where(Match.buddy_id == BuddyProfile.id, BuddyProfile.user_id == user.id)
            )
        )
    )


# ---- locks ----------------------------------------------------------------------------


def _lock(obj):
    """Lock ``obj``'s row for the rest of the transaction and re-read it, so a rule is
    checked against what another desk has just committed (PostgreSQL; SQLite has one
    writer anyway)."""
    db.session.scalars(
        select(type(obj))
        .where(type(obj).id == obj.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()  # the rows must be read for the refresh to happen
    return obj


# ---- applications and review --------------------------------------------------------

PROFILE_FIELDS = (
    "name",
    "email",
    "phone",
    "areas",
    "languages",
    "skills",
    "access_experience",
    "availability",
    "visit_modes",
    "caseload_limit",
    "about",
)


def apply_to_volunteer(organisation, data: dict) -> BuddyProfile:
    """A volunteer's application from the public form: a profile in status applicant.

    One open application per email and organisation; a second one changes nothing and is
    not refused, so the answer never reveals whether an address has applied. Applications
    to one organisation are serialised on its row (``FOR NO KEY UPDATE``, which leaves the
    organisation's other work alone), so the same form sent twice at once makes one."""
    db.session.execute(
        select(Organisation.id)
        .where(Organisation.id == organisation.id)
        .with_for_update(key_share=True)
    )
    values = {k: data[k] for k in PROFILE_FIELDS if k in data}
    email = accounts.normalise_email(values.get("email", ""))
    if not email:
        raise RuleBroken("Enter your email address.", "email")
    values["email"] = email
    if not values.get("languages"):
        raise RuleBroken("Tell us at least one language you speak.", "languages")
    existing = db.session.scalar(
        select(BuddyProfile).where(
            BuddyProfile.organisation_id == organisation.id,
            BuddyProfile.email == email,
            BuddyProfile.status.in_(("applicant", "active", "paused")),
        )
    )
    if existing is not None:
        # The public form answers the same either way, so it never tells a stranger who
        # has applied; the open application is kept as it was (a stranger cannot
        # overwrite it) and the coordinator sees the second attempt in the audit log.
        audit.record("buddy.applied_again", existing, changed=[])
        db.session.flush()
        return existing
    profile = BuddyProfile(organisation_id=organisation.id, status="applicant", **values)
    db.session.add(profile)
    db.session.flush()
    audit.record("buddy.applied", profile, changed=list(values), actor=audit.PUBLIC)
    return profile


def update_profile(profile: BuddyProfile, data: dict, *, by=None) -> list[str]:
    """A coordinator corrects a profile; returns the names of the fields that changed."""
    if "email" in data:
        data = dict(data, email=accounts.normalise_email(data["email"]))
    for field in PROFILE_FIELDS:
        if field in data:
            setattr(profile, field, data[field])
    changed = audit.changed_fields(profile, [f for f in PROFILE_FIELDS if f in data])
    if changed:
        audit.record("buddy.updated", profile, changed=changed, actor=by)
        db.session.flush()
    return changed


def renewal_due(issued_on: date) -> date:
    """The DBS renewal date: ``DBS_RENEWAL_YEARS`` after issue (29 Feb → 28 Feb)."""
    years = current_app.config["DBS_RENEWAL_YEARS"]
    try:
        return issued_on.replace(year=issued_on.year + years)
    except ValueError:
        return issued_on.replace(year=issued_on.year + years, day=28)


def record_dbs(
    profile: BuddyProfile, *, level: str, certificate: str, issued_on: date, by=None
) -> None:
    """Record the buddy's DBS check; the renewal date follows from the issue date.

    A renewal never replaces a newer check with an older one (two desks recording
    renewals at once, or an old certificate found in a drawer): a different
    certificate issued before the one on record is refused. The same certificate may
    be corrected.
    """
    _lock(profile)
    if issued_on > today():
        raise RuleBroken("The issue date cannot be in the future.", "issued_on")
    certificate = (certificate or "").strip()
    if not (certificate.isdigit() and len(certificate) == 12):
        raise RuleBroken("A DBS certificate number has 12 digits.", "certificate")
    if (
        profile.dbs_issued_on is not None
        and issued_on < profile.dbs_issued_on
        and certificate != profile.dbs_certificate
    ):
        raise RuleBroken(
            f"A newer DBS check (issued {profile.dbs_issued_on:%d %b %Y}) is already recorded.",
            "issued_on",
        )
    profile.dbs_level = level
    profile.dbs_certificate = certificate
    profile.dbs_issued_on = issued_on
    profile.dbs_renewal_due = renewal_due(issued_on)
    audit.record(
        "buddy.dbs_recorded",
        profile,
        changed=["dbs_level", "dbs_certificate", "dbs_issued_on", "dbs_renewal_due"],
        actor=by,
    )
    db.session.flush()


def record_training(
    profile: BuddyProfile, *, kind: str, completed_on: date, provider: str = "", by=None
) -> BuddyTraining:
    if kind not in TRAINING_KINDS:
        raise RuleBroken("Choose the training.", "kind")
    if completed_on > today():
        raise RuleBroken("The completion date cannot be in the future.", "completed_on")
    training = BuddyTraining(
        organisation_id=profile.organisation_id,
        buddy=profile,
        kind=kind,
        completed_on=completed_on,
        provider=(provider or "").strip(),
        recorded_by_id=by.id if by is not None else None,
    )
    db.session.add(training)
    db.session.flush()
    audit.record("buddy.training_recorded", profile, changed=["trainings"], actor=by)
    return training


def activation_problems(profile: BuddyProfile, on: date | None = None) -> list[str]:
    """Why ``profile`` cannot be active yet: a current DBS and both trainings are needed."""
    on = on or today()
    problems = []
    if not profile.dbs_level:
        problems.append("Record a DBS check first.")
    elif not profile.dbs_current(on):
        problems.append("The DBS check is due for renewal: record the new certificate.")
    for kind, label in TRAINING_KINDS.items():
        if profile.latest_training(kind) is None:
            problems.append(f"Record {label.lower()} training first.")
    return problems


def change_status(profile: BuddyProfile, new_status: str, *, by=None) -> None:
    """Move a buddy along applicant → active → paused → left.

    Becoming active needs a current DBS check and both trainings. Pausing ends
    nothing (a paused buddy keeps their residents but gets no new ones); leaving
    refuses while any match is still open, and deactivates the buddy's account.
    The profile is locked first, as ``propose_match`` locks it, so a buddy never
    leaves while a proposal for them is being made.
    """
    _lock(profile)
    if new_status == "active":
        problems = activation_problems(profile)
        if problems:
            raise RuleBroken(" ".join(problems), "status")
    if new_status == "left":
        open_count = db.session.scalar(
            select(func.count())
            .select_from(Match)
            .where(Match.buddy_id == profile.id, Match.status.in_(OPEN_MATCH_STATUSES))
        )
        if open_count:
            raise RuleBroken(
                ngettext(
                    "End this buddy's open match before they leave.",
                    "End this buddy's %(num)d open matches before they leave.",
                    open_count,
                ),
                "status",
            )
    transition(
        profile,
        new_status,
        BUDDY_TRANSITIONS,
        action=f"buddy.{new_status}",
        extra_changed=["status_changed_at"],
        actor=by,
    )
    profile.status_changed_at = now()
    if new_status == "left" and profile.user is not None and profile.user.active:
        # Least privilege: someone who has left keeps no way in.
        profile.user.active = False
        audit.record("user.deactivated", profile.user, changed=["active"], actor=by)
    db.session.flush()


def invite_buddy(profile: BuddyProfile, *, by: User) -> str:
    """Give an active buddy an account (role buddy); returns the one-time link token.
    The profile is locked first, so two desks inviting at once make one account."""
    _lock(profile)
    if profile.status != "active":
        raise RuleBroken("Only an active buddy can be invited to an account.")
    if profile.user_id is not None:
        raise RuleBroken("This buddy already has an account.")
    user, token = accounts.invite_user(
        profile.organisation, email=profile.email, name=profile.name, role=BUDDY, by=by
    )
    profile.user_id = user.id
    audit.record("buddy.account_linked", profile, changed=["user_id"], actor=by)
    db.session.flush()
    return token


# ---- matches ------------------------------------------------------------------------


def open_places(profile: BuddyProfile, open_matches: int) -> int:
    return max(profile.caseload_limit - open_matches, 0)


def open_match_counts(buddy_ids=None) -> dict[int, int]:
    """buddy id -> number of proposed or active matches (both hold a place)."""
    stmt = (
        select(Match.buddy_id, func.count())
        .where(Match.status.in_(OPEN_MATCH_STATUSES))
        .group_by(Match.buddy_id)
    )
    if buddy_ids is not None:
        stmt = stmt.where(Match.buddy_id.in_(list(buddy_ids)))
    return dict(db.session.execute(stmt).all())


def waiting_residents():
    """THE definition of a resident waiting for a buddy (the buddy waiting list): needs
    skills, is an open case (not closed, not erased), and has no proposed or active
    match. Closing a case takes the resident off it."""
    return (
        select(Resident)
        .where(
            Resident.needs_skills.is_(True),
            open_case(),
            ~exists().where(
                Match.resident_id == Resident.id, Match.status.in_(OPEN_MATCH_STATUSES)
            ),
        )
        .order_by(Resident.referral_date, Resident.id)
    )


def is_waiting(resident: Resident) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(Resident.id == resident.id).where(waiting_residents().whereclause)
            )
        )
    )


def _has_open_match(resident: Resident) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Match.resident_id == resident.id, Match.status.in_(OPEN_MATCH_STATUSES)
                )
            )
        )
    )


def refuse_unless_waiting(resident: Resident) -> None:
    """Why ``resident`` cannot be offered a buddy, as a refusal: a closed case first
    (nothing is offered to a closed case), then no skills need, then an open match."""
    refuse_if_closed(resident, "resident")
    if not resident.needs_skills:
        raise RuleBroken(
            f"{resident.full_name} has not asked for help with skills: edit their needs first.",
            "resident",
        )
    if _has_open_match(resident):
        raise RuleBroken(
            f"{resident.full_name} already has a proposed or active match.", "resident"
        )


def waiting_refusal(resident: Resident) -> str | None:
    """The message of ``refuse_unless_waiting`` (for a page), or ``None`` when waiting."""
    try:
        refuse_unless_waiting(resident)
    except RuleBroken as err:
        return err.message
    return None


def propose_match(
    resident: Resident,
    buddy: BuddyProfile,
    *,
    score: float,
    reasons: list,
    fit: int | None = None,
    by=None,
) -> Match:
    """Propose ``buddy`` for ``resident``, keeping the score and reasons as they are now.

    The resident must be waiting (an open case, needing skills, without an open match)
    and the buddy active with a free place. Both rows are locked (resident first, then
    buddy, the order every match rule uses), so two desks proposing at once are
    checked one after the other; the partial unique index on open matches backs it,
    and its violation is a refusal too, never a 500.
    """
    lock_resident(resident)
    refuse_unless_waiting(resident)
    _lock(buddy)
    if buddy.status != "active":
        raise RuleBroken(f"{buddy.name} is not an active buddy.", "buddy")
    if open_places(buddy, open_match_counts([buddy.id]).get(buddy.id, 0)) < 1:
        raise RuleBroken(f"{buddy.name} has no free places.", "buddy")
    match = Match(
        organisation_id=resident.organisation_id,
        resident_id=resident.id,
        buddy_id=buddy.id,
        status="proposed",
        score=float(score),
        reasons=list(reasons),
        fit=None if fit is None else int(fit),
        proposed_by_id=by.id if by is not None else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(match)
    except IntegrityError:
        raise RuleBroken(
            f"{resident.full_name} already has a proposed or active match.", "resident"
        ) from None
    audit.record("match.proposed", match, changed=["status", "score", "reasons", "fit"], actor=by)
    return match


def active_match_count(buddy: BuddyProfile) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Match)
        .where(Match.buddy_id == buddy.id, Match.status == "active")
    )


def confirm_match(match: Match, *, by) -> None:
    """A coordinator confirms a proposal: the match becomes active.

    The match and then its buddy are locked, so a proposal is confirmed once, never
    after it was declined, and two confirmations for one buddy at once never take
    more places than the buddy's caseload limit (which may have been lowered since
    the proposals). A closed case is never given a buddy.
    """
    _lock(match)
    if match.status != "proposed":
        raise RuleBroken(
            "This proposal has already been "
            + ("confirmed." if match.status == "active" else "ended."),
            "status",
        )
    refuse_if_closed(match.resident, "status")
    buddy = _lock(match.buddy)
    if buddy.status != "active":
        raise RuleBroken(f"{buddy.name} is not active any more.", "status")
    active = active_match_count(buddy)
    if active >= buddy.caseload_limit:
        raise RuleBroken(
            f"{buddy.name} has no free places: {active} of {buddy.caseload_limit} taken.",
            "status",
        )
    transition(
        match,
        "active",
        MATCH_TRANSITIONS,
        action="match.confirmed",
        extra_changed=["confirmed_by_id", "started_at"],
        actor=by,
    )
    match.confirmed_by_id = by.id if by is not None else None
    match.started_at = now()
    db.session.flush()


def end_match(match: Match, *, reason: str, note: str = "", by=None) -> None:
    """End a proposed or active match, saying why (declining a proposal is ending it).

    The match is locked first, so two desks ending (or one confirming) it at once are
    serialised: a match is ended once, and never confirmed after it ended.
    """
    if reason not in END_REASONS:
        raise RuleBroken("Choose why the match ends.", "reason")
    _lock(match)
    if match.status == "ended":
        raise RuleBroken("This match has already ended.", "reason")
    transition(
        match,
        "ended",
        MATCH_TRANSITIONS,
        action="match.ended",
        extra_changed=["ended_at", "end_reason", "end_note", "ended_by_id"],
        actor=by,
    )
    match.ended_at = now()
    match.end_reason = reason
    match.end_note = (note or "").strip()
    match.ended_by_id = by.id if by is not None else None
    match.next_visit_on = None  # only an active match has a visit planned
    db.session.flush()


# ---- the next planned visit ----------------------------------------------------------

#: How far ahead a next visit may be planned.
NEXT_VISIT_MAX_DAYS = 366


def check_next_visit(on: date | None, *, after: date | None = None) -> None:
    """The rule for a planned visit: today or later (and after ``after``, the session
    just logged), within a year. ``None`` (nothing planned) is allowed."""
    if on is None:
        return
    if on < today():
        raise RuleBroken("The next visit cannot be in the past.", "next_visit_on")
    if after is not None and on <= after:
        raise RuleBroken("The next visit must be after this session.", "next_visit_on")
    if on > today() + timedelta(days=NEXT_VISIT_MAX_DAYS):
        raise RuleBroken("Plan the next visit within the next year.", "next_visit_on")


def active_match_of(resident: Resident) -> Match | None:
    """The resident's active match (at most one), or ``None``."""
    return db.session.scalar(
        select(Match).where(Match.resident_id == resident.id, Match.status == "active")
    )


def set_next_visit(match: Match, on: date | None, *, by=None) -> bool:
    """Keep ``on`` as the match's next planned visit (the caller has locked the match and
    checked the date); audited when it changes. Returns whether it changed."""
    if match.next_visit_on == on:
        return False
    match.next_visit_on = on
    audit.record("match.next_visit_planned", match, changed=["next_visit_on"], actor=by)
    db.session.flush()
    return True


def plan_next_visit(match: Match, on: date | None, *, by=None) -> bool:
    """The buddy or a coordinator plans the next visit of an active match (``None``
    clears it). The match is locked and re-read first, so a match ended at another
    desk a moment ago gets no visit (and the schema refuses one on a match that is not
    active). Returns whether it changed."""
    _lock(match)
    if match.status != "active":
        raise RuleBroken("This match is not active any more.", "next_visit_on")
    check_next_visit(on)
    return set_next_visit(match, on, by=by)


#: The audit action on the resident when closing their case took them off the buddy
#: waiting list (they needed skills and had no match yet).
LEFT_WAITING_CASE_CLOSED = "buddies.waiting_left_case_closed"


def take_closed_case_off_buddies(resident: Resident, *, by=None, **_) -> None:
    """Receiver of ``inclusion.signals.case_closed``: a closed case is offered no buddy.

    Its proposed matches are withdrawn and its active match ends, both as *ended* with
    the reason "Resident's case closed" (so the buddy no longer sees the resident and
    the buddy's place is free again); a resident who was only waiting leaves the buddy
    waiting list, audited on the resident. Every event carries the actor ``by``.
    """
    open_matches = db.session.scalars(
        select(Match)
        .where(Match.resident_id == resident.id, Match.status.in_(OPEN_MATCH_STATUSES))
        .order_by(Match.id)
        .with_for_update()
    ).all()
    for match in open_matches:
        end_match(match, reason="resident_closed", by=by)
    if not open_matches and resident.needs_skills:
        audit.record(LEFT_WAITING_CASE_CLOSED, resident, changed=["status"], actor=by)
        db.session.flush()


def save_matching_needs(resident: Resident, data: dict, *, by=None) -> MatchingNeeds:
    """Keep what a resident wants from a buddy (one record per resident). The resident
    is locked first, so two desks saving at once update one record, never insert two."""
    lock_resident(resident)
    refuse_if_closed(resident, None)
    needs = db.session.scalar(select(MatchingNeeds).where(MatchingNeeds.resident_id == resident.id))
    if needs is None:
        needs = MatchingNeeds(organisation_id=resident.organisation_id, resident_id=resident.id)
        db.session.add(needs)
    fields = ("availability", "visit_modes", "skills", "interpreter_available")
    for field in fields:
        if field in data:
            setattr(needs, field, data[field])
    db.session.flush()
    audit.record(
        "resident.matching_needs_saved", needs, changed=[f for f in fields if f in data], actor=by
    )
    return needs


# ---- matching with the database -------------------------------------------------------


def _needs_by_resident(resident_ids) -> dict[int, MatchingNeeds]:
    if not resident_ids:
        return {}
    rows = db.session.scalars(
        select(MatchingNeeds).where(MatchingNeeds.resident_id.in_(list(resident_ids)))
    )
    return {n.resident_id: n for n in rows}


def matching_needs_of(resident: Resident) -> MatchingNeeds | None:
    return _needs_by_resident([resident.id]).get(resident.id)


def _buddy_candidates(include_inactive: bool):
    from .matching import buddy_facts

    stmt = select(BuddyProfile).order_by(BuddyProfile.name, BuddyProfile.id)
    if include_inactive:
        stmt = stmt.where(BuddyProfile.status != "left")
    else:
        stmt = stmt.where(BuddyProfile.status == "active")
    profiles = db.session.scalars(stmt).all()
    counts = open_match_counts()
    on = today()
    facts = [buddy_facts(p, counts.get(p.id, 0), on) for p in profiles]
    return profiles, facts


def rank_buddies(resident: Resident):
    """Buddies for one resident: ``(ranked, excluded, profiles_by_id)``; ranked best
    first with reasons in words, excluded with the hard constraints that ruled them out."""
    from .matching import rank, resident_facts

    if not is_open_case(resident):
        return [], [], {}  # nothing is offered to a closed case
    profiles, facts = _buddy_candidates(include_inactive=True)
    ranked, excluded = rank(resident_facts(resident, matching_needs_of(resident)), facts)
    return ranked, excluded, {p.id: p for p in profiles}


def pair_score(resident: Resident, buddy: BuddyProfile) -> tuple[float, list[str], list[str]]:
    """``(score, reasons, exclusions)`` for one pair, as matching sees it now."""
    total, reasons, exclusions, _ = pair_fit(resident, buddy)
    return total, reasons, exclusions


def pair_fit(resident: Resident, buddy: BuddyProfile) -> tuple[float, list[str], list[str], int]:
    """``(score, reasons, exclusions, fit)`` for one pair, as matching sees it now
    (``fit``: how well they fit, 0–100)."""
    from .matching import buddy_facts, exclusions_for, reasons_for, resident_facts, score

    r = resident_facts(resident, matching_needs_of(resident))
    b = buddy_facts(buddy, open_match_counts([buddy.id]).get(buddy.id, 0), today())
    scores = score([r], [b])
    return (
        float(scores.total[0, 0]),
        reasons_for(r, b, scores, 0, 0),
        exclusions_for(r, b, scores, 0, 0),
        int(scores.fit[0, 0]),
    )


@dataclass
class Assignment:
    """One optimal assignment for everyone waiting, as a proposal (nothing is saved).

    ``proposal``: ``(resident, buddy, score, reasons, fit)`` per pair; ``waiting``: how
    many residents are waiting; ``left_out``: ``(resident, [LeftOut, …])`` for each one
    the proposal leaves without a buddy, with why (``buddies.matching.left_without_buddy``).
    Both lists are in waiting-list order (referral date)."""

    proposal: list
    waiting: int
    left_out: list = dataclass_field(default_factory=list)


def plan_assignment() -> Assignment:
    """The assignment proposal for everyone waiting, and why anyone is left out."""
    from .matching import assign, left_without_buddy, reasons_for, resident_facts, score

    residents = db.session.scalars(waiting_residents()).all()
    needs = _needs_by_resident([r.id for r in residents])
    r_facts = [resident_facts(r, needs.get(r.id)) for r in residents]
    profiles, b_facts = _buddy_candidates(include_inactive=False)
    scores = score(r_facts, b_facts)
    pairs = assign(r_facts, b_facts, scores)
    proposal = [
        (
            residents[i],
            profiles[j],
            s,
            reasons_for(r_facts[i], b_facts[j], scores, i, j),
            int(scores.fit[i, j]),
        )
        for i, j, s in pairs
    ]
    proposal.sort(key=lambda p: (p[0].referral_date, p[0].id))
    left = left_without_buddy(r_facts, b_facts, scores, pairs)
    # residents are already in waiting-list order
    left_out = [(residents[i], left[i]) for i in sorted(left)]
    return Assignment(proposal, len(residents), left_out)


def assign_all_waiting():
    """One optimal assignment for everyone waiting, as a proposal (nothing is saved):
    a list of ``(resident, buddy, score, reasons, fit)``, plus how many are waiting."""
    planned = plan_assignment()
    return planned.proposal, planned.waiting


def propose_pair(resident: Resident, buddy: BuddyProfile, *, by=None) -> Match:
    """Propose a pair chosen by a coordinator, with its score and reasons as of now;
    refused when a hard constraint rules it out."""
    lock_resident(resident)
    refuse_unless_waiting(resident)
    _lock(buddy)
    total, reasons, exclusions, fit = pair_fit(resident, buddy)
    if exclusions:
        raise RuleBroken(f"{buddy.name} cannot be matched: {'; '.join(exclusions)}.", "buddy_id")
    return propose_match(resident, buddy, score=total, reasons=reasons, fit=fit, by=by)


def accept_assignment(pairs: list[tuple[int, int]], *, by=None) -> list[Match]:
    """Accept some or all pairs of an assignment proposal: each becomes a proposed match
    (all or nothing: one refused pair refuses the lot).

    All the residents, then all the buddies, are locked up front in id order, so two
    desks accepting overlapping assignments wait for each other instead of deadlocking.
    """
    for model, ids in ((Resident, {r for r, _ in pairs}), (BuddyProfile, {b for _, b in pairs})):
        db.session.scalars(
            select(model.id).where(model.id.in_(sorted(ids))).order_by(model.id).with_for_update()
        ).all()
    matches = []
    for resident_id, buddy_id in pairs:
        resident = db.session.get(Resident, resident_id)
        buddy = db.session.get(BuddyProfile, buddy_id)
        if resident is None or buddy is None:
            raise RuleBroken("That proposal is out of date; please look again.", "pairs")
        matches.append(propose_pair(resident, buddy, by=by))
    return matches


def matches_of_resident(resident: Resident) -> list[Match]:
    """A resident's matches, newest first (for the matches section of their page)."""
    return db.session.scalars(
        select(Match)
        .where(Match.resident_id == resident.id)
        .order_by(Match.proposed_at.desc(), Match.id.desc())
    ).all()


def dbs_renewals_due(within_days: int = 60):
    """Active or paused buddies whose DBS check is due for renewal within ``within_days``
    (or overdue), soonest first: a call list."""
    return (
        select(BuddyProfile)
        .where(
            BuddyProfile.status.in_(("active", "paused")),
            BuddyProfile.dbs_renewal_due.is_not(None),
            BuddyProfile.dbs_renewal_due <= today() + timedelta(days=within_days),
        )
        .order_by(BuddyProfile.dbs_renewal_due, BuddyProfile.id)
    )


def dashboard_summary() -> dict:
    """The numbers on a coordinator's home page for buddies and matching (the counts kept
    until the organisation's next change)."""
    return {
        **kept_for_scope("buddies-dashboard", _dashboard_counts),
        "renewals": db.session.scalars(dbs_renewals_due().limit(10)).all(),
    }


def _dashboard_counts() -> dict[str, int]:
    waiting = waiting_residents().order_by(None)
    return {
        "waiting": db.session.scalar(select(func.count()).select_from(waiting.subquery())),
        "proposed": db.session.scalar(
            select(func.count()).select_from(Match).where(Match.status == "proposed")
        ),
        "applicants": db.session.scalar(
            select(func.count()).select_from(BuddyProfile).where(BuddyProfile.status == "applicant")
        ),
    }
