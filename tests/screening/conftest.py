from __future__ import annotations

from collections.abc import Iterator

import pytest

from reviewflow.screening.decisions import ScreeningRules
from reviewflow.store import Store, open_store
from reviewflow.workspace import Workspace
from tests.screening.helpers import add_records, nsaids_records, structured_records


@pytest.fixture
def review(workspace: Workspace) -> Iterator[tuple[Store, list[int]]]:
    """A workspace's store (both backends) with 60 real NSAIDs records and two structured
    PubMed records; reviewers reviewer1, reviewer2, adjudicator."""
    store = open_store(workspace.database_url())
    ids = add_records(store, structured_records() + nsaids_records(60))
    yield store, ids
    store.dispose()


@pytest.fixture
def rules(workspace: Workspace) -> ScreeningRules:
    return ScreeningRules.from_config(workspace.config)
