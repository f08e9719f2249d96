"""A desk's write load on gunicorn with 4 workers: SQLite, then PostgreSQL, in one run.

20 clients at once for 30 s: coordinators cycling their own device through lend →
return → wipe, buddies logging practice sessions, and people signing in (argon2 at its
production cost). Every client is a real HTTP session (``requests``, with cookies and
CSRF tokens), against a fresh database loaded with the demo data.

    python benchmarks/sqlite_writes.py                      # SQLite (+ PostgreSQL if it answers)
    python benchmarks/sqlite_writes.py --seconds 10
    python benchmarks/sqlite_writes.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

PostgreSQL runs when ``--database-url`` / ``INCLUSION_BENCH_DATABASE_URL`` is given or a
server answers at 127.0.0.1:5432 (user postgres); a throwaway database is created on it
and dropped afterwards. Prints requests, writes per second, 5xx answers and p50/p95 per
database; exits 1 when SQLite answered any 5xx (or wrote nothing).
"""

from __future__ import annotations

import argparse
import html
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "demo-password-2026"
COORDINATOR = "coordinator@wdi.example.org"
BUDDY = "buddy@wdi.example.org"
# Not the desk's or the buddies' accounts: signing out ends every session of the account.
SIGN_IN_ACCOUNTS = [
    "admin@wdi.example.org",
    "donor@acme.example.com",
    "coordinator@dlw.example.org",
]
WORKERS = 4
CLIENTS = {"desk": 12, "buddy": 4, "sign_in": 4}  # 20 in all
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# ---- forms -----------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The forms on a page: action → {field: value} as a browser would send them."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, str, dict]] = []
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            method = (a.get("method") or "get").lower()
            self.forms.append((html.unescape(a.get("action") or ""), method, {}))
        elif not self.forms:
            return
        fields = self.forms[-1][2]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields[name] = a.get("value", "y")
                elif kind == "radio":
                    fields.setdefault(name, a.get("value", ""))
            elif kind not in ("submit", "button", "file"):
                fields[name] = a.get("value", "")
        elif tag == "textarea" and name:
            fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if "selected" in a or (not fields.get(self._select) and value):
                fields[self._select] = value

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_on(page: str, path: str) -> dict:
    """The fields of the form that posts to ``path`` (or to the page itself)."""
    parser = _Forms()
    parser.feed(page)
    for action, method, fields in parser.forms:
        if method == "post" and (action.split("?")[0] == path or not action):
            return dict(fields)
    raise LookupError(f"no form posting to {path}")


class Go:
    """Every client signs in and sets up first; the clock starts when all are ready."""

    def __init__(self, clients: int, tally: Tally):
        self.barrier = threading.Barrier(clients + 1)
        self.stop = threading.Event()
        self.tally = tally

    def wait(self, client: Client) -> threading.Event:
        self.barrier.wait()
        client.tally = self.tally  # from here on, the requests count
        return self.stop


# ---- clients ---------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    writes: int = 0
    server_errors: int = 0
    unexpected: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, seconds: float, status: int, what: str, wrote: bool = False):
        with self.lock:
            self.latencies.append(seconds)
            if status >= 500:
                self.server_errors += 1
            if wrote:
                self.writes += 1
            elif status >= 400:
                key = f"{what} {status}"
                self.unexpected[key] = self.unexpected.get(key, 0) + 1


class Client:
    def __init__(self, base: str, tally: Tally):
        self.base = base
        self.tally = tally
        self.http = requests.Session()

    def get(self, path: str, what: str) -> requests.Response:
        started = time.perf_counter()
        r = self.http.get(self.base + path, allow_redirects=False, timeout=60)
        self.tally.note(time.perf_counter() - started, r.status_code, what)
        return r

    def post(self, path: str, data: dict, what: str) -> bool:
        started = time.perf_counter()
        r = self.http.post(self.base + path, data=data, allow_redirects=False, timeout=60)
        ok = r.status_code == 302
        self.tally.note(time.perf_counter() - started, r.status_code, what, wrote=ok)
        return ok

    def sign_in(self, email: str) -> bool:
        page = self.get("/login", "login form").text
        data = form_on(page, "/login")
        data.update(email=email, password=DEMO_PASSWORD)
        return self.post("/login", data, "sign-in")


def desk(client: Client, residents: list[str], n: int, go: Go):
    """A coordinator's own device: registered, then lend → return → wipe, over and over."""
    while not client.sign_in(COORDINATOR):
        time.sleep(0.5)
    tag = None
    while tag is None:
        data = form_on(client.get("/devices/new", "device form").text, "/devices/new")
        data.update(kind="tablet", make="Lenovo", model="Tab M10", serial=uuid.uuid4().hex[:12])
        started = time.perf_counter()
        r = client.http.post(client.base + "/devices/new", data=data, allow_redirects=False)
        client.tally.note(time.perf_counter() - started, r.status_code, "new device")
        if r.status_code == 302:
            tag = r.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    stop = go.wait(client)
    state = "wipe"
    while not stop.is_set():
        if state == "wipe":
            page = client.get(f"/devices/{tag}/wipe", "wipe form").text
            data = form_on(page, f"/devices/{tag}/wipe")
            data.update(method="nist_purge", wiped_by="Bench volunteer", mark_ready="y")
            if client.post(f"/devices/{tag}/wipe", data, "wipe"):
                state = "lend"
        elif state == "lend":
            page = client.get(f"/devices/{tag}/lend", "lend form").text
            data = form_on(page, f"/devices/{tag}/lend")
            data.update(
                resident=residents[n % len(residents)],
                due_on=(date.today() + timedelta(days=56)).isoformat(),
                agreement_method="paper",
                bundle="",
            )
            if client.post(f"/devices/{tag}/lend", data, "lend"):
                state = "return"
        else:
            page = client.get(f"/devices/{tag}/return", "return form").text
            data = form_on(page, f"/devices/{tag}/return")
            data.update(condition="B", received_by="Bench desk")
            if client.post(f"/devices/{tag}/return", data, "return"):
                state = "wipe"


def buddy(client: Client, n: int, go: Go):
    """A buddy logging practice sessions with checkpoints for their residents."""
    while not client.sign_in(BUDDY):
        time.sleep(0.5)
    listing = client.get("/practice/residents", "buddy list").text
    refs = sorted(set(re.findall(r"/practice/residents/(R-\d+)", listing)))
    if not refs:
        raise RuntimeError("the demo buddy has no residents")
    stop = go.wait(client)
    while not stop.is_set():
        ref = refs[n % len(refs)]
        n += 1
        path = f"/practice/residents/{ref}/sessions/new"
        page = client.get(path, "session form").text
        data = form_on(page, path)
        data.update(minutes="45", mode="home", place="At home", notes="Bench session")
        tasks = re.findall(r'name="practised_(\d+)"', page)[:2]
        for task in tasks:
            data[f"practised_{task}"] = "y"
            data[f"level_{task}"] = str(random.randint(1, 4))
        client.post(path, data, "log session")


def signer(client: Client, n: int, go: Go):
    """Someone signing in (argon2 at its production cost), then out."""
    stop = go.wait(client)
    while not stop.is_set():
        client.http.cookies.clear()
        n += 1
        if not client.sign_in(SIGN_IN_ACCOUNTS[n % len(SIGN_IN_ACCOUNTS)]):
            continue
        page = client.get("/dashboard", "dashboard")
        if page.status_code != 200:
            continue  # another client signed this account out everywhere meanwhile
        client.post("/logout", form_on(page.text, "/logout"), "sign-out")


# ---- servers ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(database_url: str, workdir: Path) -> dict:
    env = dict(os.environ)
    env.update(
        INCLUSION_DATABASE_URL=database_url,
        INCLUSION_ENV="development",
        INCLUSION_SECRET_KEY="bench-" + "x" * 40,
        FLASK_APP="inclusion",
        PYTHONPATH=str(ROOT),
    )
    return env


def _prepare(database_url: str, workdir: Path) -> None:
    env = _env(database_url, workdir)
    for args in (["db", "upgrade", "heads"], ["inclusion", "demo"]):
        subprocess.run(
            [str(BIN / "flask"), *args], env=env, cwd=workdir, check=True, capture_output=True
        )


def _residents(base: str) -> list[str]:
    client = Client(base, Tally())
    client.sign_in(COORDINATOR)
    refs: list[str] = []
    for status in ("supported", "assessed", "contacted"):
        page = client.get(f"/residents?status={status}", "residents").text
        refs += [r for r in re.findall(r"/residents/(R-\d+)", page) if r not in refs]
    if not refs:
        raise RuntimeError("no demo residents to lend to")
    return refs


def run(label: str, database_url: str, seconds: float, workdir: Path) -> Tally:
    print(f"{label}: preparing a fresh database with the demo data…", flush=True)
    _prepare(database_url, workdir)
    port = _free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "inclusion:create_app()",
        ],
        env=_env(database_url, workdir),
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / f"gunicorn-{label}.log", "w"),  # noqa: SIM115 - the server's lifetime
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(base + "/", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn did not start; see {workdir}/gunicorn-{label}.log")
        residents = _residents(base)
        tally, setup = Tally(), Tally()
        go = Go(sum(CLIENTS.values()), tally)
        threads = []
        n = 0
        for kind, count in CLIENTS.items():
            for _ in range(count):
                target = {"desk": desk, "buddy": buddy, "sign_in": signer}[kind]
                client = Client(base, setup)
                args = (client, residents, n, go) if kind == "desk" else (client, n, go)
                threads.append(
                    threading.Thread(target=_reported, args=(target, args, go), daemon=True)
                )
                n += 1
        for t in threads:
            t.start()
        go.barrier.wait(timeout=600)  # everyone signed in, devices registered
        started = time.perf_counter()
        time.sleep(seconds)
        go.stop.set()
        for t in threads:
            t.join(60)
        tally.elapsed = time.perf_counter() - started
        tally.setup_server_errors = setup.server_errors
        return tally
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def _reported(target, args, go: Go):
    """Run a client; one that stops on an unexpected page says so in the figures."""
    try:
        target(*args)
    except Exception as exc:  # noqa: BLE001 - reported in the figures, not a traceback
        tally = go.tally
        with tally.lock:
            key = f"{target.__name__} stopped ({type(exc).__name__}: {exc})"
            tally.unexpected[key] = tally.unexpected.get(key, 0) + 1
        if not go.stop.is_set():
            go.barrier.abort()  # a client that never got ready: do not wait for it


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(label: str, tally: Tally) -> str:
    lat = tally.latencies
    line = (
        f"{label:<10} {len(lat):>7} requests  {tally.writes / tally.elapsed:7.1f} writes/s  "
        f"{tally.server_errors + tally.setup_server_errors:>4} 5xx  p50 {_percentile(lat, 0.5) * 1000:6.0f} ms  "
        f"p95 {_percentile(lat, 0.95) * 1000:6.0f} ms"
    )
    if tally.unexpected:
        line += "  other answers: " + ", ".join(
            f"{k} ×{v}" for k, v in sorted(tally.unexpected.items())
        )
    return line


# ---- PostgreSQL --------------------------------------------------------------------------


def _postgres_server(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return LOCAL_POSTGRES
    except OSError:
        return None


def _throwaway_postgres(server_url: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"inclusion_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("INCLUSION_BENCH_DATABASE_URL"),
        help="A PostgreSQL server to compare with (a throwaway database is made on it).",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="Do not run PostgreSQL.")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="inclusion-bench-"))
    results = []
    try:
        sqlite = run("SQLite", f"sqlite:///{workdir / 'bench.sqlite3'}", args.seconds, workdir)
        results.append(("SQLite", sqlite))
        server = None if args.sqlite_only else _postgres_server(args.database_url)
        if server:
            url, drop = _throwaway_postgres(server)
            try:
                results.append(("PostgreSQL", run("PostgreSQL", url, args.seconds, workdir)))
            finally:
                drop()
        else:
            print(
                "PostgreSQL: not run (--sqlite-only, or no --database-url and nothing at 127.0.0.1:5432)"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    mix = ", ".join(f"{v} {k.replace('_', '-')}" for k, v in CLIENTS.items())
    print(
        f"\n{WORKERS} gunicorn workers, {sum(CLIENTS.values())} clients ({mix}), "
        f"{args.seconds:.0f} s each:"
    )
    for label, tally in results:
        print(report(label, tally))
    stopped = any("stopped" in key for key in sqlite.unexpected)
    failed = sqlite.server_errors + sqlite.setup_server_errors > 0 or not sqlite.writes or stopped
    print("SQLite target (zero 5xx):", "MISSED" if failed else "ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
