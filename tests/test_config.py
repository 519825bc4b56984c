import pytest

from directory import config, create_app
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


def test_development_keeps_one_key_for_the_server_and_the_command_line(tmp_path):
    """`make run` and `flask users create` in another terminal sign with the same key."""
    key_file = tmp_path / "instance" / "secret_key"
    first = config.development_secret_key(key_file)
    assert len(first) == 64
    assert config.development_secret_key(key_file) == first
    assert key_file.stat().st_mode & 0o777 == 0o600
