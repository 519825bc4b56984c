"""Sending e-mail: through SMTP when ``SMTP_URL`` is configured, else into an outbox folder.

The outbox is what a directory without a mail server (a laptop, a test, a first
installation) still needs: every message is kept as an ``.eml`` file the secretariat reads
in the workspace (``/workspace/outbox``) and the tests read. One message, one file, written
to a temporary name and renamed, so a reader never sees half a message. File names start
with the UTC time stamp, so sorting them by name lists the newest first.

No Flask here: callers pass ``MailSettings`` (``settings_from`` reads them from a config
mapping and the app's instance folder).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import smtplib
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DEFAULT_SENDER = "Protection Directory <no-reply@localhost>"
# How long an SMTP conversation may wait for the server (seconds).
SMTP_TIMEOUT = 20
# "20261127T180012123456Z-1a2b3c4d.eml": the only names the outbox lists or opens.
OUTBOX_NAME = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{8}\.eml$")


class MailError(Exception):
    """A message that could not be handed over (a bad ``SMTP_URL``, a refusing server)."""


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Where messages go: ``smtp_url`` (``smtp://user:pass@host:port`` or ``smtps://…``),
    or, without it, files in ``outbox_dir``."""

    smtp_url: str | None
    sender: str
    outbox_dir: Path

    @property
    def uses_smtp(self) -> bool:
        return bool(self.smtp_url)

    def describe(self) -> str:
        """Where messages go, for a person (the password of the SMTP URL left out)."""
        if self.smtp_url:
            server = _SmtpServer.parse(self.smtp_url)
            return f"SMTP {server.host}:{server.port}"
        return str(self.outbox_dir)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one message left: ``smtp`` (``where``: the server) or ``outbox`` (the file)."""

    channel: str
    where: str


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A message kept in the outbox, as the list shows it."""

    name: str
    written_at: dt.datetime
    to: str
    subject: str


def settings_from(config: Mapping[str, Any], instance_path: str | Path) -> MailSettings:
    """The mail settings of an app's config (``SMTP_URL``, ``MAIL_FROM``, ``OUTBOX_DIR``;
    the outbox defaults to ``<instance_path>/outbox``)."""
    outbox = config.get("OUTBOX_DIR") or Path(instance_path) / "outbox"
    return MailSettings(
        smtp_url=(config.get("SMTP_URL") or None),
        sender=config.get("MAIL_FROM") or DEFAULT_SENDER,
        outbox_dir=Path(outbox),
    )


def build_message(*, sender: str, to: str, subject: str, body: str, language: str) -> EmailMessage:
    """A plain-text message (UTF-8), with the headers a mail server expects."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    message["Content-Language"] = language  # after set_content, which drops Content-*
    return message


def send(message: EmailMessage, settings: MailSettings) -> Delivery:
    """Hand ``message`` to the SMTP server, or write it into the outbox."""
    if settings.smtp_url:
        return _send_smtp(message, _SmtpServer.parse(settings.smtp_url))
    return Delivery("outbox", str(write_to_outbox(message, settings.outbox_dir)))


def write_to_outbox(message: EmailMessage, outbox_dir: Path) -> Path:
    """Write ``message`` as ``<time stamp>-<random>.eml``: to a temporary file first, then
    renamed, so the outbox never holds half a message."""
    outbox_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    name = f"{now:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(4)}.eml"
    descriptor, temporary = tempfile.mkstemp(dir=outbox_dir, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(message.as_bytes(policy=policy.SMTP))
            handle.flush()
            os.fsync(handle.fileno())
        target = outbox_dir / name
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def outbox(outbox_dir: Path, limit: int = 200) -> list[OutboxEntry]:
    """The messages in the outbox, newest first (at most ``limit``)."""
    if not outbox_dir.is_dir():
        return []
    names = sorted(
        (p.name for p in outbox_dir.iterdir() if OUTBOX_NAME.match(p.name)), reverse=True
    )
    entries = []
    for name in names[:limit]:
        message = read_outbox(outbox_dir, name)
        if message is None:
            continue
        entries.append(
            OutboxEntry(
                name=name,
                written_at=_written_at(name),
                to=str(message.get("To", "")),
                subject=str(message.get("Subject", "")),
            )
        )
    return entries


def read_outbox(outbox_dir: Path, name: str) -> EmailMessage | None:
    """One message of the outbox by its file name; None for a name that is not one of
    ours (nothing outside the folder can be named) or a file that is gone."""
    if not OUTBOX_NAME.match(name):
        return None
    try:
        with (outbox_dir / name).open("rb") as handle:
            parsed = BytesParser(policy=policy.default).parse(handle)
    except FileNotFoundError:
        return None
    assert isinstance(parsed, EmailMessage)
    return parsed


def body_text(message: EmailMessage) -> str:
    """The plain-text body of a message we wrote."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""  # type: ignore[union-attr]


def _written_at(name: str) -> dt.datetime:
    return dt.datetime.strptime(name[:21], "%Y%m%dT%H%M%S%f").replace(tzinfo=dt.UTC)


def _domain_of(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rpartition("@")[2] or "localhost"


@dataclass(frozen=True, slots=True)
class _SmtpServer:
    secure: bool  # smtps: TLS from the first byte
    host: str
    port: int
    user: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> _SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise MailError("SMTP_URL must look like smtp://user:password@host:port (or smtps://)")
        secure = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if secure else 587)
        except ValueError as error:
            raise MailError(f"SMTP_URL has a bad port: {error}") from None
        return cls(
            secure=secure,
            host=parts.hostname,
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _send_smtp(message: EmailMessage, server: _SmtpServer) -> Delivery:
    """One SMTP conversation per message: STARTTLS when the server offers it (smtp://),
    TLS throughout (smtps://); log in when the URL has a user."""
    context = ssl.create_default_context()
    try:
        if server.secure:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host, server.port, timeout=SMTP_TIMEOUT, context=context
            )
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT)
        with connection:
            connection.ehlo()
            if not server.secure and connection.has_extn("starttls"):
                connection.starttls(context=context)
                connection.ehlo()
            if server.user:
                connection.login(server.user, server.password or "")
            connection.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"the SMTP server {server.host}:{server.port} refused: {error}") from error
    return Delivery("smtp", f"{server.host}:{server.port}")
