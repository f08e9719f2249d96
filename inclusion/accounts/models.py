from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions import db
from ..i18n import ALL_CODES as ALL_LANGUAGE_CODES
from ..schema import sql_list
from ..tenancy import OrgScoped

ADMIN, COORDINATOR, BUDDY, DONOR = "admin", "coordinator", "buddy", "donor"
#: Reads aggregate figures across a programme of organisations; never a record.
COMMISSIONER = "commissioner"
ROLES = (ADMIN, COORDINATOR, BUDDY, DONOR, COMMISSIONER)
# Least privileged first: a change to a role later in this list raises privilege.
ROLES_BY_PRIVILEGE = (COMMISSIONER, DONOR, BUDDY, COORDINATOR, ADMIN)
ROLE_LABELS = {
    ADMIN: "Admin",
    COORDINATOR: "Coordinator",
    BUDDY: "IT buddy",
    DONOR: "Donor (business contact)",
    COMMISSIONER: "Commissioner (programme figures only)",
}


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(12), unique=True)
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    return_address: Mapped[str] = mapped_column(Text, default="")
    default_loan_days: Mapped[int] = mapped_column(Integer, default=56)
    retention_months: Mapped[int] = mapped_column(Integer, default=24)
    # Codes of the languages it offers its residents besides English ("cy,pa,ur"): public
    # pages, agreements, letters and texts (inclusion.i18n).
    languages: Mapped[str] = mapped_column(
        String(100), default=ALL_LANGUAGE_CODES, server_default=ALL_LANGUAGE_CODES
    )
    # Postcode districts it serves (["WV1", "WV3"]): the shared public forms use them to
    # suggest an organisation from a postcode, never to choose one.
    areas: Mapped[list] = mapped_column(JSON, default=list)
    # Raised by every committed change to the organisation's rows (inclusion.dataversion):
    # figures cached under it stay right until the next change.
    data_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    __table_args__ = (
        CheckConstraint("default_loan_days BETWEEN 1 AND 366", name="loan_days_range"),
        CheckConstraint("retention_months BETWEEN 1 AND 240", name="retention_range"),
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"


class User(OrgScoped, UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Written into the session at sign-in and compared on every request; raising it
    # (sign-out, new password, role or access change) ends every existing session.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint(f"role IN ({sql_list(ROLES)})", name="role_known"),
        CheckConstraint("email = lower(email)", name="email_lower"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the id and the session generation."""
        return f"{self.id}:{self.session_generation}"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Invitation(db.Model):
    """A one-time link to set a password; only a hash of the token is stored."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set when a newer link is issued or the password is set: an older link never works again.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class PasswordReset(db.Model):
    """A "forgot your password" link: single use, valid for an hour; only its hash is kept."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set when a newer link is asked for or the password is set another way.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()
