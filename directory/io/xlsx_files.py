"""XLSX out: one sheet a person can work from as soon as it opens.

A header row in bold that stays in view (frozen panes at A2), columns as wide as their
content (capped, so one long text does not push the rest off screen), dates as dates and
numbers as numbers. Text cells get the CSV's protection against formulas (``safe_cell``)
and are stored as strings whatever they start with: openpyxl would otherwise write a text
starting with "=" as a formula, which Excel runs.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from directory.io.csv_files import safe_cell

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Column widths in characters: at least the header's, at most this.
MAX_WIDTH = 60
MIN_WIDTH = 6
DATE_FORMAT = "yyyy-mm-dd"


def _text(value: str) -> str:
    """A text cell: formula-safe, without the control characters XML 1.0 cannot hold
    (openpyxl refuses them, and a stray one in a record must not fail the download)."""
    return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value))


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell | Any:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, _text(value))
        cell.data_type = "s"  # never a formula, even if a future prefix rule misses one
        return cell
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = DATE_FORMAT
        return cell
    return value  # numbers, booleans, None (an empty cell)


def _shown_length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.date):
        return len(DATE_FORMAT)
    text = str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def column_widths(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Each column's width: its longest header or cell line, plus a margin, capped."""
    widths = [len(name) for name in columns]
    for row in rows:
        for index, value in enumerate(row):
            widths[index] = max(widths[index], _shown_length(value))
    return [float(min(MAX_WIDTH, max(MIN_WIDTH, width + 2))) for width in widths]


def xlsx_bytes(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, sheet_title: str = "Sheet1"
) -> bytes:
    """A workbook of one sheet: the header row, then ``rows`` (write-only mode: rows are
    written out as they come, not kept as cell objects; the widths need every row first)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    for index, width in enumerate(column_widths(columns, rows), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, _text(name))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
