import pytest

from directory import create_app
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


def test_outside_development_the_app_refuses_to_start_without_a_secret_key(test_database):
    url = test_database.render_as_string(hide_password=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "", "DIRECTORY_ENV": "production"}
        )
    development = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "", "DIRECTORY_ENV": "development"}
    )
    assert len(development.config["SECRET_KEY"]) == 64
    given = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "s3cret"})
    assert given.config["SECRET_KEY"] == "s3cret"
