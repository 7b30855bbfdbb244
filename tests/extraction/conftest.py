from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from reviewflow.extraction.forms import Form, find_form
from reviewflow.extraction.studies import StudyInfo, list_studies, sync_studies
from reviewflow.store import Store, open_store
from reviewflow.workspace import Workspace
from tests.extraction.helpers import build_screened_review


@dataclass
class Review:
    workspace: Workspace
    store: Store
    form: Form
    record_ids: list[int]
    studies: list[StudyInfo]


@pytest.fixture
def review(workspace: Workspace) -> Iterator[Review]:
    """A workspace (both backends) with 8 real records, 5 included at full text and given a
    study each; the reference review's form (copied by ``reviewflow init``)."""
    store = open_store(workspace.database_url())
    ids = build_screened_review(store)
    sync_studies(store, workspace.config.reviewers_per_record)
    yield Review(workspace, store, find_form(workspace.forms_dir), ids,
                 list_studies(store, workspace.config.reviewers_per_record))  # fmt: skip
    store.dispose()
