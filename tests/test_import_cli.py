"""``flask import locations|contacts FILE.csv [--apply]``: the dry run printed first, exit
code 1 on problems, the apply in one transaction, every run recorded as a batch."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.imports import locations_csv
from directory.imports.models import ImportBatch, ImportStatus
from directory.places.models import Location, Network
from tests.test_imports_locations import GOOD_ROWS, csv_bytes, digest
from tests.test_imports_locations import places as places


def write(tmp_path: Path, content: bytes, name: str = "partner.csv") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def batches_of(session: Session) -> list[ImportBatch]:
    return list(session.scalars(select(ImportBatch).order_by(ImportBatch.id)))


def count_locations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Location)) or 0


def test_the_dry_run_prints_every_problem_and_exits_1(
    runner: FlaskCliRunner, places: Session, tmp_path: Path
) -> None:
    before = digest(places)
    bad = csv_bytes(
        GOOD_ROWS[0],
        "p:4,casa-gt,Guatemala,XX,14.6,-90.5,,,,,,",
        "p:5,casa-gt,Guatemala,GT,14.6,-90.5,spa,,,,,",
        "p:6,casa-gt,Guatemala,GT,95,-90.5,,,,,,",
    )
    result = runner.invoke(args=["import", "locations", write(tmp_path, bad), "--apply"])
    assert result.exit_code == 1
    assert "line 3, country_code: There is no country XX" in result.output
    assert "line 4, categories: There is no category “spa”" in result.output
    assert "line 5, lat: 95 is not between -90 and 90" in result.output
    assert "3 problems: nothing was applied." in result.output
    assert digest(places) == before
    [batch] = batches_of(places)
    assert batch.status == ImportStatus.CHECKED
    assert batch.counts["errors"] == 3
    assert batch.source == "partner"
    assert batch.content is None


def test_without_apply_nothing_is_applied(
    runner: FlaskCliRunner, places: Session, tmp_path: Path
) -> None:
    result = runner.invoke(args=["import", "locations", write(tmp_path, csv_bytes(*GOOD_ROWS))])
    assert result.exit_code == 0, result.output
    assert "3 rows: 3 would be added, 0 updated, 0 left as they are." in result.output
    assert "run again with --apply" in result.output
    assert count_locations(places) == 0


def test_apply_writes_every_row(runner: FlaskCliRunner, places: Session, tmp_path: Path) -> None:
    path = write(tmp_path, csv_bytes(*GOOD_ROWS))
    result = runner.invoke(args=["import", "locations", path, "--apply", "--source", "feed-1"])
    assert result.exit_code == 0, result.output
    assert "3 rows: 3 added, 0 updated, 0 left as they were." in result.output
    assert count_locations(places) == 3
    [batch] = batches_of(places)
    assert batch.status == ImportStatus.APPLIED
    assert batch.source == "feed-1"
    sources = set(places.scalars(select(Location.source)))
    assert sources == {"feed-1"}

    again = runner.invoke(args=["import", "locations", path, "--apply", "--source", "feed-1"])
    assert again.exit_code == 0, again.output
    assert "0 added, 0 updated, 3 left as they were." in again.output


def test_an_error_halfway_applies_nothing(
    runner: FlaskCliRunner, places: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = digest(places)
    rows = [f"q:{n},casa-gt,Guatemala,GT,{14 + n / 1000:.3f},-90.5,food,,,,," for n in range(10)]
    monkeypatch.setattr(locations_csv, "CHUNK_ROWS", 3)
    original = locations_csv._apply_chunk
    calls: list[int] = []

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:  # two chunks (6 rows) are in the table by now
            raise RuntimeError("disk on fire")
        return original(*args, **kwargs)

    monkeypatch.setattr(locations_csv, "_apply_chunk", failing)
    result = runner.invoke(
        args=["import", "locations", write(tmp_path, csv_bytes(*rows)), "--apply"]
    )
    assert result.exit_code == 1
    assert "The import failed and nothing was applied: disk on fire" in result.output
    assert len(calls) == 3
    assert digest(places) == before
    [batch] = batches_of(places)
    assert batch.status == ImportStatus.CHECKED  # the attempt is on record, not applied


def test_a_countrys_file_refuses_other_rows(
    runner: FlaskCliRunner, places: Session, tmp_path: Path
) -> None:
    path = write(tmp_path, csv_bytes(*GOOD_ROWS))
    result = runner.invoke(args=["import", "locations", path, "--country", "gt", "--apply"])
    assert result.exit_code == 1
    assert (
        "line 4, country_code: This row is in MX: you can import rows of GT only." in result.output
    )
    assert count_locations(places) == 0


def test_contacts(runner: FlaskCliRunner, places: Session, tmp_path: Path) -> None:
    places.add(Network(code="RNCOM", names={"en": "RNCOM"}))
    places.flush()
    content = (
        b"external_id,country_code,network,name,role,valid_from\n"
        b"c:1,GT,RNCOM,Ana,primary,2026-01-01\n"
    )
    path = write(tmp_path, content, "contacts.csv")
    result = runner.invoke(args=["import", "contacts", path, "--apply"])
    assert result.exit_code == 0, result.output
    assert "1 row: 1 added" in result.output
    bad = write(tmp_path, b"external_id;country_code\n", "bad.csv")
    result = runner.invoke(args=["import", "contacts", bad])
    assert result.exit_code == 1
    assert "separated by semicolons" in result.output
