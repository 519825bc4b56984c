"""``flask confirm send`` (issue 13, point 1): a request to every stale record of a country,
with a progress bar, the count and where the e-mails went; ``--dry-run`` sends nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.confirmations.models import ConfirmationRequest
from directory.mail import body_text, outbox, read_outbox
from tests.test_confirmations import Records, build_records
from tests.test_mail import running_smtp_server


@pytest.fixture
def outbox_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    return tmp_path / "outbox"


@pytest.fixture
def records(db_session: Session) -> Records:
    records = build_records(db_session)
    build_records(db_session, country="HN")
    db_session.commit()
    return records


def _requests(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ConfirmationRequest))


def test_a_dry_run_counts_and_sends_nothing(
    runner: FlaskCliRunner, db_session: Session, records: Records, outbox_dir: Path
):
    result = runner.invoke(
        args=["confirm", "send", "--country", "gt", "--older-than", "365", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "Dry run: 2 records of GT would get a request" in result.output
    assert "Nothing was sent." in result.output
    assert "no e-mail address" not in result.output  # every stale record is reachable
    assert _requests(db_session) == 0
    assert outbox(outbox_dir) == []

    records.contact.email = None
    db_session.commit()
    result = runner.invoke(args=["confirm", "send", "--country", "GT", "--dry-run"])
    assert "Dry run: 1 records of GT would get a request" in result.output
    assert (
        "1 more record of GT was not confirmed for 365 days but has no e-mail address: "
        "call it, or add an address in the workspace."
    ) in result.output


def test_send_asks_every_stale_record_once(
    runner: FlaskCliRunner, db_session: Session, records: Records, outbox_dir: Path
):
    args = ["confirm", "send", "--country", "GT", "--base-url", "https://directory.example.org/"]
    result = runner.invoke(args=args)

    assert result.exit_code == 0, result.output
    assert "Requests" in result.output  # the progress bar's label
    assert f"Sent 2 confirmation requests for GT into the outbox {outbox_dir}." in result.output
    entries = outbox(outbox_dir)
    assert sorted(entry.to for entry in entries) == ["ana@example.org", "sitio@example.org"]
    for entry in entries:
        message = read_outbox(outbox_dir, entry.name)
        assert message is not None
        assert re.search(r"https://directory\.example\.org/confirm/\S+\?lang=", body_text(message))
    assert _requests(db_session) == 2
    # A second run finds the requests waiting: nothing more is sent.
    again = runner.invoke(args=args)
    assert again.exit_code == 0, again.output
    assert "Sent 0 confirmation requests" in again.output
    assert len(outbox(outbox_dir)) == 2


def test_send_in_batches_commits_them_all(
    runner: FlaskCliRunner, db_session: Session, records: Records, outbox_dir: Path
):
    result = runner.invoke(
        args=["confirm", "send", "--country", "HN", "--batch-size", "1", "--older-than", "0"]
    )
    assert result.exit_code == 0, result.output
    assert "Sent 2 confirmation requests for HN" in result.output
    assert _requests(db_session) == 2


def test_bad_input_is_a_clear_error(
    runner: FlaskCliRunner, app: Flask, records: Records, outbox_dir: Path, monkeypatch
):
    unknown = runner.invoke(args=["confirm", "send", "--country", "XX"])
    assert unknown.exit_code == 1
    assert "unknown country 'XX'" in unknown.output
    bad_url = runner.invoke(args=["confirm", "send", "--country", "GT", "--base-url", "ftp://x"])
    assert bad_url.exit_code == 1
    assert "--base-url" in bad_url.output
    negative = runner.invoke(args=["confirm", "send", "--country", "GT", "--older-than", "-1"])
    assert negative.exit_code == 2
    assert outbox(outbox_dir) == []


def test_send_through_smtp(
    runner: FlaskCliRunner,
    app: Flask,
    db_session: Session,
    records: Records,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    with running_smtp_server() as (server, mailbox):
        host, port = server.server_address
        monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://{host}:{port}")
        result = runner.invoke(args=["confirm", "send", "--country", "GT"])
    assert result.exit_code == 0, result.output
    assert f"Sent 2 confirmation requests for GT through SMTP {host}:{port}." in result.output
    assert sorted(r for received in mailbox.received for r in received.recipients) == [
        "ana@example.org",
        "sitio@example.org",
    ]
    assert not (tmp_path / "outbox").exists()
    link = re.search(
        r"http://127\.0\.0\.1:5000/confirm/\S+", body_text(mailbox.received[0].message)
    )
    assert link, "the link is made on PUBLIC_URL"


def test_a_refusing_smtp_server_stops_with_a_message(
    runner: FlaskCliRunner,
    app: Flask,
    db_session: Session,
    records: Records,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    with running_smtp_server() as (server, mailbox):
        mailbox.user, mailbox.password = "mailer", "right"
        host, port = server.server_address
        monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://mailer:wrong@{host}:{port}")
        result = runner.invoke(args=["confirm", "send", "--country", "GT"])
    assert result.exit_code == 1
    assert "stopped after 0 requests" in result.output
    assert mailbox.received == []
    assert _requests(db_session) == 0
