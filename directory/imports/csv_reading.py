"""Reading an uploaded CSV file the way people actually send them.

Partners export their lists from spreadsheets, so the file may be UTF-8 with or without a
byte-order mark, separated by semicolons (a spreadsheet set to a Spanish or French locale),
or not a CSV at all (the .xlsx itself, a screenshot, a web page saved by mistake). Each of
these gets one clear problem that says what to do, instead of a thousand rows of noise.

``read_csv`` returns the header and the data rows with the line each starts on (a quoted
cell may span lines, so the line is the one a text editor shows), or the problems that stop
the file from being read at all. It works on bytes in memory: 50 MB at most (the upload
limit), read once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from directory.imports.report import Problem

BOM = b"\xef\xbb\xbf"

# The first bytes of files people send instead of a CSV, and what they are.
SIGNATURES: tuple[tuple[bytes, object], ...] = (
    (b"PK\x03\x04", _l("a ZIP archive or an Excel workbook (.xlsx)")),
    (b"\xd0\xcf\x11\xe0", _l("an old Excel workbook (.xls)")),
    (b"\x89PNG", _l("a PNG image")),
    (b"\xff\xd8\xff", _l("a JPEG image")),
    (b"GIF8", _l("a GIF image")),
    (b"%PDF", _l("a PDF document")),
    (b"\x1f\x8b", _l("a gzip archive")),
    (b"\xff\xfe", _l("a UTF-16 text (save it as UTF-8)")),
    (b"\xfe\xff", _l("a UTF-16 text (save it as UTF-8)")),
)
# Text files that are not CSV, by how they start (after blanks), lower case.
TEXT_STARTS: tuple[tuple[str, object], ...] = (
    ("<!doctype", _l("a web page (HTML)")),
    ("<html", _l("a web page (HTML)")),
    ("<?xml", _l("an XML document")),
    ("<", _l("a web page or XML document")),
    ("{", _l("a JSON document")),
    ("[", _l("a JSON document")),
)

NOT_CSV = _l(
    "This is not a CSV file: it looks like %(what)s. Save the sheet as “CSV UTF-8 "
    "(comma-separated)” and upload that file."
)
BINARY = _l(
    "This is not a CSV file: it holds binary data. Save the sheet as “CSV UTF-8 "
    "(comma-separated)” and upload that file."
)
BAD_UTF8 = _l(
    "The file is not valid UTF-8 at byte %(byte)s (line %(line)s). Save it as “CSV UTF-8” "
    "and upload it again."
)
EMPTY = _l("The file is empty: it has no header line.")
NO_ROWS = _l("The file has a header line but no rows.")
SEPARATOR = _l(
    "The columns are separated by %(separator)s, not by commas. Save the sheet as “CSV UTF-8 "
    "(comma-separated)” and upload that file."
)
SEMICOLONS = _l("semicolons")
TABS = _l("tabs")
MISSING_COLUMNS = _l("Required columns are missing: %(columns)s.")
UNKNOWN_COLUMNS = _l("These columns are not known and were left out: %(columns)s.")
DUPLICATE_COLUMN = _l("The column %(column)s appears twice in the header.")
EMPTY_COLUMN = _l("Column %(position)s of the header has no name.")
TOO_MANY_CELLS = _l("This row has %(cells)s cells, but the header has %(columns)s columns.")
UNREADABLE = _l("This line cannot be read as CSV: %(error)s.")


@dataclass(frozen=True, slots=True)
class CsvRow:
    """A data row: the line it starts on, and its cells by column name (stripped)."""

    line: int
    cells: dict[str, str]


@dataclass
class CsvFile:
    """What ``read_csv`` made of a file. With ``problems`` no row is worth checking."""

    columns: list[str] = field(default_factory=list)
    rows: list[CsvRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def _not_csv(content: bytes) -> Problem | None:
    """One problem when the bytes are plainly something other than a text table."""
    for signature, what in SIGNATURES:
        if content.startswith(signature):
            return Problem(None, None, _not_csv_message(what))
    head = content[:8192]
    if b"\x00" in head:
        return Problem(None, None, BINARY)
    start = head.removeprefix(BOM).lstrip().lower()
    for prefix, what in TEXT_STARTS:
        if start.startswith(prefix.encode()):
            return Problem(None, None, _not_csv_message(what))
    return None


class _Message:
    """A lazy message with its values, rendered in the language current when shown."""

    __slots__ = ("template", "values")

    def __init__(self, template: object, **values: object) -> None:
        self.template = template
        self.values = values

    def __str__(self) -> str:
        values = {key: str(value) for key, value in self.values.items()}
        return str(self.template) % values

    def __repr__(self) -> str:
        return f"_Message({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def message(template: object, **values: object) -> _Message:
    """``template`` (a ``lazy_gettext`` with ``%(name)s`` placeholders) filled with
    ``values`` when it is shown, so a report made once reads in each reader's language."""
    return _Message(template, **values)


def _not_csv_message(what: object) -> _Message:
    return message(NOT_CSV, what=what)


def _decode(content: bytes) -> tuple[str | None, Problem | None]:
    body = content.removeprefix(BOM)
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError as error:
        offset = error.start + (len(content) - len(body))
        line = content[:offset].count(b"\n") + 1
        return None, Problem(line, None, message(BAD_UTF8, byte=offset + 1, line=line))


def _separator_problem(header_line: str, columns: list[str]) -> Problem | None:
    """A header read with commas that is plainly separated by something else."""
    semicolons, tabs = header_line.count(";"), header_line.count("\t")
    if len(columns) > 1 and max(semicolons, tabs) < len(columns):
        return None
    if semicolons > tabs and semicolons > 0:
        return Problem(1, None, message(SEPARATOR, separator=SEMICOLONS))
    if tabs > 0:
        return Problem(1, None, message(SEPARATOR, separator=TABS))
    return None


def read_csv(
    content: bytes,
    *,
    required: Iterable[str],
    known: Iterable[str],
) -> CsvFile:
    """The header and rows of ``content``, or the problems that stop it from being read.

    Column names are compared in lower case, without surrounding blanks; a missing required
    column is one problem naming them all; an unknown column is a note (its cells are left
    out). Blank lines are skipped.
    """
    result = CsvFile()
    if not content.strip():
        result.problems.append(Problem(None, None, EMPTY))
        return result
    if problem := _not_csv(content):
        result.problems.append(problem)
        return result
    text, problem = _decode(content)
    if problem is not None or text is None:
        result.problems.append(problem or Problem(None, None, EMPTY))
        return result

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        result.problems.append(Problem(None, None, EMPTY))
        return result
    except csv.Error as error:
        result.problems.append(Problem(1, None, message(UNREADABLE, error=error)))
        return result
    header_line = text.split("\n", 1)[0]
    columns = [name.strip().lower() for name in header]
    if problem := _separator_problem(header_line, columns):
        result.problems.append(problem)
        return result
    seen: set[str] = set()
    for position, name in enumerate(columns, start=1):
        if not name:
            result.problems.append(Problem(1, None, message(EMPTY_COLUMN, position=position)))
        elif name in seen:
            result.problems.append(Problem(1, name, message(DUPLICATE_COLUMN, column=name)))
        seen.add(name)
    missing = [name for name in required if name not in seen]
    if missing:
        result.problems.append(
            Problem(1, None, message(MISSING_COLUMNS, columns=", ".join(missing)))
        )
    known_set = set(known)
    unknown = [name for name in columns if name and name not in known_set]
    if unknown:
        result.notes.append(Problem(1, None, message(UNKNOWN_COLUMNS, columns=", ".join(unknown))))
    if result.problems:
        return result
    result.columns = columns

    width = len(columns)
    keep = [(index, name) for index, name in enumerate(columns) if name in known_set]
    last_line = reader.line_num
    while True:
        line = last_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            result.problems.append(Problem(line, None, message(UNREADABLE, error=error)))
            break
        last_line = reader.line_num
        if not cells or all(not cell.strip() for cell in cells):
            continue
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            result.problems.append(
                Problem(line, None, message(TOO_MANY_CELLS, cells=len(cells), columns=width))
            )
            continue
        result.rows.append(
            CsvRow(
                line,
                {name: cells[index].strip() if index < len(cells) else "" for index, name in keep},
            )
        )
    if not result.rows and not result.problems:
        result.problems.append(Problem(None, None, NO_ROWS))
    return result
