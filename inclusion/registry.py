"""The one way a feature plugs into the core.

Each feature package (``devices``, ``buddies``, …) is named in ``INCLUSION_FEATURES`` and has an
``init_app(app)`` that registers, here, what it adds: navigation entries with the permission that
shows them, dashboard panels, resident-page sections, header tools (the scan box), call-list sections, public
navigation and home-page cards, template helpers, who may see a resident, CLI commands, its
report sections, and its demo and benchmark loaders. The core iterates what was registered; it
never imports a feature to ask.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app

EXTENSION = "inclusion.registry"


@dataclass(frozen=True)
class NavigationEntry:
    permission: str
    endpoint: str
    label: str
    group: str | None = None


@dataclass(frozen=True)
class NavigationGroup:
    key: str
    label: str


#: The menu is grouped by job, in this order; the core defines the groups and each feature's
#: entries join one (``add_navigation(..., group="devices")``). An entry without a group (a
#: buddy's or a donor's own pages) stands on its own, before the groups.
NAVIGATION_GROUPS = (
    NavigationGroup("residents", "Residents"),
    NavigationGroup("devices", "Devices and data"),
    NavigationGroup("buddies", "Buddies"),
    NavigationGroup("reports", "Reports"),
    NavigationGroup("settings", "Settings"),
)
_GROUP_KEYS = {g.key for g in NAVIGATION_GROUPS}


@dataclass(frozen=True)
class MenuItem:
    """One item of a user's menu: a page (``endpoint``) or a group of pages (``entries``),
    which links to its first page. A group the user has one page of is shown as that page."""

    label: str
    endpoint: str
    entries: tuple[NavigationEntry, ...] = ()
    key: str | None = None

    @property
    def endpoints(self) -> set[str]:
        return {e.endpoint for e in self.entries} or {self.endpoint}

    def is_current(self, endpoint: str | None, blueprint: str | None = None) -> bool:
        """The page shown is this item's, or (for a page not in the menu, like a device's
        record) one of the same blueprint."""
        if endpoint in self.endpoints:
            return True
        return bool(blueprint) and any(e.split(".")[0] == blueprint for e in self.endpoints)


@dataclass(frozen=True)
class PublicForm:
    """A signed-out form each organisation has its own link to (``endpoint`` with ``code=``)."""

    endpoint: str
    label: str


@dataclass(frozen=True)
class DemoLoader:
    """``load(ctx)`` adds a feature's demo data; loaders run in registration order."""

    label: str
    load: Callable


@dataclass(frozen=True)
class BenchLoader:
    """One step of ``flask inclusion bench-data``: ``load(bench)`` plans or writes a
    package's part of the benchmark organisation (``inclusion.benchdata.Bench``). Steps run
    in ``order`` (the core plans residents at 10 and writes them at 50), all drawing from one
    seeded random sequence; ``rows_at_scale_1`` are the package's target counts."""

    label: str
    load: Callable
    order: int = 100
    rows_at_scale_1: dict = field(default_factory=dict, hash=False, compare=False)


def _nothing(*args) -> list:
    return []


@dataclass(frozen=True)
class ReportSection:
    """A package's part of the reports page, the CSV zip and the PDF.

    - ``figures(organisation_id, start, end) -> dict``: its figure groups (``{"devices": {...}}``),
      by SQL aggregation, a fixed number of statements whatever the data size; merged into
      ``report_figures``;
    - ``tables(figures, shown) -> [ReportTable]``: its tables (each is also one CSV file of the
      zip and one table of the PDF); ``shown`` applies the small-number rule for publication;
    - ``charts(figures, shown) -> [BarChart]``: its charts, each drawn next to its table;
    - ``headlines(figures) -> [(number, words)]``: key-figure cards on the page (exact figures);
    - ``key_figures(tables) -> [[label, value]]``: key figures on the first page of the PDF,
      read from its tables by slug (so they are suppressed as the tables are).

    Sections are composed in ``order`` (the core's referrals come first, at 10).
    """

    key: str
    title: str
    figures: Callable
    tables: Callable = _nothing
    charts: Callable = _nothing
    headlines: Callable = _nothing
    key_figures: Callable = _nothing
    order: int = 100


@dataclass(frozen=True)
class CallListSection:
    """A feature's part of the call list (the page staff phone residents from):
    ``load()`` returns its rows for the signed-in user (a fixed number of queries) and
    ``template`` draws them, given as ``items``; ``calls(items)`` gives them for the call
    list's CSV as ``(resident, what to discuss, date it is due)``."""

    template: str
    load: Callable
    calls: Callable = _nothing


@dataclass
class Registry:
    navigation: list[NavigationEntry] = field(default_factory=list)
    admin_navigation: list[NavigationEntry] = field(default_factory=list)
    dashboard_panels: list[str] = field(default_factory=list)
    # what needs doing today (safeguarding alerts, overdue loans): the top of the dashboard
    urgent_dashboard_panels: list[str] = field(default_factory=list)
    _panel_order: dict[str, int] = field(default_factory=dict, repr=False)
    resident_sections: list[str] = field(default_factory=list)
    header_tools: list[str] = field(default_factory=list)
    public_navigation: list[str] = field(default_factory=list)
    home_cards: list[str] = field(default_factory=list)
    public_forms: list[PublicForm] = field(default_factory=list)
    template_helpers: dict[str, Callable] = field(default_factory=dict)
    resident_access: list[Callable] = field(default_factory=list)
    demo_loaders: list[DemoLoader] = field(default_factory=list)
    report_sections: list[ReportSection] = field(default_factory=list)
    bench_loaders: list[BenchLoader] = field(default_factory=list)
    commands: list = field(default_factory=list)
    receivers: list[tuple[str, Callable]] = field(default_factory=list)
    interfaces: dict[str, Callable] = field(default_factory=dict)
    # role -> endpoint: where the dashboard sends a role that has a page of its own
    role_homes: dict[str, str] = field(default_factory=dict)
    # table name -> inclusion.personal_data.Declaration (personal_data.declare() adds them)
    personal_data: dict = field(default_factory=dict)
    # purpose key -> inclusion.messages.texts.Purpose (what a message is for, its texts)
    message_purposes: dict = field(default_factory=dict)
    reminder_sources: list[Callable] = field(default_factory=list)
    call_list_sections: list[CallListSection] = field(default_factory=list)
    kept_periods: list[Callable] = field(default_factory=list)

    # -- what features call from their init_app --------------------------------------------

    def add_navigation(
        self, permission: str, endpoint: str, label: str, *, admin=False, group: str | None = None
    ) -> None:
        """A menu entry shown to users who hold ``permission``, under one of the core's
        ``NAVIGATION_GROUPS`` (an admin entry goes under Settings unless told otherwise)."""
        if admin and group is None:
            group = "settings"
        if group is not None and group not in _GROUP_KEYS:
            raise ValueError(f"navigation group {group!r} is not one of the core's")
        entries = self.admin_navigation if admin else self.navigation
        entry = NavigationEntry(permission, endpoint, label, group)
        if entry not in entries:
            entries.append(entry)

    def menu(self, allowed: Callable[[str], bool]) -> list[MenuItem]:
        """The menu of a user who holds the permissions ``allowed(permission)`` answers yes
        to: pages without a group first, then each group with a page the user may open. A
        group's page of the group's own name (Reports under Reports) comes first, and is where
        the group links; the others keep the order they were registered in."""
        entries = [e for e in self.navigation + self.admin_navigation if allowed(e.permission)]
        items = [MenuItem(e.label, e.endpoint) for e in entries if e.group is None]
        for group in NAVIGATION_GROUPS:
            members = tuple(
                sorted(
                    (e for e in entries if e.group == group.key),
                    key=lambda e, name=group.label: e.label != name,
                )
            )
            if len(members) == 1:
                items.append(MenuItem(members[0].label, members[0].endpoint, members, group.key))
            elif members:
                items.append(MenuItem(group.label, members[0].endpoint, members, group.key))
        return items

    def add_dashboard_panel(self, template: str, *, urgent: bool = False, order: int = 100) -> None:
        """A panel of the dashboard. An ``urgent`` one (safeguarding alerts, overdue loans:
        what needs doing today) is at the top, above the counts; the others follow them.
        Panels are in ``order``, then in the order they were registered."""
        panels = self.urgent_dashboard_panels if urgent else self.dashboard_panels
        if template not in panels:
            panels.append(template)
            self._panel_order[template] = order
            panels.sort(key=lambda t: self._panel_order[t])

    def add_resident_section(self, template: str) -> None:
        _append_once(self.resident_sections, template)

    def add_header_tool(self, template: str) -> None:
        """A tool in the page header for signed-in staff (the scan box)."""
        _append_once(self.header_tools, template)

    def add_public_navigation(self, template: str) -> None:
        _append_once(self.public_navigation, template)

    def add_home_card(self, template: str) -> None:
        _append_once(self.home_cards, template)

    def add_public_form(self, endpoint: str, label: str) -> None:
        """A public form reachable as ``/o/<code>/…`` for each organisation (listed on its
        settings page and printed material; see ``inclusion.public_links``)."""
        _append_once(self.public_forms, PublicForm(endpoint, label))

    def add_template_helper(self, name: str, function: Callable) -> None:
        """A function the feature's own templates call (panels, sections)."""
        existing = self.template_helpers.get(name)
        if existing is not None and existing is not function:
            raise ValueError(f"template helper {name!r} is registered twice")
        self.template_helpers[name] = function

    def add_resident_access(self, check: Callable) -> None:
        """``check(user, resident) -> bool``: one more reason a user may see a resident
        (an IT buddy's active match). Any check that answers True grants it."""
        _append_once(self.resident_access, check)

    def add_role_home(self, role: str, endpoint: str) -> None:
        """The page a role lands on instead of the dashboard (a commissioner's programme)."""
        if self.role_homes.get(role, endpoint) != endpoint:
            raise ValueError(f"role {role!r} has two home pages")
        self.role_homes[role] = endpoint

    def add_demo_loader(self, label: str, load: Callable) -> None:
        if all(loader.label != label for loader in self.demo_loaders):
            self.demo_loaders.append(DemoLoader(label, load))

    def add_bench_loader(
        self, label: str, load: Callable, *, order: int, rows_at_scale_1: dict | None = None
    ) -> None:
        """One step of the benchmark data (see ``BenchLoader``), kept in ``order``."""
        if any(loader.label == label for loader in self.bench_loaders):
            return
        self.bench_loaders.append(BenchLoader(label, load, order, dict(rows_at_scale_1 or {})))
        self.bench_loaders.sort(key=lambda loader: loader.order)

    def add_report_section(self, section: ReportSection) -> None:
        """One more section of the reports (see ``ReportSection``), kept in ``order``."""
        if section in self.report_sections:
            return
        if any(s.key == section.key for s in self.report_sections):
            raise ValueError(f"report section {section.key!r} is registered twice")
        self.report_sections.append(section)
        self.report_sections.sort(key=lambda s: s.order)

    def provide(self, name: str, function: Callable) -> None:
        """Offer a declared interface other features may call without importing this one
        (``devices_lent_to`` from devices, ``device_use_columns`` from buddies)."""
        if name in self.interfaces and self.interfaces[name] is not function:
            raise ValueError(f"interface {name!r} is provided twice")
        self.interfaces[name] = function

    def interface(self, name: str, default: Callable) -> Callable:
        """The function some feature provides as ``name``, or ``default`` when none does."""
        return self.interfaces.get(name, default)

    def add_message_purpose(self, purpose) -> None:
        """A kind of message the feature sends (``inclusion.messages.texts.Purpose``): its
        key (``loan.overdue``), audience, channels, placeholders and default texts, which an
        admin may edit per organisation."""
        existing = self.message_purposes.get(purpose.key)
        if existing is not None and existing != purpose:
            raise ValueError(f"message purpose {purpose.key!r} is registered twice")
        self.message_purposes[purpose.key] = purpose

    def add_reminder_source(self, queue_reminders: Callable) -> None:
        """``queue_reminders(as_of) -> int``: queues the feature's reminders due on ``as_of``
        (idempotently) and returns how many it queued; ``flask inclusion queue-reminders``
        runs every source daily."""
        _append_once(self.reminder_sources, queue_reminders)

    def add_call_list_section(
        self, template: str, loader: Callable, calls: Callable = _nothing
    ) -> None:
        """Rows a feature adds to the call list (outcome follow-ups due): ``loader()`` gives
        them for the signed-in user, ``template`` draws them, ``calls(items)`` puts them in
        the call list's CSV (see ``CallListSection``)."""
        _append_once(self.call_list_sections, CallListSection(template, loader, calls))

    def add_kept_period(self, period: Callable) -> None:
        """``period(today) -> Period``: a period a page opens without being asked (a
        commissioner's last twelve months); ``flask inclusion keep-figures`` keeps every
        organisation's report figures of it current, off the request path."""
        _append_once(self.kept_periods, period)

    def add_command(self, command) -> None:
        """A ``flask inclusion …`` command (added to the CLI by the app factory)."""
        _append_once(self.commands, command)

    def add_receiver(self, signal, receiver: Callable) -> None:
        """Call ``receiver`` when the core sends ``signal`` (``inclusion/signals.py``) in
        this application. Blinker signals are process-wide; an application without this
        feature never runs its receivers."""
        _append_once(self.receivers, (signal.name, receiver))
        signal.connect(_dispatcher(signal.name), weak=False)


_DISPATCHERS: dict[str, Callable] = {}


def _dispatcher(name: str) -> Callable:
    """One receiver per signal that runs the current application's receivers in order."""
    if name not in _DISPATCHERS:

        def dispatch(sender, **kwargs):
            for signal_name, receiver in registry().receivers:
                if signal_name == name:
                    receiver(sender, **kwargs)

        _DISPATCHERS[name] = dispatch
    return _DISPATCHERS[name]


def _append_once(items: list, item) -> None:
    if item not in items:
        items.append(item)


def registry(app: Flask | None = None) -> Registry:
    """The registry of ``app`` (the current application when not given)."""
    app = app or current_app
    return app.extensions[EXTENSION]


def init_registry(app: Flask) -> Registry:
    app.extensions[EXTENSION] = Registry()
    return app.extensions[EXTENSION]


def load_features(app: Flask) -> None:
    """Import each configured feature package and let it register itself."""
    for name in app.config["FEATURES"]:
        importlib.import_module(name).init_app(app)
