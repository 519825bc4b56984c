"""Passwords: scrypt hashes (werkzeug), and the same work whether or not the account exists.

Checking a password against a stored hash takes a noticeable time (that is the point of
scrypt); answering "unknown account" at once would tell an attacker which e-mails have an
account. ``check`` therefore hashes against a dummy when there is no hash to check.
"""

from __future__ import annotations

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
METHOD = "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=METHOD)


@cache
def _dummy_hash() -> str:
    return hash_password("not a password anybody has: the work of a check")


def check(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; as slow for a missing hash (unknown account, invited
    user) as for a real one."""
    if not password_hash:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)
