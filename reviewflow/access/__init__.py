"""Who may do what: passphrases, signed-in sessions and the role guard (team mode)."""

from reviewflow.access.guard import may_see_unblinded, require_lead, require_self, signed_in
from reviewflow.access.identity import Identity, is_protected

__all__ = [
    "Identity",
    "is_protected",
    "may_see_unblinded",
    "require_lead",
    "require_self",
    "signed_in",
]
