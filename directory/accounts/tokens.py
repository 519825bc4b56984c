"""One-time set-password links (itsdangerous): signed, dated, and bound to the account's
security stamp.

The token carries the user id and the stamp the account had when the link was made. Using
the link sets a password and changes the stamp, so the same link (and any other one
outstanding) is refused afterwards; an altered token fails its signature; an old one its
age. No Flask here: the caller passes the secret key and the maximum age.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from directory.accounts.models import User

SALT = "directory.set-password"


class LinkProblem(enum.StrEnum):
    EXPIRED = "expired"
    INVALID = "invalid"  # altered, or not a link of ours
    USED = "used"  # the stamp changed since: used, or superseded by a newer link


@dataclass(frozen=True)
class LinkCheck:
    user: User | None
    problem: LinkProblem | None


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def make_set_password_token(secret_key: str, user: User) -> str:
    return _serializer(secret_key).dumps({"u": user.id, "s": user.security_stamp})


def check_set_password_token(
    session: Session, secret_key: str, token: str, max_age_seconds: int
) -> LinkCheck:
    """The account a link is for, or why it is refused."""
    try:
        payload = _serializer(secret_key).loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        return LinkCheck(None, LinkProblem.EXPIRED)
    except BadSignature:
        return LinkCheck(None, LinkProblem.INVALID)
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        return LinkCheck(None, LinkProblem.INVALID)
    user = session.get(User, payload["u"])
    if user is None or not user.active:
        return LinkCheck(None, LinkProblem.INVALID)
    if payload.get("s") != user.security_stamp:
        return LinkCheck(None, LinkProblem.USED)
    return LinkCheck(user, None)
