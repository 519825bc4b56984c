"""The opaque pagination cursor: round trip, and a clear 400 for anything else."""

from __future__ import annotations

import pytest

from directory.web.args import read_query
from directory.web.cursor import Cursor, CursorError
from directory.web.errors import ApiError
from directory.web.schemas import PartnerPageArgs


@pytest.mark.parametrize("cursor", [Cursor(0.0, 1), Cursor(1234.5678901234, 99), Cursor(-3.5, 7)])
def test_a_cursor_survives_the_round_trip_exactly(cursor):
    token = cursor.encode()
    assert token.isascii()
    assert not set(token) & {"=", "/", "+"}
    assert Cursor.read(token) == cursor


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "!!!",
        "W10",  # []
        Cursor(1.0, 2).encode()[:-3],
        "WyJhIiwxXQ",  # ["a",1]
        "WzEsMS41XQ",  # [1,1.5]
        "W3RydWUsMV0",  # [true,1]
    ],
)
def test_a_foreign_token_is_a_400_naming_cursor(app, token):
    with pytest.raises(CursorError):
        Cursor.read(token)
    if token:  # a blank parameter is an absent one
        request = app.test_request_context("/", query_string={"cursor": token})
        with request, pytest.raises(ApiError) as raised:
            read_query(PartnerPageArgs())
        assert raised.value.status == 400
        assert raised.value.message.startswith("cursor: ")
