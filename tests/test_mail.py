"""Mail (issue 13, point 1): the outbox (atomic files, newest first, nothing outside it can
be named) and SMTP, against a real SMTP server on a local socket (a small one, below)."""

from __future__ import annotations

import base64
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from directory.mail import (
    MailError,
    MailSettings,
    body_text,
    build_message,
    outbox,
    read_outbox,
    send,
    settings_from,
)

# --- a real SMTP server on 127.0.0.1 ------------------------------------------------------


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailbox:
    user: str | None = None
    password: str | None = None
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Enough of RFC 5321 for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT."""

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        box: Mailbox = self.server.mailbox  # type: ignore[attr-defined]
        self._say("220 test.local ESMTP")
        sender, recipients, authenticated = "", [], box.user is None
        while line := self.rfile.readline():
            command = line.decode("ascii").rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._say("250-test.local")
                self._say("250-8BITMIME")
                self._say("250 AUTH PLAIN")
            elif verb == "HELO":
                self._say("250 test.local")
            elif verb == "AUTH":
                _auth, mechanism, *initial = command.split(" ")
                credentials = base64.b64decode(initial[0]).split(b"\0") if initial else []
                if mechanism.upper() == "PLAIN" and len(credentials) == 3:
                    user, password = credentials[1].decode(), credentials[2].decode()
                    box.logins.append(user)
                    if (user, password) == (box.user, box.password):
                        authenticated = True
                        self._say("235 2.7.0 Authentication successful")
                        continue
                self._say("535 5.7.8 Authentication credentials invalid")
            elif verb == "MAIL":
                if not authenticated:
                    self._say("530 5.7.0 Authentication required")
                    continue
                sender = command.split(":", 1)[1].split()[0].strip("<>")
                recipients = []
                self._say("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)
                box.received.append(Received(sender, recipients, b"".join(lines)))
                self._say("250 OK: queued")
            elif verb in ("RSET", "NOOP"):
                self._say("250 OK")
            elif verb == "QUIT":
                self._say("221 Bye")
                return
            else:
                self._say("502 Command not implemented")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def running_smtp_server() -> Iterator[tuple[_SmtpServer, Mailbox]]:
    """A real SMTP server on a free port of 127.0.0.1, and the mailbox it fills."""
    server = _SmtpServer(("127.0.0.1", 0), _SmtpHandler)
    server.mailbox = Mailbox()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, server.mailbox  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def smtp_server() -> Iterator[tuple[_SmtpServer, Mailbox]]:
    with running_smtp_server() as running:
        yield running


def _message(to: str = "ana@example.org", subject: str = "¿Sigue siendo correcto?") -> EmailMessage:
    return build_message(
        sender="Directorio <no-reply@example.org>",
        to=to,
        subject=subject,
        body="Hola,\n\nabra este enlace: https://example.org/confirm/abc?lang=es\n",
        language="es",
    )


# --- the tests ----------------------------------------------------------------------------


def test_settings_default_to_the_outbox_in_the_instance_folder(tmp_path: Path):
    settings = settings_from({"SMTP_URL": "", "MAIL_FROM": "", "OUTBOX_DIR": ""}, tmp_path)
    assert settings.outbox_dir == tmp_path / "outbox"
    assert not settings.uses_smtp
    assert "no-reply" in settings.sender
    chosen = settings_from({"OUTBOX_DIR": str(tmp_path / "mail")}, "/nowhere")
    assert chosen.outbox_dir == tmp_path / "mail"


def test_without_smtp_a_message_is_a_file_in_the_outbox(tmp_path: Path):
    settings = MailSettings(smtp_url=None, sender="x@example.org", outbox_dir=tmp_path / "out")
    first = send(_message(to="first@example.org"), settings)
    time.sleep(0.001)  # distinct time stamps in the names (the order is by name)
    second = send(_message(to="second@example.org", subject="Second"), settings)

    assert first.channel == "outbox"
    assert Path(first.where).parent == tmp_path / "out"
    # Only finished messages: no temporary file left behind.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [Path(first.where).name, Path(second.where).name]
    )
    entries = outbox(tmp_path / "out")
    assert [entry.to for entry in entries] == ["second@example.org", "first@example.org"]
    assert entries[0].subject == "Second"
    message = read_outbox(tmp_path / "out", entries[1].name)
    assert message is not None
    assert message["Subject"] == "¿Sigue siendo correcto?"
    assert message["Content-Language"] == "es"
    assert "https://example.org/confirm/abc?lang=es" in body_text(message)


def test_the_outbox_opens_only_its_own_files(tmp_path: Path):
    (tmp_path / "secret.eml").write_text("Subject: no\n\nno")
    outbox_dir = tmp_path / "out"
    outbox_dir.mkdir()
    (outbox_dir / ".tmp-half.tmp").write_text("Subject: half")
    for name in ("../secret.eml", "secret.eml", ".tmp-half.tmp", "20261127T180012123456Z-zz.eml"):
        assert read_outbox(outbox_dir, name) is None
    assert outbox(outbox_dir) == []
    assert outbox(tmp_path / "missing") == []
    assert read_outbox(outbox_dir, "20261127T180012123456Z-1a2b3c4d.eml") is None  # gone


def test_smtp_hands_the_message_to_a_real_server(smtp_server, tmp_path: Path):
    server, mailbox = smtp_server
    host, port = server.server_address
    settings = MailSettings(
        smtp_url=f"smtp://{host}:{port}", sender="x@example.org", outbox_dir=tmp_path / "out"
    )
    delivery = send(_message(), settings)

    assert delivery.channel == "smtp"
    assert delivery.where == f"{host}:{port}"
    assert not (tmp_path / "out").exists()  # nothing in the outbox
    [received] = mailbox.received
    assert received.recipients == ["ana@example.org"]
    assert received.sender == "no-reply@example.org"
    assert received.message["Subject"] == "¿Sigue siendo correcto?"
    assert "https://example.org/confirm/abc?lang=es" in body_text(received.message)


def test_smtp_logs_in_with_the_urls_credentials(smtp_server, tmp_path: Path):
    server, mailbox = smtp_server
    mailbox.user, mailbox.password = "mailer", "p@ss word"
    host, port = server.server_address
    url = f"smtp://mailer:p%40ss%20word@{host}:{port}"
    send(_message(), MailSettings(url, "x@example.org", tmp_path))
    assert mailbox.logins == ["mailer"]
    assert len(mailbox.received) == 1
    assert MailSettings(url, "x", tmp_path).describe() == f"SMTP {host}:{port}"  # no password

    wrong = f"smtp://mailer:wrong@{host}:{port}"
    with pytest.raises(MailError):
        send(_message(), MailSettings(wrong, "x@example.org", tmp_path))
    assert len(mailbox.received) == 1


def test_a_server_that_does_not_answer_is_a_mail_error(tmp_path: Path):
    # A port nobody listens on: bind one, then close it.
    probe = socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler)
    port = probe.server_address[1]
    probe.server_close()
    with pytest.raises(MailError):
        send(_message(), MailSettings(f"smtp://127.0.0.1:{port}", "x@example.org", tmp_path))
    with pytest.raises(MailError):
        send(_message(), MailSettings("http://example.org", "x@example.org", tmp_path))
