"""Where personal data lives: declared by the package that stores it, read by data protection.

Each package says, in its own ``init_app`` (into the app's registry), which of its tables hold data about a
resident and which of its columns are free text::

    personal_data.declare(
        app,
        model=Loan,
        resident_column="resident_id",
        free_text=("notes", "end_note"),
        not_free_text=("received_by",),
        export="loans",
        blocks_erasure=[(lambda: Loan.is_open, "A device is still on loan: ...")],
    )

Data protection (subject access export, erasure, retention, the sweep for mentions)
loops over the declarations and names no feature model. A test fails when a table
with a ``resident_id`` column, or a free-text column (Text, or a String of
``FREE_TEXT_LENGTH`` characters or more), is not covered by a declaration, so a new
column cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import String, Table, Text, inspect, select

from .registry import registry

#: A String this long or longer is treated as free text unless declared otherwise.
FREE_TEXT_LENGTH = 200


@dataclass(frozen=True)
class Declaration:
    """What one table holds about residents.

    - ``resident_column``: the column holding the resident's id (``"id"`` for the
      resident table itself); or ``via=(column, table)`` when its rows belong to a
      resident through a row of another declared table (a loan's extensions).
    - ``free_text``: columns people type into. On the erased person's own rows a
      non-empty value becomes "[removed]"; in every row of the organisation, mentions
      of the person (names, phone numbers, email, date of birth) become "[erased]".
    - ``not_free_text``: long String columns that are not free text (a make and
      model, a staff name, a certificate number): listed so the coverage test knows
      someone decided; ``anonymise`` clears the identifying ones.
    - ``export``: the name of this table's file in the subject access export (None:
      not part of it); ``export_extra(obj)`` adds readable values to each row.
    - ``blocks_erasure``: ``(condition, message)`` pairs; a row of the resident that
      matches ``condition()`` refuses the erasure with ``message``.
    - ``anonymise(obj)``: changes the identifying fields of one of the person's rows
      (ORM object) and returns the names of the fields it changed.
    """

    model: type
    resident_column: str | None = None
    via: tuple[str, str] | None = None
    free_text: tuple[str, ...] = ()
    not_free_text: tuple[str, ...] = ()
    export: str | None = None
    export_extra: Callable | None = None
    order_by: tuple[str, ...] = ("id",)
    blocks_erasure: tuple = ()
    anonymise: Callable | None = None
    organisation_column: str | None = "organisation_id"
    extra: dict = field(default_factory=dict)

    @property
    def table(self) -> Table:
        return inspect(self.model).local_table

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def about_residents(self) -> bool:
        return self.resident_column is not None or self.via is not None


def declare(app, model, **options) -> Declaration:
    """Declare what ``model``'s table holds (once per application; a second
    declaration of the same table replaces the first)."""
    for key in ("free_text", "not_free_text", "order_by", "blocks_erasure"):
        if key in options:
            options[key] = tuple(options[key])
    declaration = Declaration(model=model, **options)
    registry(app).personal_data[declaration.name] = declaration
    return declaration


def declarations(app=None) -> list[Declaration]:
    """Every declaration of ``app`` (the current one by default), in declaration order."""
    return list(registry(app).personal_data.values())


def declaration_of(table_name: str, app=None) -> Declaration | None:
    return registry(app).personal_data.get(table_name)


def resident_condition(declaration: Declaration, resident_id: int, app=None):
    """The SQL condition selecting ``declaration``'s rows about the resident."""
    table = declaration.table
    if declaration.resident_column is not None:
        return table.c[declaration.resident_column] == resident_id
    column, parent_name = declaration.via
    parent = declaration_of(parent_name, app)
    if parent is None or parent.resident_column is None:
        raise LookupError(f"{declaration.name} is linked through undeclared {parent_name}")
    parent_pk = list(parent.table.primary_key.columns)[0]
    return table.c[column].in_(
        select(parent_pk).where(parent.table.c[parent.resident_column] == resident_id)
    )


def is_free_text(column) -> bool:
    """Text columns and long Strings are where people type about other people."""
    kind = column.type
    if isinstance(kind, Text):
        return True
    return isinstance(kind, String) and (kind.length or 0) >= FREE_TEXT_LENGTH


def undeclared(tables: Iterable[Table], app=None) -> list[str]:
    """``table`` or ``table.column`` for each table with a ``resident_id`` column and each
    free-text column that no declaration covers (empty: everything is declared)."""
    declared = registry(app).personal_data
    missing = []
    for table in tables:
        declaration = declared.get(table.name)
        if "resident_id" in table.c and (declaration is None or not declaration.about_residents):
            missing.append(table.name)
        covered = set()
        if declaration is not None:
            covered = set(declaration.free_text) | set(declaration.not_free_text)
        missing += [
            f"{table.name}.{c.name}" for c in table.c if is_free_text(c) and c.name not in covered
        ]
    return missing


def name_of(user) -> str | None:
    """A staff member's name for an export row (who recorded something)."""
    return user.name if user is not None else None
