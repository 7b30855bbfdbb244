"""Passphrases are stored only as a slow, salted scrypt hash (RFC 7914), never as themselves.

The stored form is ``scrypt$N$r$p$SALT$HASH`` (base64), so the cost can be raised later and old
hashes still verify. N = 2**15, r = 8 takes about 0.1 s and 32 MiB per guess: slow for someone
who copied the database and tries a dictionary, quick enough for a person signing in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from reviewflow.errors import InputError

N, R, P, DKLEN = 2**15, 8, 1, 32
MIN_LENGTH = 8


def _scrypt(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=DKLEN, maxmem=256 * 1024**2
    )


def check_strength(passphrase: str) -> None:
    """Refuse passphrases that would not survive a guess (the message never repeats them)."""
    if len(passphrase) < MIN_LENGTH:
        raise InputError(f"the passphrase is too short: use at least {MIN_LENGTH} characters")
    if passphrase.strip() != passphrase:
        raise InputError("the passphrase starts or ends with a space; leave those out")


def hash_passphrase(passphrase: str) -> str:
    salt = os.urandom(16)
    digest = _scrypt(passphrase, salt, N, R, P)
    b64 = base64.b64encode
    return f"scrypt${N}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_passphrase(passphrase: str, stored: str) -> bool:
    """True when ``passphrase`` matches ``stored``; compared in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = _scrypt(passphrase, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# A hash to check against when the name is unknown, so that a wrong name and a wrong
# passphrase take the same time (made once, on first use).
_DUMMY: list[str] = []


def burn_time(passphrase: str) -> None:
    """Spend what a real check costs, for a name that has no passphrase."""
    if not _DUMMY:
        _DUMMY.append(hash_passphrase("not a passphrase of anyone"))
    verify_passphrase(passphrase, _DUMMY[0])
