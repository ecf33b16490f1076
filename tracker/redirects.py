"""Where a ``next`` parameter may send a user: only to paths on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_safe_local_path(target: str | None) -> bool:
    if not target or not target.startswith("/"):
        return False
    # Browsers treat '\' like '/', so '/\evil' and '//evil' both leave the site; control
    # characters and spaces are stripped by browsers before parsing, so refuse them outright.
    if target.startswith(("//", "/\\")) or "\\" in target:
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default: str) -> str:
    return target if target is not None and is_safe_local_path(target) else default
