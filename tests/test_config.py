import pytest

from directory.config import sqlalchemy_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5/db", "postgresql+psycopg2://u@h:5/db"),
        ("postgres://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
    ],
)
def test_database_url_uses_psycopg2(given, expected):
    assert sqlalchemy_url(given) == expected
