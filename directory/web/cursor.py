"""Opaque cursors for keyset pagination: "the rows after this one".

A list ordered by a computed value (a distance, a position along a route) and then by id
is paged by remembering the last row's ``(value, id)``. The client gets it as an opaque
URL-safe token (``next_cursor``) and sends it back as ``cursor``; a token that was tampered
with or truncated is a 400 naming ``cursor``, never a 500. The SQL side of "after" is
``directory.db.keyset_after``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields

NOT_OURS = _l("is not a cursor this API gave out")


class CursorError(ValueError):
    """A token ``Cursor.encode`` did not make."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """The sort key of the last row a page returned."""

    value: float
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.value, self.id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def read(cls, token: str) -> Cursor:
        """Read a token made by ``encode``; anything else raises ``CursorError``."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            value, row_id = json.loads(raw)
            if isinstance(value, bool) or isinstance(row_id, bool):
                raise ValueError("not numbers")
            cursor = cls(float(value), int(row_id))
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError):
            raise CursorError(str(NOT_OURS)) from None
        if not math.isfinite(cursor.value) or cursor.id != row_id:
            raise CursorError(str(NOT_OURS))
        return cursor

    @property
    def key(self) -> tuple[float, int]:
        return (self.value, self.id)


class CursorField(fields.String):
    """A ``cursor`` query parameter, loaded as its sort key ``(value, id)``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(load_default=None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        token = super()._deserialize(value, attr, data, **kwargs)
        if len(token) > 200:
            raise ValidationError(str(NOT_OURS))
        try:
            return Cursor.read(token).key
        except CursorError as error:
            raise ValidationError(str(error)) from None
