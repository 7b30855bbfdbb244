"""Deduplication: normalise → block → score → classify → cluster → merge.

``deduplicate(records)`` is the pure core (lists of :class:`~reviewflow.records.RecordData`);
:mod:`reviewflow.dedup.review` applies it to a review's database.
"""

from reviewflow.dedup.classify import DedupSettings
from reviewflow.dedup.pipeline import DedupResult, deduplicate

__all__ = ["DedupResult", "DedupSettings", "deduplicate"]
