"""Two-step verification: TOTP codes from an authenticator app (RFC 6238) and recovery codes.

This module only computes: secrets, the QR code, whether a code matches and at which time step,
and the text of recovery codes. tracker/auth/operations.py stores and audits.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime

import pyotp
import segno

from tracker.auth import passwords

ISSUER = "Scrutiny tracker"
# A code is accepted one 30-second step either side of now, for clocks that drift a little.
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
# Recovery codes: 10 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as xxxxx-xxxxx.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10


def new_secret() -> str:
    """A random 160-bit TOTP key, base32 as authenticator apps expect."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_code_data_uri(secret: str, email: str) -> str:
    """The provisioning URI as a QR code, an SVG drawn on the server (an ``img`` source: no script)."""
    return segno.make(provisioning_uri(secret, email), error="m").svg_data_uri(scale=5, border=4)


def grouped(secret: str) -> str:
    """The key in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise_code(text: str) -> str:
    """What the user typed, without spaces and dashes, lower-cased."""
    return re.sub(r"[\s\-]", "", text or "").lower()


def looks_like_totp(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, *, after_step: int | None, now: datetime) -> int | None:
    """The time step at which ``code`` is valid for ``secret`` near ``now``, if that step is later than
    ``after_step`` (the last step accepted for this user: no code is accepted twice); otherwise None."""
    if not looks_like_totp(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    found = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        # Every candidate is compared, in constant time, whatever matched before.
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    if found is None or (after_step is not None and found <= after_step):
        return None
    return found


def current_code(secret: str, now: datetime) -> str:
    return pyotp.TOTP(secret).at(now)


def seconds_left(secret: str, now: datetime) -> int:
    interval = pyotp.TOTP(secret).interval
    return interval - int(now.timestamp()) % interval


def new_recovery_codes() -> list[str]:
    """Ten random codes, each shown once as xxxxx-xxxxx (about 49 bits each)."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def hash_recovery_code(code: str) -> str:
    """Stored like a password: argon2id of the code without its dash."""
    return passwords.hash_password(normalise_code(code))


def recovery_code_matches(code_hash: str, typed: str) -> bool:
    return passwords.verify_password(code_hash, normalise_code(typed))
