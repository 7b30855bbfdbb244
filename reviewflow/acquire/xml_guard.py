"""XML from outside (PubMed files, E-utilities replies) is data, never instructions to the parser.

Every lxml parse of such XML uses :data:`SAFE`: no DTD is loaded, no entity is resolved, nothing
is fetched over the network. A document that *declares* entities (``<!ENTITY …>`` in its
DOCTYPE: an external entity pointing at ``file:///etc/passwd`` or a URL, a parameter entity, the
nested entities of a "billion laughs") is refused with one line naming it: PubMed XML and NCBI
replies never declare any (their DOCTYPE only names the public DTD, which is not read), so such a
file is not what it claims to be, and refusing it beats storing ``&x;`` as a title.
"""

from __future__ import annotations

from typing import Any

SAFE: dict[str, Any] = {"resolve_entities": False, "load_dtd": False, "no_network": True}

# libxml2's own guards against expansion (it checks them even when entities are not resolved)
_EXPANSION = ("amplification", "entity reference loop", "entity loop", "too many entities")


def declared_entities(element: Any) -> list[str]:
    """The entities (general and parameter) declared in the DOCTYPE of ``element``'s document."""
    dtd = element.getroottree().docinfo.internalDTD
    return [] if dtd is None else [str(e.name) for e in dtd.iterentities()]


def entity_problem(names: list[str]) -> str:
    shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
    return (
        f"declares XML entities ({shown}); reviewflow reads no DTD and expands no entity, "
        "and PubMed XML never declares any"
    )


def expansion_problem(message: str) -> str:
    return f"declares nested XML entities, an expansion bomb ({message}); reviewflow expands none"


def is_expansion_error(message: str) -> bool:
    """True for libxml2's refusal of an entity expansion bomb."""
    low = message.lower()
    return any(m in low for m in _EXPANSION)
