"""Password hashing (argon2id) and the OWASP ASVS password rules."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 128

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common-passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def password_problem(password: str, *, email: str = "", display_name: str = "") -> str | None:
    """The reason a password is refused (in Chinese), or None when it is acceptable.

    ASVS V2.1: at least 8 characters, up to 128, any characters allowed, no composition rules,
    checked against a list of common passwords and the account's own identifiers.
    """
    if len(password) < MIN_LENGTH:
        return f"密码至少需要 {MIN_LENGTH} 个字符"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过 {MAX_LENGTH} 个字符"
    lowered = password.lower()
    if lowered in _common_passwords():
        return "这个密码太常见，容易被猜中，请换一个"
    local = email.split("@")[0].lower()
    if (local and len(local) >= 4 and lowered == local) or (display_name and lowered == display_name.lower()):
        return "密码不能与邮箱或姓名相同"
    if len(set(password)) <= 2:
        return "密码过于简单（重复字符），请换一个"
    return None


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> tuple[bool, str | None]:
    """Check `password`; returns (ok, new_hash) where new_hash is set when parameters changed."""
    try:
        _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if _hasher.check_needs_rehash(stored_hash):
        return True, _hasher.hash(password)
    return True, None


# A hash to verify against when the account does not exist, so timing does not reveal accounts.
DUMMY_HASH = _hasher.hash("not-a-real-password-timing-guard")
