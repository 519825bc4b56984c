"""Opaque cursors for keyset pagination: "the rows after this one".

A list ordered by a computed value (a distance, a position along a route) and then by id
is paged by remembering the last row's ``(value, id)``. The client gets it as an opaque
URL-safe token (``next_cursor``) and sends it back as ``cursor``; a token that was tampered
with or truncated is a 400 naming ``cursor``, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_

from directory.web.args import invalid_parameter


@dataclass(frozen=True, slots=True)
class Cursor:
    """The sort key of the last row a page returned."""

    value: float
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.value, self.id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Read a token made by ``encode``; anything else is a 400 for ``cursor``."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            value, row_id = json.loads(raw)
            if isinstance(value, bool) or isinstance(row_id, bool):
                raise ValueError("not numbers")
            cursor = cls(float(value), int(row_id))
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
            raise invalid_parameter("cursor", "is not a cursor this API gave out") from None
        if not math.isfinite(cursor.value) or cursor.id != row_id:
            raise invalid_parameter("cursor", "is not a cursor this API gave out")
        return cursor

    def after(self, value: ColumnElement, row_id: ColumnElement) -> ColumnElement:
        """SQL: the row comes after this cursor in ``ORDER BY value, row_id``."""
        return or_(value > self.value, and_(value == self.value, row_id > self.id))
