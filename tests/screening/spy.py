"""Recording what the ranking model is trained on (the blinding tests assert on it)."""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow.screening.ranking import Ranker


def record_fits(monkeypatch: pytest.MonkeyPatch) -> list[dict[int, bool]]:
    """Every label set passed to :meth:`Ranker.fit` from now on (record index -> include)."""
    seen: list[dict[int, bool]] = []
    fit = Ranker.fit

    def recording_fit(self: Ranker, labels: Any) -> bool:
        seen.append(dict(labels))
        return fit(self, labels)

    monkeypatch.setattr(Ranker, "fit", recording_fit)
    return seen
