"""The second factor: time-based codes (TOTP, RFC 6238, with pyotp), the QR code that
carries the secret to the person's app (drawn here as SVG with segno: no third party sees
the secret), and single-use recovery codes.

Recovery codes are random (50 bits each), so a SHA-256 digest is enough to store them:
nobody can guess one from its digest, and checking ten of them stays fast.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import time

import pyotp
import segno

from directory.accounts.models import User

ISSUER = "Protection Directory"
RECOVERY_CODE_COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an ``<img src>`` (a data: URL, which the CSP allows)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def accept_code(user: User, code: str, *, at: float | None = None) -> bool:
    """Whether ``code`` is the current TOTP code (one step of clock drift either way), and
    not one already accepted; an accepted code's time step is remembered."""
    if not user.totp_secret:
        return False
    code = _normalize(code)
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = totp.timecode(time.time() if at is None else at)
    for step in (now - 1, now, now + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def _digest(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh codes (``abcde-fghjk``), shown once; only their digests are kept."""
    codes = [
        "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _half in range(2))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    user.recovery_codes = [_digest(code) for code in codes]
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Whether ``code`` is one of the user's unused recovery codes; it is used up."""
    digest = _digest(code)
    if not _normalize(code) or digest not in user.recovery_codes:
        return False
    user.recovery_codes = [kept for kept in user.recovery_codes if kept != digest]
    return True
