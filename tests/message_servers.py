"""Real servers for the message channels' tests, on loopback ports, started by the test.

- :class:`NotifyServer`: the parts of GOV.UK Notify's API that its official client calls
  (send an SMS, get a notification, list notifications by reference), checking the JWT
  the client signs with the API key as Notify does. It records every request it got.
- :class:`SmtpServer`: aiosmtpd with STARTTLS (a self-signed certificate made by
  openssl for 127.0.0.1) and sign-in, recording every message it accepted.
- :class:`SilentServer`: accepts connections and never answers (a provider that hangs).
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from notifications_python_client.authentication import decode_jwt_token, get_token_issuer

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"inclusion_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- GOV.UK Notify ---------------------------------------------------------------------


@dataclass
class NotifyRequest:
    method: str
    path: str
    query: dict
    body: dict | None
    token_ok: bool


@dataclass
class NotifyServer:
    """``mode``: ``ok``; ``500`` (Notify is down); ``reject`` (400: not a UK mobile);
    ``slow`` (takes the text, answers after ``delay`` seconds, past the client's timeout)."""

    mode: str = "ok"
    delay: float = 3.0
    requests: list[NotifyRequest] = field(default_factory=list)
    notifications: dict[str, dict] = field(default_factory=dict)

    def start(self) -> NotifyServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def _token_ok(self) -> bool:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Bearer "):
                    return False
                token = header[len("Bearer ") :]
                try:
                    return get_token_issuer(token) == SERVICE_ID and decode_jwt_token(token, SECRET)
                except Exception:  # noqa: BLE001 - any bad token is refused
                    return False

            def _answer(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self, body=None) -> NotifyRequest:
                parts = urlsplit(self.path)
                request = NotifyRequest(
                    self.command, parts.path, parse_qs(parts.query), body, self._token_ok()
                )
                server.requests.append(request)
                return request

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                request = self._record(body)
                if not request.token_ok:
                    return self._answer(
                        403,
                        {"errors": [{"error": "AuthError", "message": "Invalid token"}]},
                    )
                if request.path != "/v2/notifications/sms":
                    return self._answer(404, {"errors": [{"error": "NotFound"}]})
                if server.mode == "500":
                    return self._answer(
                        500,
                        {
                            "errors": [{"error": "Exception", "message": "Internal error"}],
                            "status_code": 500,
                        },
                    )
                if server.mode == "reject":
                    return self._answer(
                        400,
                        {
                            "errors": [
                                {
                                    "error": "ValidationError",
                                    "message": "phone_number Not a UK mobile number",
                                }
                            ],
                            "status_code": 400,
                        },
                    )
                notification_id = str(uuid.uuid4())
                server.notifications[notification_id] = {
                    "id": notification_id,
                    "reference": body.get("reference"),
                    "phone_number": body.get("phone_number"),
                    "type": "sms",
                    "status": "sending",
                    "body": body.get("personalisation", {}).get("message", ""),
                }
                if server.mode == "slow":
                    time.sleep(server.delay)
                return self._answer(
                    201,
                    {
                        "id": notification_id,
                        "reference": body.get("reference"),
                        "content": {"body": "...", "from_number": "inclusion"},
                        "uri": f"/v2/notifications/{notification_id}",
                        "template": {"id": body.get("template_id"), "version": 1, "uri": ""},
                    },
                )

            def do_GET(self):  # noqa: N802
                request = self._record()
                if not request.token_ok:
                    return self._answer(403, {"errors": [{"error": "AuthError"}]})
                if request.path == "/v2/notifications":
                    wanted = (request.query.get("reference") or [None])[0]
                    found = [n for n in server.notifications.values() if n["reference"] == wanted]
                    return self._answer(200, {"notifications": found, "links": {"current": ""}})
                notification_id = request.path.rsplit("/", 1)[-1]
                if notification_id in server.notifications:
                    return self._answer(200, server.notifications[notification_id])
                return self._answer(404, {"errors": [{"error": "NoResultFound"}]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def sends(self) -> list[NotifyRequest]:
        return [r for r in self.requests if r.method == "POST"]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ---- SMTP ------------------------------------------------------------------------------


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def email(self):
        return message_from_bytes(self.raw, policy=policy.default)

    def part(self, subtype: str) -> str:
        return self.email.get_body(preferencelist=(subtype,)).get_content()


class SmtpServer:
    """aiosmtpd requiring STARTTLS before sign-in (``USERNAME``/``PASSWORD``).

    ``refuse_recipient``: answer 550 to RCPT; ``stall_data``: take DATA but answer only
    after ``delay`` seconds (past the client's timeout)."""

    USERNAME, PASSWORD = "inclusion", "smtp-test-password"

    def __init__(self, cert: Path, key: Path):
        self.cert, self.key = cert, key
        self.received: list[Received] = []
        self.refuse_recipient = False
        self.stall_data = False
        self.delay = 3.0

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        server = self

        class Handler:
            async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):  # noqa: N802
                if server.refuse_recipient:
                    return "550 5.1.1 No such mailbox here"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, smtp, session, envelope):  # noqa: N802
                import asyncio

                server.received.append(
                    Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
                )
                if server.stall_data:
                    await asyncio.sleep(server.delay)
                return "250 Message accepted for delivery"

        def authenticator(smtp, session, envelope, mechanism, auth_data):
            ok = (
                auth_data.login.decode() == self.USERNAME
                and auth_data.password.decode() == self.PASSWORD
            )
            return AuthResult(success=ok)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        self.port = free_port()
        self.controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            authenticator=authenticator,
            auth_require_tls=True,
            auth_exclude_mechanism=["CRAM-MD5"],
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def config(self, **extra) -> dict:
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": self.port,
            "SMTP_USERNAME": self.USERNAME,
            "SMTP_PASSWORD": self.PASSWORD,
            "SMTP_STARTTLS": True,
            "SMTP_CA_FILE": str(self.cert),
            "SMTP_FROM": "messages@inclusion.example.org",
            **extra,
        }


class SilentServer:
    """Accepts TCP connections and never says a word."""

    def start(self) -> SilentServer:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.running = True

        def accept():
            while self.running:
                try:
                    conn, _ = self.sock.accept()
                except OSError:
                    return
                self.held.append(conn)

        self.thread = threading.Thread(target=accept, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.running = False
        for conn in self.held:
            conn.close()
        self.sock.close()
