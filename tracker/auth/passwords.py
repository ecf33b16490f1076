"""Password hashing (argon2id) and the password policy.

Policy (NCSC / ASVS): 12 to 128 characters, no composition rules; refuse passwords that are
common, built on the service's own words, or made of the user's e-mail address or name.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

MIN_LENGTH = 12
MAX_LENGTH = 128

# Words a guesser would try first against this particular service.
SERVICE_WORDS = {
    "scrutiny",
    "tracker",
    "domestic",
    "abuse",
    "police",
    "idva",
    "marac",
    "safeguarding",
    "password",
    "passw0rd",
    "welcome",
    "letmein",
    "admin",
    "chair",
    "partner",
    "manager",
    "agency",
    "meeting",
    "demo",
}


@lru_cache(maxsize=4)
def _hasher_with(parameters: tuple) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(**dict(parameters))  # argon2id
    # Verified against when the e-mail address is unknown, so both paths take the same time.
    dummy_hash = hasher.hash("not-a-real-password-only-for-timing")
    return hasher, dummy_hash


def _hasher() -> tuple[PasswordHasher, str]:
    """argon2id with the library's recommended parameters, unless the config says otherwise
    (the test configuration uses cheap ones so hundreds of sign-ins stay fast)."""
    parameters = current_app.config.get("ARGON2_PARAMETERS") if has_app_context() else None
    return _hasher_with(tuple(sorted((parameters or {}).items())))


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


# Stored for an account whose holder has not yet chosen a password (an invitation is pending):
# no password matches it.
NO_PASSWORD = "!no-password-set"  # noqa: S105  (a marker, not a password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy_hash = _hasher()
    usable = password_hash is not None and password_hash.startswith("$argon2")
    try:
        # An account without a usable password is checked against the dummy hash, so it takes as long.
        return hasher.verify(password_hash if password_hash and usable else dummy_hash, password) and usable
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return password_hash.startswith("$argon2") and _hasher()[0].check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common-passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _is_made_of(text: str, words: set[str]) -> bool:
    """True if ``text`` is nothing but a run of ``words`` (e.g. 'scrutinytrackerpassword')."""
    if not text:
        return True
    reachable = [True] + [False] * len(text)
    for end in range(1, len(text) + 1):
        reachable[end] = any(
            reachable[end - len(word)] and text.endswith(word, 0, end) for word in words if len(word) <= end
        )
    return reachable[len(text)]


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """The reason a new password is refused, in words a user understands; None if it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"

    lowered = password.lower()
    personal_words = {part for part in re.split(r"[^a-z]+", (email + " " + name).lower()) if len(part) >= 3}
    email = email.lower()
    if email and (lowered == email or lowered == email.split("@")[0]):
        return "Password must not be your email address"

    # Strip what people add to meet old composition rules: digits and symbols at either end.
    core = re.sub(r"^[^a-z]+|[^a-z]+$", "", lowered)
    if lowered in common_passwords() or core in common_passwords() or len(set(lowered)) < 4:
        return "Password is too common or too easy to guess. Try a few unrelated words together"
    letters = _letters(password)
    if letters and _is_made_of(letters, SERVICE_WORDS | personal_words):
        return "Password must not be made of your name, email address or the name of this service"
    return None
