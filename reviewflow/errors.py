"""The one exception type a user may see.

Every error a person can act on is a :class:`ReviewflowError`; the CLI prints its message as one
line on stderr and exits non-zero. Anything else is a bug and is reported as such.
"""

from __future__ import annotations

import re

# a password in a URL (``scheme://user:PASSWORD@host``, up to the last ``@`` of the address, as
# a password may hold an unencoded one) or in a query or connection string (``password=…``)
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):\S*@")
_PARAM_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('[^']*'|[^\s&;'\"]+)", re.IGNORECASE)


class ReviewflowError(Exception):
    """An error with a message a reviewer can act on (name the file and the place)."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(ReviewflowError):
    """Bad input: a file, a column, a value. The message names the file and the place."""


class WorkspaceError(ReviewflowError):
    """No workspace, or an unreadable review.toml."""


class DatabaseError(ReviewflowError):
    """The database cannot be opened, is locked, or is of an unknown kind."""


class AccessError(ReviewflowError):
    """Who is signed in may not do this: a reviewer asking for an unblinded view, a wrong
    passphrase, a session that has ended. The message says who may, and how to sign in."""


class NetworkError(ReviewflowError):
    """A remote service failed after every retry."""


def hide_passwords(text: str) -> str:
    """``text`` with every password in a URL or a ``password=`` setting replaced by ``***``."""
    return _PARAM_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", text))


def user_message(error: BaseException | None) -> str:
    """The one line a person sees for ``error``: its own message if they can act on it,
    otherwise a plain "internal error" naming the exception (a bug). No password in a database
    URL ever reaches it."""
    if isinstance(error, ReviewflowError):
        return hide_passwords(error.message)
    return hide_passwords(f"internal error ({type(error).__name__}: {error})")
