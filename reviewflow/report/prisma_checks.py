"""The checks under a PRISMA flow: that every box adds up, and what is not final yet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewflow.report.prisma import PrismaCounts

NO_REASON = "Reason not recorded"
UNKNOWN_SOURCE = "Source not recorded"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _unfinished(pending: int, conflicts: int, what: str) -> str:
    parts = []
    if pending:
        parts.append(f"{_plural(pending, what)} awaiting decisions")
    if conflicts:
        parts.append(f"{_plural(conflicts, 'conflict')} to resolve")
    return ", ".join(parts)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def flow_checks(
    c: PrismaCounts,
    *,
    records: int,
    orphans: int,
    overlap: int,
    no_reason: int,
    maybe_pairs: int,
    unfinished_runs: list[str],
) -> list[Check]:
    cols = [c.databases, c.other] if c.has_other else [c.databases]
    identified = sum(x.identified for x in cols)
    checks = [
        Check(
            "identified records add up",
            identified == records == sum(s.n for s in c.sources),
            f"{identified} records identified = {records} records in the database",
        )
    ]
    for name, x in zip(("databases and registers", "other methods"), cols, strict=False):
        before = x.identified - x.duplicates - x.removed_automation - x.removed_other
        checks.append(
            Check(
                f"{name}: records screened add up",
                before == x.screened,
                f"{x.identified} identified - {x.duplicates} duplicates - "
                f"{x.removed_automation + x.removed_other} removed before screening "
                f"= {before}; {x.screened} screened",
            )
        )
        after = x.screened_excluded + x.sought + x.screening_pending + x.screening_conflicts
        checks.append(
            Check(
                f"{name}: title/abstract outcomes add up",
                after == x.screened,
                f"{x.screened} screened = {x.screened_excluded} excluded + {x.sought} sought "
                f"+ {x.screening_pending + x.screening_conflicts} awaiting a decision",
            )
        )
        checks.append(
            Check(
                f"{name}: full-text outcomes add up",
                x.sought - x.not_retrieved
                == x.assessed
                == x.assessed_excluded
                + x.included_reports
                + x.assessment_pending
                + x.assessment_conflicts
                and x.assessed_excluded == sum(n for _, n in x.exclusion_reasons),
                f"{x.sought} sought - {x.not_retrieved} not retrieved = {x.assessed} assessed "
                f"= {x.assessed_excluded} excluded + {x.included_reports} included "
                f"+ {x.assessment_pending + x.assessment_conflicts} awaiting a decision",
            )
        )
    pending = sum(x.screening_pending for x in cols)
    conflicts = sum(x.screening_conflicts for x in cols)
    checks.append(
        Check(
            "title/abstract screening complete",
            pending == conflicts == 0,
            "every record screened has an outcome"
            if pending == conflicts == 0
            else "title/abstract: " + _unfinished(pending, conflicts, "record"),
        )
    )
    pending = sum(x.assessment_pending for x in cols)
    conflicts = sum(x.assessment_conflicts for x in cols)
    checks.append(
        Check(
            "full-text assessment complete",
            pending == conflicts == 0,
            "every report assessed has an outcome"
            if pending == conflicts == 0
            else "full text: " + _unfinished(pending, conflicts, "report"),
        )
    )
    checks.append(
        Check(
            "every full-text exclusion has a reason",
            no_reason == 0,
            "all reasons recorded"
            if no_reason == 0
            else f"{_plural(no_reason, 'report')} excluded without a reason "
            f"(shown as '{NO_REASON}')",
        )
    )
    checks.append(
        Check(
            "every included report belongs to a study",
            c.reports_without_study == 0,
            f"{c.reports} reports of {c.studies} studies"
            if c.reports_without_study == 0
            else f"{_plural(c.reports_without_study, 'included report')} not linked to a study "
            "yet; each is counted as its own study",
        )
    )
    checks.append(
        Check(
            "possible duplicates checked",
            maybe_pairs == 0,
            "no pair left in the duplicate queue"
            if maybe_pairs == 0
            else f"{_plural(maybe_pairs, 'possible duplicate pair')} still to check "
            "(reviewflow dedup)",
        )
    )
    checks.append(
        Check(
            "every search and import finished",
            not unfinished_runs,
            "all runs complete"
            if not unfinished_runs
            else "unfinished: " + ", ".join(unfinished_runs),
        )
    )
    checks.append(
        Check(
            "every record has a source",
            orphans == 0,
            "every record came from a logged search or import"
            if orphans == 0
            else f"{_plural(orphans, 'record')} with no search or import (shown as "
            f"'{UNKNOWN_SOURCE}')",
        )
    )
    if overlap:
        checks.append(
            Check(
                "duplicates removed before screening counted once",
                True,
                f"{_plural(overlap, 'record')} both a duplicate and removed before screening: "
                "counted as duplicates",
            )
        )
    if c.has_other:
        o = c.other
        checks.append(
            Check(
                "other methods: every record identified was sought for retrieval",
                o.identified == o.sought,
                f"other methods: {o.identified} records identified, {o.sought} sought for "
                f"retrieval; not sought: {_plural(o.duplicates, 'duplicate')}, {o.removed_automation + o.removed_other} removed before "
                f"screening, {o.screened_excluded} excluded on title/abstract, "
                f"{o.screening_pending + o.screening_conflicts} awaiting screening",
            )
        )
    return checks
